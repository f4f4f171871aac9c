import { describe, expect, it } from 'vitest';
import type { JiraMapping, UnmappedCategory } from '../../domain/connector.mapping.js';
import { validateEventBatch } from '../../domain/event.js';
import { isChangelogTruncated, jiraActor, mapJiraIssue, plainText, type JiraIssue } from './jira.mapper.js';

const mapping: JiraMapping = {
  projects: { PAY: { team: 'payments', component: 'checkout' } },
  fields: { severity: 'customfield_10050', story_points: 'customfield_10024', customer: 'customfield_10060' },
  labels: { 'needs-triage': { ignore: true } },
};

const ctx = () => {
  const seen: [UnmappedCategory, string][] = [];
  return { mapping, unmapped: (c: UnmappedCategory, v: string) => seen.push([c, v]), seen };
};

const alice = { accountId: 'acc-alice', displayName: 'Alice' };
const bob = { accountId: 'acc-bob', displayName: 'Bob' };

/** PAY-7 as it is now, after four changelog entries. */
const issue: JiraIssue = {
  id: '1007',
  key: 'PAY-7',
  self: 'https://acme.atlassian.net/rest/api/3/issue/1007',
  fields: {
    project: { key: 'PAY' },
    summary: 'Refunds fail for EUR',
    issuetype: { name: 'Bug' },
    status: { id: '3', name: 'In Progress', statusCategory: { key: 'indeterminate' } },
    priority: { name: 'High' },
    assignee: bob,
    creator: alice,
    created: '2026-01-05T09:00:00.000+0100',
    labels: ['regression', 'sev1', 'needs-triage'],
    customfield_10050: { value: 'Major' },
    customfield_10024: 5,
    customfield_10060: [{ value: 'Globex' }],
    comment: {
      comments: [
        {
          id: '501',
          author: bob,
          created: '2026-01-06T10:00:00.000+0100',
          body: { type: 'doc', content: [{ type: 'paragraph', content: [{ type: 'text', text: 'On it.' }] }] },
        },
      ],
    },
  },
  changelog: {
    startAt: 0,
    maxResults: 100,
    total: 4,
    histories: [
      {
        id: '9002',
        author: bob,
        created: '2026-01-06T09:30:00.000+0100',
        items: [
          { field: 'status', fieldId: 'status', from: '1', fromString: 'To Do', to: '3', toString: 'In Progress' },
          { field: 'Story Points', fieldId: 'customfield_10024', from: null, fromString: '3', to: null, toString: '5' },
        ],
      },
      {
        id: '9001',
        author: alice,
        created: '2026-01-05T09:10:00.000+0100',
        items: [
          {
            field: 'summary',
            fieldId: 'summary',
            from: null,
            fromString: 'Refunds fail',
            to: null,
            toString: 'Refunds fail for EUR',
          },
          { field: 'priority', fieldId: 'priority', from: '3', fromString: 'Medium', to: '2', toString: 'High' },
          {
            field: 'labels',
            fieldId: 'labels',
            from: null,
            fromString: 'needs-triage',
            to: null,
            toString: 'needs-triage regression sev1 weird',
          },
        ],
      },
      {
        id: '9003',
        author: alice,
        created: '2026-01-06T11:00:00.000+0100',
        items: [
          {
            field: 'assignee',
            fieldId: 'assignee',
            from: 'acc-alice',
            fromString: 'Alice',
            to: 'acc-bob',
            toString: 'Bob',
          },
          {
            field: 'labels',
            fieldId: 'labels',
            from: null,
            fromString: 'needs-triage regression sev1 weird',
            to: null,
            toString: 'needs-triage regression sev1',
          },
        ],
      },
      {
        id: '9004',
        author: null,
        created: '2026-01-06T12:00:00.000+0100',
        items: [
          {
            field: 'Flagged',
            fieldId: 'customfield_10021',
            from: null,
            fromString: null,
            to: null,
            toString: 'Impediment',
          },
        ],
      },
    ],
  },
};

describe('mapJiraIssue', () => {
  const c = ctx();
  const events = mapJiraIssue(issue, c);

  it('produces valid events in time order, created first', () => {
    expect(validateEventBatch(events).ok).toBe(true);
    const times = events.map((e) => e.occurredAt);
    expect([...times].sort()).toEqual(times);
    expect(events[0]!.change.kind).toBe('created');
  });

  it('creates the issue with the values it had before its changelog', () => {
    expect(events[0]).toMatchObject({
      sourceEventId: 'PAY-7/created',
      occurredAt: '2026-01-05T08:00:00.000Z',
      actor: { kind: 'jira', id: 'acc-alice', name: 'Alice' },
      item: {
        key: 'PAY-7',
        title: 'Refunds fail',
        kind: 'bug',
        state: 'scheduled',
        priority: 'P3',
        severity: 'high',
        assignee: 'acc-alice',
        team: 'payments',
        component: 'checkout',
        customer: 'Globex',
        url: 'https://acme.atlassian.net/browse/PAY-7',
      },
      change: { data: { labels: ['needs-triage'], estimate: '3', sourceState: 'To Do' } },
    });
  });

  it('replays labels with their meaning, and counts what it cannot translate', () => {
    const labels = events.filter((e) => e.sourceEventId.startsWith('PAY-7/changelog/9001/2'));
    expect(labels.map((e) => [e.sourceEventId, e.change.kind, e.change.target ?? e.change.field, e.change.to])).toEqual(
      [
        ['PAY-7/changelog/9001/2/label/regression', 'label_added', 'regression', undefined],
        ['PAY-7/changelog/9001/2/label/regression/kind', 'field_changed', 'kind', 'bug'],
        ['PAY-7/changelog/9001/2/label/sev1', 'label_added', 'sev1', undefined],
        ['PAY-7/changelog/9001/2/label/sev1/severity', 'field_changed', 'severity', 'critical'],
        ['PAY-7/changelog/9001/2/label/weird', 'label_added', 'weird', undefined],
      ],
    );
    const removed = events.find((e) => e.change.kind === 'label_removed');
    expect(removed).toMatchObject({ sourceEventId: 'PAY-7/changelog/9003/1/label/weird', change: { target: 'weird' } });
    expect(c.seen).toContainEqual(['label', 'weird']);
    expect(c.seen).not.toContainEqual(['field', 'Flagged']);
    expect(c.seen.filter(([, v]) => v === 'needs-triage')).toEqual([]);
  });

  it('maps status, estimate, assignee and comments with their authors', () => {
    const pick = (id: string) => events.find((e) => e.sourceEventId === id)!;
    expect(pick('PAY-7/changelog/9002/0').change).toMatchObject({
      field: 'state',
      from: 'scheduled',
      to: 'in_progress',
    });
    expect(pick('PAY-7/changelog/9002/1').change).toMatchObject({ field: 'estimate', from: '3', to: '5' });
    expect(pick('PAY-7/changelog/9003/0')).toMatchObject({
      actor: { id: 'acc-alice' },
      change: { field: 'assignee', from: 'acc-alice', to: 'acc-bob', data: { toName: 'Bob' } },
    });
    expect(pick('PAY-7/comment/501')).toMatchObject({
      actor: { id: 'acc-bob' },
      change: { kind: 'commented', text: 'On it.' },
    });
  });
});

describe('helpers', () => {
  it('names actors by account id, Data Center name, or the id in `self`; nobody is null', () => {
    expect(jiraActor({ accountId: '', self: 'https://x/rest/api/3/user?accountId=abc', displayName: 'A' })).toEqual({
      kind: 'jira',
      id: 'abc',
      name: 'A',
    });
    expect(jiraActor({ name: 'jdoe' })).toEqual({ kind: 'jira', id: 'jdoe' });
    expect(jiraActor(null)).toBeNull();
    expect(jiraActor({ displayName: 'Anonymous' })).toBeNull();
  });

  it('reads Atlassian Document bodies as text', () => {
    const doc = {
      type: 'doc',
      content: [
        {
          type: 'paragraph',
          content: [{ type: 'text', text: 'a' }, { type: 'hardBreak' }, { type: 'text', text: 'b' }],
        },
        { type: 'paragraph', content: [{ type: 'text', text: 'c' }] },
      ],
    };
    expect(plainText(doc)).toBe('a\nb\nc');
  });

  it('knows a truncated changelog', () => {
    expect(isChangelogTruncated(issue)).toBe(false);
    expect(isChangelogTruncated({ ...issue, changelog: { ...issue.changelog!, total: 150 } })).toBe(true);
  });
});

describe('mapJiraIssue on Data Center payloads, moves and odd values', () => {
  /** A Data Center issue (users by name and key, no fieldId on changelog items) moved from OPS-3 to PAY-9. */
  const moved: JiraIssue = {
    id: '20009',
    key: 'PAY-9',
    self: 'https://jira.acme.example/rest/api/2/issue/20009',
    fields: {
      project: { key: 'PAY' },
      summary: `<img src=x onerror=alert(1)> '; DROP TABLE items; -- ${'long '.repeat(200)}`,
      issuetype: { name: 'Bug' },
      status: { id: 10001, name: 'Done', statusCategory: { key: 'done' } },
      priority: { name: 'Major' },
      assignee: { name: 'jdoe', key: 'JIRAUSER10100', displayName: 'J. Doe' },
      reporter: { name: 'asmith', key: 'asmith', displayName: 'A. Smith' },
      created: '2025-03-01T10:00:00.000+0000',
      labels: ['x'.repeat(600)],
      comment: {
        comments: [
          { id: 77, author: null, created: '2025-03-02T10:00:00.000+0000', body: 'deleted author' },
          { id: '78', created: 'yesterday', body: 'unreadable time' },
        ],
      },
    },
    changelog: {
      histories: [
        {
          id: '300',
          author: { name: 'asmith', key: 'asmith' },
          created: '2025-03-02T09:00:00.000+0000',
          items: [
            { field: 'project', from: '10000', fromString: 'Operations', to: '10001', toString: 'Payments' },
            { field: 'Key', from: null, fromString: 'OPS-3', to: null, toString: 'PAY-9' },
            { field: 'status', from: 10000, fromString: 'Open', to: 10001, toString: 'Done' } as never,
            { field: 'assignee', from: null, fromString: null, to: 'jdoe', toString: 'J. Doe' },
            { field: 'priority', from: '3', fromString: 'Minor', to: '2', toString: 'Major' },
            { field: 'Sprint', from: '', fromString: '', to: '12', toString: 'Sprint 1, Sprint 2' },
            { field: 'Story Points', from: null, fromString: null, to: null, toString: '8' },
            { field: 'Severity', from: null, fromString: 'Minor', to: null, toString: 'Critical' },
            { field: 'Link', from: null, fromString: null, to: '', toString: 'relates to' },
          ],
        },
        { id: '301', created: null, items: [] } as never,
      ],
    },
  };

  it('keeps every event valid, clips text and reports what it cannot read', () => {
    const c = ctx();
    const events = mapJiraIssue(moved, c);
    const checked = validateEventBatch(events);
    expect(checked.ok ? [] : checked.rejections).toEqual([]);
    expect(events[0]!.item!.title!.length).toBe(500);
    expect(events[0]!.actor).toEqual({ kind: 'jira', id: 'asmith', name: 'A. Smith' });
    expect(events.find((e) => e.sourceEventId === 'PAY-9/comment/77')?.actor).toBeNull();
    expect(c.seen).toContainEqual(['event_type', 'comment without id or time']);
    expect(c.seen).toContainEqual(['event_type', 'changelog history without id or time']);
    expect(c.seen).toContainEqual(['field', 'Link']);
  });

  it('maps changelog items without fieldId (Data Center) by their field names', () => {
    const events = mapJiraIssue(moved, ctx()).filter((e) => e.sourceEventId.startsWith('PAY-9/changelog/300/'));
    const fields = events.map((e) => [e.change.kind, e.change.field ?? e.change.target, e.change.to ?? null]);
    expect(fields).toEqual([
      ['linked', 'OPS-3', null],
      ['closed', undefined, 'duplicate'],
      ['field_changed', 'state', 'done'],
      ['field_changed', 'assignee', 'jdoe'],
      ['field_changed', 'priority', 'P2'],
      ['field_changed', 'sprint', 'Sprint 2'],
      ['field_changed', 'estimate', '8'],
      // The severity custom field is mapped by id, but Data Center names it only: matched by its name.
      ['field_changed', 'severity', 'critical'],
    ]);
  });

  it('closes the old key of an issue moved to another project and links the new key to it', () => {
    const events = mapJiraIssue(moved, ctx());
    const closed = events.find((e) => e.sourceEventId === 'PAY-9/changelog/300/1/moved');
    expect(closed).toMatchObject({
      item: { key: 'OPS-3' },
      actor: { kind: 'jira', id: 'asmith' },
      change: { kind: 'closed', to: 'duplicate', data: { resolution: 'moved', movedTo: 'PAY-9' } },
    });
    expect(events.find((e) => e.sourceEventId === 'PAY-9/changelog/300/1')).toMatchObject({
      item: { key: 'PAY-9' },
      change: { kind: 'linked', target: 'OPS-3', data: { relation: 'moved_from' } },
    });
  });

  it('gives the same ids when the same issue is mapped twice, and bounds long ones', () => {
    const a = mapJiraIssue(structuredClone(moved), ctx()).map((e) => e.sourceEventId);
    const b = mapJiraIssue(structuredClone(moved), ctx()).map((e) => e.sourceEventId);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
    expect(Math.max(...a.map((id) => id.length))).toBeLessThanOrEqual(200);
  });

  it('refuses an issue without a usable key or creation time with an AppError', () => {
    expect(() => mapJiraIssue({ ...moved, key: 'not a key' }, ctx())).toThrow(/Not a Jira issue key/);
    expect(() => mapJiraIssue({ ...moved, fields: { ...moved.fields, created: 12 } }, ctx())).toThrow(
      /not a Jira timestamp/,
    );
  });
});
