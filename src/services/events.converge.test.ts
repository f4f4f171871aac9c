import { join } from 'node:path';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseImportMap } from '../connectors/file/import.map.js';
import { mapImportFile } from '../connectors/file/import.mapper.js';
import { devlakeRaw, DEVLAKE_REPO } from '../connectors/github/github.fixtures.test-helper.js';
import { mapRestIssue } from '../connectors/github/github.mapper.js';
import {
  githubIssueSchema,
  githubTimelineEventSchema,
  type GithubIssue,
  type GithubTimelineEvent,
} from '../connectors/github/github.schema.js';
import { githubWebhooks } from '../connectors/github/github.webhook.js';
import type { GithubMapping } from '../domain/connector.mapping.js';
import { factOf } from '../domain/event.converge.js';
import type { EventInput } from '../domain/event.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { listItemEvents } from '../store/event.repository.js';
import { loadCharterFile } from './charter.service.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { appendEvents } from './events.service.js';

/**
 * One fact, one event, whichever way it arrives (issue 16). The real history
 * of panjf2000/ants's issues in Apache DevLake's recorded data (labels, the
 * issue template's assignments, a rename, closes; licence in
 * test/fixtures/external/devlake-e2e) reaches Lanes four ways: the backfill
 * with each issue's timeline, the backfill from the issue alone (a timeline
 * answered 304: its state and `closed_at`), the webhooks GitHub sent as it
 * happened (rebuilt from the timeline in the payloads' real shape), and an
 * export of the same history imported as change-history rows. Issue #217 is
 * the case reported: its `closed_at` (14:45:35) is a second before the
 * timeline's close (14:45:36).
 */

const NOW = new Date('2026-06-01T00:00:00Z');
const DEVLAKE = join(process.cwd(), 'test/fixtures/external/devlake-e2e');
const noteUnmapped = (): void => undefined;

interface History {
  issue: GithubIssue;
  timeline: GithubTimelineEvent[];
}

/** The ants issues that have a history, with their timelines in order. */
const antsHistories = (): History[] => {
  type RawEvent = GithubTimelineEvent & { issue: Record<string, unknown> & { number: number } };
  const timeline = devlakeRaw<RawEvent>('_raw_github_api_events');
  const issues = new Map<number, GithubIssue>();
  for (const raw of devlakeRaw('_raw_github_api_issues')) {
    const issue = githubIssueSchema.parse(raw);
    issues.set(issue.number, issue);
  }
  // Issues the issue list missed are embedded in their events, as GitHub's `/issues/events` gives them.
  for (const e of timeline)
    if (!issues.has(e.issue.number)) issues.set(e.issue.number, githubIssueSchema.parse(e.issue));
  const out: History[] = [];
  for (const issue of issues.values()) {
    if (issue.pull_request) continue;
    const own = timeline
      .filter((e) => e.issue.number === issue.number)
      .map(({ issue: _issue, ...rest }) => githubTimelineEventSchema.parse(rest))
      .sort((a, b) => a.created_at!.localeCompare(b.created_at!) || a.id! - b.id!);
    if (own.length > 0) out.push({ issue, timeline: own });
  }
  return out;
};

const TRACKED = new Set(['labeled', 'unlabeled', 'assigned', 'unassigned', 'closed', 'reopened', 'renamed']);

/** The issue as it stood at each step of its timeline, rolled back from how it stands now. */
const issueStates = ({ issue, timeline }: History): GithubIssue[] => {
  const steps = timeline.filter((e) => TRACKED.has(e.event));
  let state: GithubIssue = { ...issue };
  const out: GithubIssue[] = [state];
  for (const ev of [...steps].reverse()) {
    const labels = (state.labels ?? []).map((l) => (typeof l === 'string' ? { name: l } : l));
    const assignees = state.assignees ?? [];
    const prev: GithubIssue = { ...state };
    if (ev.event === 'labeled') prev.labels = labels.filter((l) => l.name !== ev.label!.name);
    if (ev.event === 'unlabeled') prev.labels = [...labels, ev.label!];
    if (ev.event === 'assigned') prev.assignees = assignees.filter((a) => a.login !== ev.assignee!.login);
    if (ev.event === 'unassigned') prev.assignees = [...assignees, ev.assignee!];
    if (ev.event === 'closed') Object.assign(prev, { state: 'open', closed_at: null, state_reason: null });
    if (ev.event === 'reopened') Object.assign(prev, { state: 'closed' });
    if (ev.event === 'renamed') prev.title = ev.rename!.from;
    prev.assignee = prev.assignees?.[0] ?? null;
    out.unshift(prev);
    state = prev;
  }
  return out;
};

/** The `issues` webhooks GitHub sent for one issue's history, mapped by the webhook provider. */
const webhookEvents = (history: History, mapping: GithubMapping): EventInput[][] => {
  const states = issueStates(history);
  const repository = { full_name: DEVLAKE_REPO, name: 'ants', owner: { login: 'panjf2000' } };
  const deliver = (payload: Record<string, unknown>): EventInput[] =>
    githubWebhooks.map('issues', { repository, ...payload }, { mapping, unmapped: noteUnmapped }) ?? [];
  const { issue } = history;
  const opened = { ...states[0]!, updated_at: issue.created_at };
  const out = [deliver({ action: 'opened', issue: opened, sender: issue.user })];
  const steps = history.timeline.filter((e) => TRACKED.has(e.event));
  steps.forEach((ev, i) => {
    const last = i === steps.length - 1;
    // GitHub dates a close by `closed_at`, which can be a second before the timeline's event.
    const closedAt = ev.event === 'closed' ? (last ? issue.closed_at : ev.created_at) : states[i + 1]!.closed_at;
    const after = { ...states[i + 1]!, updated_at: ev.created_at, closed_at: closedAt };
    const sender = ev.event === 'assigned' || ev.event === 'unassigned' ? (ev.assigner ?? ev.actor) : ev.actor;
    const action = ev.event === 'renamed' ? 'edited' : ev.event;
    const extra =
      ev.event === 'renamed'
        ? { changes: { title: { from: ev.rename!.from } } }
        : { label: ev.label, assignee: ev.assignee, milestone: ev.milestone };
    out.push(deliver({ action, issue: after, sender, ...extra }));
  });
  return out;
};

/** The same history as an export: change-history rows and an item file, imported under its own source. */
const IMPORT_MAP = `source: ants-export
shape: history
key: number
occurred_at: at
actor: { column: actor, kind: github }
team: { value: ants }
component: { value: ants }
history:
  field: field
  from: from
  to: to
  fields: { labels: labels, assignee: assignee, title: title, status: state }
item:
  created_at: created
  reporter: reporter
fields:
  title: title
  state: { column: status, values: { open: new, closed: done } }
`;

const csvCell = (v: string | null | undefined): string => `"${(v ?? '').replaceAll('"', '""')}"`;
const labelList = (labels: GithubIssue['labels']): string =>
  (labels ?? []).map((l) => `[${typeof l === 'string' ? l : l.name}]`).join(' ');

const importEvents = (histories: readonly History[]): EventInput[] => {
  const rows = ['number,at,actor,field,from,to'];
  const items = ['number,created,reporter,title,status'];
  for (const history of histories) {
    const key = `${DEVLAKE_REPO}#${history.issue.number}`;
    const states = issueStates(history);
    items.push(
      [key, history.issue.created_at, history.issue.user?.login, states[0]!.title, 'open'].map(csvCell).join(','),
    );
    const steps = history.timeline.filter((e) => TRACKED.has(e.event));
    steps.forEach((ev, i) => {
      const [before, after] = [states[i]!, states[i + 1]!];
      const actor = ev.event === 'assigned' || ev.event === 'unassigned' ? (ev.assigner ?? ev.actor) : ev.actor;
      const row = (field: string, from: string | null | undefined, to: string | null | undefined) =>
        rows.push([key, ev.created_at, actor?.login, field, from, to].map(csvCell).join(','));
      if (ev.event === 'labeled' || ev.event === 'unlabeled')
        row('labels', labelList(before.labels), labelList(after.labels));
      else if (ev.event === 'assigned' || ev.event === 'unassigned')
        row('assignee', before.assignees?.[0]?.login, after.assignees?.[0]?.login);
      else if (ev.event === 'renamed') row('title', before.title, after.title);
      else row('status', before.state, after.state);
    });
  }
  const mapped = mapImportFile(rows.join('\n'), 'csv', parseImportMap(IMPORT_MAP, 'ants.map.yaml'), {
    items: { text: items.join('\n'), format: 'csv' },
  });
  expect(mapped.rejections).toEqual([]);
  return mapped.events;
};

/** Everything Lanes knows afterwards that must not depend on the path or the order. */
const factsOf = async (database: Database) => {
  const items = await database.db
    .selectFrom('item')
    .select(['key', 'kind', 'title', 'state', 'assignee', 'reopen_count', 'closed_at', 'labels'])
    .orderBy('key')
    .execute();
  const perItem: Record<string, string[]> = {};
  for (const item of items) {
    // Each fact of the item once: what it set (slot and value), else its kind and source.
    perItem[item.key] = (await listItemEvents(database, item.key))
      .map((e) => {
        const fact = factOf(e);
        return fact ? `${fact.slot.replace('\u0001', ':')}=${fact.value}` : `${e.kind}@${e.source}`;
      })
      .sort();
  }
  const decisions = await database.db
    .selectFrom('boundary_decision')
    .select(['item_key', 'domain', 'rule', 'standing', 'actor_role', 'week'])
    .orderBy('item_key')
    .orderBy('domain')
    .orderBy('week')
    .execute();
  return {
    // Labels added at one instant by different paths have no order between them: compared as a set.
    items: items.map(({ closed_at, labels, ...rest }) => ({
      ...rest,
      labels: (JSON.parse(labels) as string[]).sort(),
      closed: closed_at !== null,
    })),
    events: perItem,
    decisions,
  };
};

describe.each(testEngines())('one fact, one event, on $engine', ({ open }) => {
  let loaded: LoadedCharter;
  let histories: History[];
  let paths: Record<'backfill' | 'state' | 'webhooks' | 'import', EventInput[][]>;
  let database: Database;
  let n = 0;
  const contextOf = (db: Database): ServiceContext => ({
    database: db,
    logger: pino({ level: 'silent' }),
    clock: () => NOW,
    newId: () => `e${String(++n).padStart(7, '0')}`,
    charter: () => loaded,
  });

  beforeAll(async () => {
    loaded = (await loadCharterFile(join(DEVLAKE, 'lanes.yaml'), NOW)).loaded!;
    const mapping = loaded.charter.connectors!.github!;
    const ctx = { mapping, unmapped: noteUnmapped };
    histories = antsHistories();
    paths = {
      backfill: histories.map((h) => mapRestIssue(DEVLAKE_REPO, h.issue, ctx, h.timeline)),
      state: histories.map((h) => mapRestIssue(DEVLAKE_REPO, h.issue, ctx)),
      webhooks: histories.flatMap((h) => webhookEvents(h, mapping)),
      import: [importEvents(histories)],
    };
  });
  beforeEach(async () => {
    database = await open();
  });
  afterEach(async () => {
    await database.close();
  });

  it("stores #217's close once, whether the webhook's `closed_at` or the timeline's close comes first", async () => {
    const key = `${DEVLAKE_REPO}#217`;
    const ofItem = (batches: EventInput[][]) => batches.map((b) => b.filter((e) => e.item?.key === key));
    const closes = async (db: Database) =>
      (await listItemEvents(db, key)).filter((e) => e.kind === 'closed').map((e) => e.occurredAt);
    // The backfill alone: `closed_at` and the timeline's close are one close.
    const ctx = contextOf(database);
    for (const batch of ofItem(paths.backfill)) await appendEvents(ctx, batch);
    expect(await closes(database)).toEqual(['2022-05-07T14:45:36.000Z']);
    const webhooks = ofItem(paths.webhooks).filter((b) => b.some((e) => e.change.kind === 'closed'));
    expect(webhooks.flat().map((e) => e.occurredAt)).toEqual(['2022-05-07T14:45:35.000Z']);
    const late = await appendEvents(ctx, webhooks.flat());
    expect(late).toMatchObject({ stored: 0, duplicates: 1 });
    expect(await closes(database)).toEqual(['2022-05-07T14:45:36.000Z']);
    // The webhook first, then the backfill: the webhook's close stays, the timeline's is a duplicate.
    const other = await open();
    try {
      const first = contextOf(other);
      await appendEvents(first, webhooks.flat());
      for (const batch of ofItem(paths.backfill)) await appendEvents(first, batch);
      expect(await closes(other)).toEqual(['2022-05-07T14:45:35.000Z']);
    } finally {
      await other.close();
    }
  });

  it('keeps no-op changes out of the log and the decisions, and keeps two comments with the same words', async () => {
    const ctx = contextOf(database);
    const item = { key: `${DEVLAKE_REPO}#900`, kind: 'bug' as const, component: 'ants' };
    const base = {
      source: 'ants-export',
      occurredAt: '2022-06-01T10:00:00Z',
      actor: { kind: 'github' as const, id: 'panjf2000' },
      item,
    };
    const result = await appendEvents(ctx, [
      { ...base, sourceEventId: 'c', change: { kind: 'created' } },
      { ...base, sourceEventId: 'k', change: { kind: 'field_changed', field: 'kind', from: 'bug', to: 'bug' } },
      {
        ...base,
        sourceEventId: 'a',
        change: { kind: 'field_changed', field: 'assignee', from: 'kevinbaisg', to: 'kevinbaisg' },
      },
      { ...base, sourceEventId: 'm1', change: { kind: 'commented', text: '+1, same here' } },
      {
        ...base,
        sourceEventId: 'm2',
        occurredAt: '2022-06-03T10:00:00Z',
        change: { kind: 'commented', text: '+1, same here' },
      },
    ]);
    expect(result).toMatchObject({ received: 5, stored: 3, unchanged: 2, duplicates: 0 });
    expect((await listItemEvents(database, item.key)).map((e) => e.kind)).toEqual([
      'created',
      'commented',
      'commented',
    ]);
    expect(await database.db.selectFrom('boundary_decision').selectAll().execute()).toEqual([]);
  });

  it('a property: the same history through webhooks, backfills and an import, in any order, gives one set of facts', async () => {
    const all = [...paths.backfill, ...paths.state, ...paths.webhooks, ...paths.import].filter((b) => b.length > 0);
    const ctx = contextOf(database);
    for (const batch of all) await appendEvents(ctx, batch);
    const reference = await factsOf(database);
    // #217 is closed once, and each issue was created once per source that says so.
    expect(reference.events[`${DEVLAKE_REPO}#217`]!.filter((f) => f.startsWith('state='))).toHaveLength(1);
    expect(reference.decisions.length).toBeGreaterThan(0);
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray(all, { minLength: all.length }), async (order) => {
        const db = await open();
        try {
          const c = contextOf(db);
          for (const batch of order) await appendEvents(c, batch);
          expect(await factsOf(db)).toEqual(reference);
        } finally {
          await db.close();
        }
      }),
      { numRuns: 6 },
    );
  }, 120_000);
});
