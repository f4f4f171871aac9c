import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalRow } from '../api/quality.contract.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import type { Charter } from '../domain/charter.schema.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { EventInput } from '../domain/event.js';
import { defaultQualitySettings } from '../domain/quality.settings.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { withTransaction } from '../store/event.repository.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { loadDemo } from './demo.service.js';
import { appendEvents } from './events.service.js';
import {
  computeBugSignals,
  computeCoverageSignals,
  computePaceSignals,
  computeReviewSignals,
  quantile,
} from './quality.signals.js';
import { weekOf } from '../domain/week.js';

const NOW = new Date('2026-06-03T12:00:00Z');
const SCOPE = { now: NOW, sinceWeek: '2026-05-11' };

const demo = buildDemoCharter(42, NOW);
const team = demo.teams[0]!;
const [C1, C2] = [team.components[0]!, team.components[1]!];
const dev = demo.people.find((p) => p.github)!;
const charter: Charter = {
  ...demo,
  workspace: { ...demo.workspace, timezone: 'UTC' },
  people: demo.people.map((p) => (p.id === dev.id ? { ...p, timezone: 'America/New_York' } : p)),
  quality: { ...defaultQualitySettings(), coverage: { [C1]: { line: 80, branch: 70 } } },
};
const loaded: LoadedCharter = {
  charter,
  index: buildCharterIndex(charter),
  path: 'lanes.yaml',
  loadedAt: NOW.toISOString(),
};
const actor = { kind: 'github' as const, id: dev.github! };

let seq = 0;
const ev = (
  key: string | null,
  at: string,
  change: EventInput['change'],
  item: Partial<NonNullable<EventInput['item']>> = {},
): EventInput => ({
  source: 'test',
  sourceEventId: `t${++seq}`,
  occurredAt: at,
  actor,
  ...(key ? { item: { key, ...item } } : {}),
  change,
});
const pr = (n: number, extra: Record<string, unknown> = {}) => ({
  pr: n,
  repo: 'acme/x',
  additions: 10,
  deletions: 5,
  ...extra,
});

/** A small workspace whose figures are worked out by hand below. */
const workspace = (): EventInput[] => [
  // Bugs: B1 (C1, regression) fixed and reopened; B2 (C1, customer-reported) open; B3 (C2) open.
  ev('B1', '2026-05-12T10:00:00Z', { kind: 'created' }, { kind: 'bug', component: C1, team: team.id, state: 'new' }),
  ev('B1', '2026-05-12T10:05:00Z', { kind: 'label_added', target: 'regression' }),
  ev('B1', '2026-05-13T10:00:00Z', { kind: 'field_changed', field: 'state', from: 'new', to: 'in progress' }),
  ev('B1', '2026-05-20T10:00:00Z', { kind: 'field_changed', field: 'state', from: 'in progress', to: 'done' }),
  ev('B1', '2026-05-27T10:00:00Z', { kind: 'reopened', from: 'done', to: 'reopened' }),
  ev('B2', '2026-05-13T09:00:00Z', { kind: 'created' }, { kind: 'bug', component: C1, team: team.id, state: 'new' }),
  ev('B2', '2026-05-13T09:01:00Z', { kind: 'label_added', target: 'customer-reported' }),
  ev('B3', '2026-05-19T12:00:00Z', { kind: 'created' }, { kind: 'bug', component: C2, team: team.id, state: 'new' }),
  // A feature started on 05-19 and PRs on it.
  ev(
    'F1',
    '2026-05-18T08:00:00Z',
    { kind: 'created' },
    { kind: 'feature', component: C1, team: team.id, state: 'new' },
  ),
  ev('F1', '2026-05-19T08:00:00Z', { kind: 'field_changed', field: 'state', from: 'new', to: 'in progress' }),
  // PR 1: opened Mon 05-18 10:00 (UTC), first review 4 h later (changes requested), approved, merged: large and discussed.
  ev('F1', '2026-05-18T10:00:00Z', { kind: 'pr_opened', data: pr(1, { additions: 500 }) }),
  ev('F1', '2026-05-18T14:00:00Z', { kind: 'review_submitted', data: pr(1, { state: 'changes_requested' }) }),
  ev('F1', '2026-05-18T16:00:00Z', { kind: 'review_submitted', data: pr(1, { state: 'approved' }) }),
  ev('F1', '2026-05-19T09:00:00Z', { kind: 'pr_merged', data: pr(1, { additions: 500 }) }),
  // PR 2: merged without any review.
  ev('F1', '2026-05-19T10:00:00Z', { kind: 'pr_opened', data: pr(2) }),
  ev('F1', '2026-05-19T11:00:00Z', { kind: 'pr_merged', data: pr(2) }),
  // PR 3: large, approved in 2 h with no comments; its events also sit on B1 (counted once).
  ev('F1', '2026-05-20T10:00:00Z', { kind: 'pr_opened', data: pr(3, { additions: 450 }) }),
  ev('B1', '2026-05-20T10:00:00Z', { kind: 'pr_opened', data: pr(3, { additions: 450 }) }),
  ev('F1', '2026-05-20T12:00:00Z', { kind: 'review_submitted', data: pr(3, { state: 'approved', comments: 0 }) }),
  ev('F1', '2026-05-21T12:00:00Z', { kind: 'pr_merged', data: pr(3, { additions: 450 }) }),
  ev('B1', '2026-05-21T12:00:00Z', { kind: 'pr_merged', data: pr(3, { additions: 450 }) }),
  // Comments: 15:00 UTC Tue = 11:00 in New York (working), 02:00 UTC Wed = 22:00 Tue in New York (after hours).
  ev('F1', '2026-05-19T15:00:00Z', { kind: 'commented', text: 'looks fine' }),
  ev('F1', '2026-05-20T02:00:00Z', { kind: 'commented', text: 'late' }),
  ev('F1', '2026-05-23T15:00:00Z', { kind: 'commented', text: 'saturday' }),
  // An incident declared in the week of 05-25.
  ev(
    'INC-1',
    '2026-05-26T03:00:00Z',
    { kind: 'created' },
    { kind: 'incident', component: C2, team: team.id, state: 'new' },
  ),
  // Coverage: two reports for C1 in the week of 05-18 (the later one counts), one for C2.
  ev(null, '2026-05-18T07:00:00Z', {
    kind: 'coverage_report',
    data: { component: C1, lines: { covered: 70, total: 100 }, branches: { covered: 10, total: 20 } },
  }),
  ev(null, '2026-05-19T07:00:00Z', {
    kind: 'coverage_report',
    data: { component: C1, lines: { covered: 75, total: 100 }, branches: { covered: 12, total: 20 } },
  }),
  ev(null, '2026-05-19T08:00:00Z', {
    kind: 'coverage_report',
    data: { component: C2, lines: { covered: 45, total: 50 }, branches: { covered: 8, total: 10 } },
  }),
];

const pick = (rows: SignalRow[], signal: string, component: string | null, week: string) =>
  rows.find((r) => r.signal === signal && r.team === team.id && r.component === component && r.week === week);

describe('helpers', () => {
  it('weeks start on Monday (UTC)', () => {
    expect(weekOf(Date.parse('2026-05-17T23:59:59Z'))).toBe('2026-05-11');
    expect(weekOf(Date.parse('2026-05-18T00:00:00Z'))).toBe('2026-05-18');
  });
  it('quantiles', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(quantile([], 0.5)).toBeNull();
  });
});

describe.each(testEngines())('quality signals on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let n = 0;
  beforeEach(async () => {
    database = await open();
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `e${String(++n).padStart(8, '0')}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  const run = (fn: typeof computeBugSignals, scope: Parameters<typeof computeBugSignals>[2] = SCOPE) =>
    withTransaction(database, (tx) => fn(ctx, tx, scope));

  it('review rigor: each PR once, by merge week', async () => {
    await appendEvents(ctx, workspace());
    const rows = await run(computeReviewSignals);
    const w = '2026-05-18';
    for (const component of [C1, null]) {
      expect(pick(rows, 'review.unreviewed_share', component, w)).toMatchObject({ numerator: 1, denominator: 3 });
      expect(pick(rows, 'review.first_review_median_h', component, w)).toMatchObject({ value: 3, denominator: 2 });
      expect(pick(rows, 'review.first_review_p90_h', component, w)?.value).toBe(4);
      expect(pick(rows, 'review.large_pr_share', component, w)).toMatchObject({ numerator: 2, denominator: 3 });
      expect(pick(rows, 'review.silent_large_approvals', component, w)).toMatchObject({ value: 0.5, numerator: 1 });
    }
    expect(pick(rows, 'review.unreviewed_share', null, w)?.details).toEqual({ prs: ['acme/x#2'] });
    expect(pick(rows, 'review.unreviewed_share', null, '2026-05-11')).toMatchObject({ value: null, denominator: 0 });
  });

  it('coverage: latest report of the week, team level from the counts, guardrail from settings', async () => {
    await appendEvents(ctx, workspace());
    const rows = await run(computeCoverageSignals);
    const w = '2026-05-18';
    expect(pick(rows, 'coverage.line', C1, w)).toMatchObject({ value: 75, numerator: 75, denominator: 100 });
    expect(pick(rows, 'coverage.line', C1, w)?.details).toMatchObject({ guardrail: 80 });
    expect(pick(rows, 'coverage.branch', C1, w)).toMatchObject({ value: 60 });
    expect(pick(rows, 'coverage.line', null, w)).toMatchObject({ numerator: 120, denominator: 150, value: 80 });
    expect(pick(rows, 'coverage.line', C2, '2026-05-25')?.value).toBeNull();
  });

  it('bug flow: inflow, outflow, open and its age, reopens, escaped and regressions', async () => {
    await appendEvents(ctx, workspace());
    const rows = await run(computeBugSignals);
    expect(pick(rows, 'bugs.inflow', C1, '2026-05-11')).toMatchObject({ value: 2 });
    expect(pick(rows, 'bugs.inflow', null, '2026-05-18')).toMatchObject({ value: 1 });
    expect(pick(rows, 'bugs.escaped', C1, '2026-05-11')?.details).toEqual({ items: ['B2'] });
    expect(pick(rows, 'bugs.regressions', null, '2026-05-11')).toMatchObject({ value: 1 });
    expect(pick(rows, 'bugs.outflow', C1, '2026-05-18')).toMatchObject({ value: 1 });
    // Open at the end of 05-17: B1 (5.58 d) and B2 (4.625 d); median 5.1 d.
    expect(pick(rows, 'bugs.open', C1, '2026-05-11')).toMatchObject({ value: 2 });
    expect(pick(rows, 'bugs.open_age_median_d', C1, '2026-05-11')?.value).toBe(5.1);
    // B1 was closed on 05-20 and reopened on 05-27 (its current state: open since creation).
    expect(pick(rows, 'bugs.reopen_rate', C1, '2026-05-25')).toMatchObject({
      numerator: 1,
      denominator: 0,
      value: null,
    });
    expect(pick(rows, 'bugs.open', null, '2026-06-01')).toMatchObject({ value: 3 });
  });

  it('pace: team level only', async () => {
    await appendEvents(ctx, workspace());
    const rows = await run(computePaceSignals);
    expect(rows.every((r) => r.component === null)).toBe(true);
    expect(rows.some((r) => JSON.stringify(r.details ?? {}).includes(dev.id))).toBe(false);
    // B1 and F1 started in the week of 05-11 and 05-18; B1 reopened (closed_at cleared): both still in progress.
    expect(pick(rows, 'pace.wip', null, '2026-05-11')?.value).toBe(1);
    expect(pick(rows, 'pace.unplanned_share', null, '2026-05-11')).toMatchObject({ numerator: 1, denominator: 1 });
    expect(pick(rows, 'pace.unplanned_share', null, '2026-05-18')).toMatchObject({ numerator: 0, denominator: 1 });
    expect(pick(rows, 'pace.wip', null, '2026-06-01')?.value).toBe(2);
    expect(pick(rows, 'pace.after_hours_share', null, '2026-05-18')).toMatchObject({ numerator: 2, denominator: 3 });
    expect(pick(rows, 'pace.pages', null, '2026-05-25')).toMatchObject({ value: 1, details: { incidents: ['INC-1'] } });
  });

  it('agrees with a plain reading of the items on the demo workspace', async () => {
    await loadDemo(ctx, { items: 300, seed: 7, now: NOW });
    ctx = {
      ...ctx,
      charter: () => ({
        ...loaded,
        charter: buildDemoCharter(7, NOW),
        index: buildCharterIndex(buildDemoCharter(7, NOW)),
      }),
    };
    const scope = { now: NOW };
    const [bugs, pace, review, coverage] = await withTransaction(database, async (tx) => [
      await computeBugSignals(ctx, tx, scope),
      await computePaceSignals(ctx, tx, scope),
      await computeReviewSignals(ctx, tx, scope),
      await computeCoverageSignals(ctx, tx, scope),
    ]);
    const items = await database.db.selectFrom('item').selectAll().execute();
    const teamLevel = (rows: SignalRow[], signal: string) =>
      rows.filter((r) => r.signal === signal && r.component === null);
    // Inflow: bugs created per team and week.
    const inflow = new Map<string, number>();
    for (const i of items) {
      if (i.kind !== 'bug' || !i.team) continue;
      const k = `${i.team} ${weekOf(Date.parse(i.created_at))}`;
      inflow.set(k, (inflow.get(k) ?? 0) + 1);
    }
    for (const r of teamLevel(bugs, 'bugs.inflow')) expect(r.value).toBe(inflow.get(`${r.team} ${r.week}`) ?? 0);
    // Open now: bugs not closed.
    const last = weekOf(NOW.getTime());
    for (const r of teamLevel(bugs, 'bugs.open').filter((r) => r.week === last)) {
      expect(r.value).toBe(items.filter((i) => i.kind === 'bug' && i.team === r.team && i.closed_at === null).length);
    }
    // Pages: incidents declared per team and week.
    const total = teamLevel(pace, 'pace.pages').reduce((s, r) => s + (r.value ?? 0), 0);
    expect(total).toBe(items.filter((i) => i.kind === 'incident' && i.team !== null).length);
    // Review: merged PRs counted once per (repo, number).
    const merged = await database.db.selectFrom('event').select(['data']).where('kind', '=', 'pr_merged').execute();
    const prs = new Set(
      merged.map((e) => {
        const d = JSON.parse(e.data!) as { repo: string; pr: number };
        return `${d.repo}#${d.pr}`;
      }),
    );
    const counted = teamLevel(review, 'review.unreviewed_share').reduce((s, r) => s + (r.denominator ?? 0), 0);
    expect(counted).toBe(prs.size);
    expect(coverage.filter((r) => r.signal === 'coverage.line' && r.value !== null).length).toBeGreaterThan(0);
  });
});
