import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JiraMapping, UnmappedCategory } from '../../domain/connector.mapping.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import type { MapContext } from '../connector.types.js';
import { jiraWebhooks } from './jira.webhook.js';

const ROOT = join(process.cwd(), 'test/fixtures/external/webhooks/jira-and-gitlab-mobitel');
const SECRET = 'test-secret-jira';

const fixtureFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'gitlab' ? [] : fixtureFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });

const FILES = fixtureFiles(ROOT);
const raw = (name: string): Buffer => readFileSync(join(ROOT, name));
const sign = (body: Buffer, secret = SECRET): string =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

const mapping: JiraMapping = {
  projects: { INDEV: { team: 'platform', component: 'api' }, BBCOM: { team: 'web' }, DTP: { team: 'platform' } },
};

const context = (): MapContext<JiraMapping> & { seen: [UnmappedCategory, string][] } => {
  const seen: [UnmappedCategory, string][] = [];
  return { mapping, unmapped: (category, value) => seen.push([category, value]), seen };
};

/** Describes and maps a fixture as the webhook service would. */
const deliver = (name: string, ctx = context()): { events: EventInput[] | null; type: string } => {
  const body = raw(name);
  const payload: unknown = JSON.parse(body.toString('utf8'));
  const { eventType } = jiraWebhooks.describe(payload, body, {}, new Date());
  const events = jiraWebhooks.map(eventType, payload, ctx);
  if (events) {
    const checked = validateEventBatch(events);
    expect(checked.ok, JSON.stringify(checked)).toBe(true);
  }
  return { events, type: eventType };
};

describe('jiraWebhooks.verify', () => {
  it('accepts every Jira fixture signed with the secret', async () => {
    expect(FILES.length).toBeGreaterThanOrEqual(17);
    for (const file of FILES) {
      const body = readFileSync(file);
      await expect(
        jiraWebhooks.verify(SECRET, body, { 'x-hub-signature': sign(body) }),
        relative(ROOT, file),
      ).resolves.toBeUndefined();
    }
  });

  it('rejects missing, forged, malformed and stale signatures and altered bodies', async () => {
    const body = raw('issue/updated/status-changed.json');
    const altered = Buffer.from(body.toString('utf8').replace('In Progress', 'Done'));
    const cases: Record<string, string | undefined>[] = [
      {},
      { 'x-hub-signature': sign(body, 'another-secret') },
      { 'x-hub-signature': sign(body).replace('sha256=', 'sha1=') },
      { 'x-hub-signature': 'sha256=abc' },
      { 'x-hub-signature': 'sha256=' + 'zz'.repeat(32) },
      { 'x-hub-signature': sign(altered) },
    ];
    for (const headers of cases) {
      await expect(jiraWebhooks.verify(SECRET, body, headers)).rejects.toMatchObject({
        code: 'LANES_WEBHOOK_SIGNATURE',
      });
    }
  });
});

describe('jiraWebhooks.describe', () => {
  it('uses the Atlassian identifier, else a hash of the body', () => {
    const body = raw('issue/updated/status-changed.json');
    const payload: unknown = JSON.parse(body.toString('utf8'));
    expect(jiraWebhooks.describe(payload, body, { 'x-atlassian-webhook-identifier': 'abc-1' }, new Date())).toEqual({
      deliveryId: 'abc-1',
      eventType: 'jira:issue_updated',
    });
    const hashed = jiraWebhooks.describe(payload, body, {}, new Date());
    expect(hashed.deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(jiraWebhooks.describe(payload, body, {}, new Date()).deliveryId).toBe(hashed.deliveryId);
  });

  it('refuses payloads that are not Jira webhooks', () => {
    for (const payload of [null, [], { webhookEvent: 3 }, { object_kind: 'issue' }]) {
      expect(() => jiraWebhooks.describe(payload, Buffer.from('{}'), {}, new Date())).toThrow(
        expect.objectContaining({ code: 'LANES_VALIDATION' }),
      );
    }
  });
});

describe('jiraWebhooks.map', () => {
  it('maps every fixture to valid events or to "not mapped"', () => {
    const types = new Map<string, number | null>();
    for (const file of FILES) {
      const { events, type } = deliver(relative(ROOT, file));
      types.set(relative(ROOT, file), events === null ? null : events.length);
      expect(type).toBeTruthy();
    }
    expect(Object.fromEntries(types)).toEqual({
      'epic/created.json': 1,
      'project/created.json': null,
      'issue/created.json': 1,
      'issue/updated/issue-assigned.json': 1,
      'issue/updated/move-issue.json': 4,
      'issue/updated/status-changed.json': 1,
      'issue/updated/commented-changed.json': 0,
      'issue/updated/commented.json': 1,
      'issue/updated/rank-changed.json': 0,
      'issue/updated/description-update.json': 0,
      'issue/updated/generic.json': 3,
      'issuelink/created.json': null,
      'issuelink/deleted.json': null,
      'issuelink/created_relates.json': null,
      'comment/created.json': 0,
      'comment/updated.json': null,
      'comment/deleted.json': null,
    });
  });

  it('a status change: To Do → In Progress by jira_test', () => {
    const [event] = deliver('issue/updated/status-changed.json').events!;
    expect(event).toMatchObject({
      source: 'jira',
      sourceEventId: 'INDEV-6/changelog/34911/0',
      occurredAt: '2019-01-30T12:51:33.199Z',
      actor: { kind: 'jira', id: '5bcede20b3e37a158c364fef', name: 'jira_test' },
      item: {
        key: 'INDEV-6',
        title: 'Prueba de creación de tareas en un proyecto público',
        team: 'platform',
        component: 'api',
        priority: 'P1',
        state: 'in_progress',
        assignee: '5b912f1c1aa25f2be7d36947',
        url: 'https://jira.test-example.ru/browse/INDEV-6',
      },
      change: {
        kind: 'field_changed',
        field: 'state',
        from: 'scheduled',
        to: 'in_progress',
        data: { sourceState: 'In Progress', fromSourceState: 'To Do' },
      },
    });
  });

  it('an assignment: nobody → Иванов Иван Иванович', () => {
    const [event] = deliver('issue/updated/issue-assigned.json').events!;
    expect(event).toMatchObject({
      sourceEventId: 'INDEV-242/changelog/76941/0',
      actor: { kind: 'jira', id: '5c07f55ba1b46046f530e0f3', name: 'jira_test' },
      change: {
        kind: 'field_changed',
        field: 'assignee',
        from: null,
        to: '5b912e21fa38ae2c896099ae',
        data: { toName: 'Иванов Иван Иванович' },
      },
    });
  });

  it('a move TCP-2 → INDEV-130: type and status change, the old key is closed and linked from the new one', () => {
    const ctx = context();
    const events = deliver('issue/updated/move-issue.json', ctx).events!;
    expect(
      events.map((e) => [e.sourceEventId, e.item?.key, e.change.kind, e.change.field ?? e.change.target, e.change.to]),
    ).toEqual([
      ['INDEV-130/changelog/43940/0', 'INDEV-130', 'field_changed', 'kind', 'feature'],
      ['INDEV-130/changelog/43940/2', 'INDEV-130', 'field_changed', 'state', 'scheduled'],
      ['INDEV-130/changelog/43940/4', 'INDEV-130', 'linked', 'TCP-2', undefined],
      ['INDEV-130/changelog/43940/4/moved', 'TCP-2', 'closed', undefined, 'duplicate'],
    ]);
    expect(events[3]!.change.data).toEqual({ resolution: 'moved', movedTo: 'INDEV-130' });
    // project and Workflow are plumbing Lanes ignores on purpose; nothing is counted as unmapped.
    expect(ctx.seen.filter(([c]) => c === 'field').map(([, v]) => v)).toEqual([]);
  });

  it('an unknown status name falls back to the status category of the issue’s current status', () => {
    const ctx = context();
    const [event] = deliver('issue/updated/generic.json', ctx).events!;
    expect(event!.change).toMatchObject({ field: 'state', to: 'new', data: { sourceState: 'Paused' } });
    expect(event!.actor).toEqual({ kind: 'jira', id: 'jira_test', name: 'jira_test' });
    expect(event!.item?.url).toBe('https://jira.test-example.ru/jira/browse/BBCOM-1233');
    expect(ctx.seen).not.toContainEqual(['field', 'description']);
  });

  it('a comment on an update becomes a commented event with the comment’s author and time', () => {
    const [event] = deliver('issue/updated/commented.json').events!;
    expect(event).toMatchObject({
      sourceEventId: 'BBCOM-956/comment/31023',
      occurredAt: '2017-11-29T16:37:19.584Z',
      actor: { kind: 'jira', id: 'jira_test' },
      item: { key: 'BBCOM-956', team: 'web' },
      change: { kind: 'commented', text: '111' },
    });
  });

  it('comment_created with its issue is commented; without one it is counted, not invented', () => {
    const ctx = context();
    expect(deliver('comment/created.json', ctx).events).toEqual([]);
    expect(ctx.seen).toEqual([['event_type', 'comment_created without issue']]);

    const payload = JSON.parse(raw('comment/updated.json').toString('utf8')) as Record<string, unknown>;
    const events = jiraWebhooks.map('comment_created', { ...payload, webhookEvent: 'comment_created' }, context())!;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      sourceEventId: 'INDEV-28/comment/10757',
      occurredAt: '2018-12-19T10:33:48.447Z',
      actor: { kind: 'jira', id: '5b912e21fa38ae2c896099ae', name: 'Иванов Иван Иванович' },
      change: { kind: 'commented', text: '12345' },
    });
  });

  it('issue_created: the snapshot of the new issue, by its creator', () => {
    const [task] = deliver('issue/created.json').events!;
    expect(task).toMatchObject({
      sourceEventId: 'BBCOM-1398/created',
      occurredAt: '2018-01-11T10:08:03.317Z',
      actor: { kind: 'jira', id: '5b912f5c8a96e82b9549361c', name: 'Иванов Иван Иванович' },
      item: { key: 'BBCOM-1398', kind: 'task', state: 'new', priority: 'P3', team: 'web' },
      change: { kind: 'created' },
    });
    const [epic] = deliver('epic/created.json').events!;
    expect(epic!.item).toMatchObject({ key: 'DTP-1', kind: 'feature', state: 'scheduled', title: 'Тестовый эпик' });
  });

  it('counts issues of projects the mapping does not know', () => {
    const ctx: MapContext<JiraMapping> & { seen: [UnmappedCategory, string][] } = {
      ...context(),
      mapping: {} as JiraMapping,
    };
    const seen: [UnmappedCategory, string][] = [];
    ctx.unmapped = (c, v) => seen.push([c, v]);
    const events = jiraWebhooks.map(
      'jira:issue_updated',
      JSON.parse(raw('issue/updated/status-changed.json').toString('utf8')),
      ctx,
    )!;
    expect(events[0]!.item?.team).toBeUndefined();
    expect(seen).toContainEqual(['scope', 'INDEV']);
  });
});
