import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalRow } from '../api/quality.contract.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { EventInput } from '../domain/event.js';
import { addWeeks, weekOf } from '../domain/week.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { withTransaction } from '../store/event.repository.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { loadDemo } from './demo.service.js';
import { computeDoraSignals } from './dora.service.js';
import { appendEvents, onAppended, type AppendedNotice } from './events.service.js';
import { ensureQualityFacts, rebuildQualityFacts } from './quality.facts.service.js';
import { familiesOfKinds, workerScopeOf } from './quality.service.js';
import { computeReviewSignals } from './quality.signals.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const charter = buildDemoCharter(42, NOW);

const dump = async (database: Database) => ({
  prs: await database.db.selectFrom('quality_pr').selectAll().orderBy('pr_key').execute(),
  deployments: await database.db.selectFrom('quality_deployment').selectAll().orderBy('event_id').execute(),
});

const byKey = (rows: readonly SignalRow[]) =>
  new Map(rows.map((r) => [`${r.signal} ${r.team} ${r.component ?? '-'} ${r.week}`, r]));

describe.each(testEngines())('quality facts on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  beforeEach(async () => {
    database = await open();
    const loaded: LoadedCharter = {
      charter,
      index: buildCharterIndex(charter),
      path: 'x',
      loadedAt: NOW.toISOString(),
    };
    let n = 0;
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `e${String(++n).padStart(7, '0')}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  it('keeps the facts in the append transaction exactly as a rebuild from the log makes them', async () => {
    await loadDemo(ctx, { items: 400, seed: 42, now: NOW });
    const appended = await dump(database);
    expect(appended.prs.length).toBeGreaterThan(50);
    expect(appended.deployments.length).toBeGreaterThan(50);
    expect(appended.prs.some((p) => p.approved === 1 && p.merged_at !== null && p.opened_at !== null)).toBe(true);
    const rebuilt = await rebuildQualityFacts(ctx);
    expect(rebuilt.events).toBeGreaterThan(appended.prs.length);
    expect(await dump(database)).toEqual(appended);
    // Built once: a second ensure does nothing.
    expect(await ensureQualityFacts(ctx)).toBeNull();
  });

  it('merges one PR from events delivered in any order, twice, or in separate appends', async () => {
    const item = { key: 'PAY-1', kind: 'bug' as const, title: 'x', team: 'payments', component: 'checkout' };
    const data = { repo: 'acme/checkout', pr: 7, additions: 500, deletions: 20 };
    const events: EventInput[] = [
      {
        source: 'github',
        sourceEventId: 'o',
        occurredAt: '2026-05-04T10:00:00.000Z',
        item,
        change: { kind: 'pr_opened', data: { ...data, firstCommitAt: '2026-05-03T09:00:00Z' } },
      },
      {
        source: 'github',
        sourceEventId: 'r1',
        occurredAt: '2026-05-04T12:00:00.000Z',
        item,
        change: { kind: 'review_submitted', data: { ...data, state: 'commented' } },
      },
      {
        source: 'github',
        sourceEventId: 'r2',
        occurredAt: '2026-05-05T08:00:00.000Z',
        item,
        change: { kind: 'review_submitted', data: { ...data, state: 'approved', additions: 600 } },
      },
      {
        source: 'github',
        sourceEventId: 'm',
        occurredAt: '2026-05-05T09:00:00.000Z',
        item,
        change: { kind: 'pr_merged', data: { ...data, mergeCommitSha: 'ABC1234DEF' } },
      },
      {
        source: 'deploys',
        sourceEventId: 'd',
        occurredAt: '2026-05-05T10:00:00.000Z',
        change: {
          kind: 'deployed',
          data: { repo: 'acme/checkout', environment: 'production', sha: 'abc1234def', deploymentId: 'dep-1' },
        },
      },
      {
        source: 'deploys',
        sourceEventId: 'd-staging',
        occurredAt: '2026-05-05T10:00:00.000Z',
        change: { kind: 'deployed', data: { repo: 'acme/checkout', environment: 'staging', sha: 'abc1234def' } },
      },
      {
        source: 'deploys',
        sourceEventId: 'd-failed',
        occurredAt: '2026-05-05T10:30:00.000Z',
        change: {
          kind: 'deployed',
          data: { repo: 'acme/checkout', environment: 'production', state: 'failure', sha: 'abc1234def' },
        },
      },
    ];
    for (const e of [...events].reverse()) await appendEvents(ctx, [e]);
    await appendEvents(ctx, events); // duplicates change nothing
    const { prs, deployments } = await dump(database);
    expect(prs).toEqual([
      {
        pr_key: 'acme/checkout#7',
        repo: 'acme/checkout',
        number: '7',
        item_key: 'PAY-1',
        opened_at: '2026-05-04T10:00:00.000Z',
        first_commit_at: '2026-05-03T09:00:00.000Z',
        first_review_at: '2026-05-04T12:00:00.000Z',
        merged_at: '2026-05-05T09:00:00.000Z',
        merge_sha: 'abc1234def',
        approved: 1,
        discussed: 1,
        size: 620,
      },
    ]);
    // Only the successful production deployment is a fact.
    expect(deployments.map((d) => [d.deployment_id, d.environment, JSON.parse(d.shas)])).toEqual([
      ['dep-1', 'production', ['abc1234def']],
    ]);
    // The lead time reads from the facts: first commit 05-03 09:00 → deployed 05-05 10:00 = 49 h.
    const rows = await withTransaction(database, (tx) => computeDoraSignals(ctx, tx, { now: NOW }));
    const lead = rows.find(
      (r) => r.signal === 'dora.lead_time_median_h' && r.component === 'checkout' && r.week === '2026-05-04',
    );
    expect(lead?.value).toBe(49);
  });

  it('places an itemless deployment in the team owning its service, so the worker recomputes only that team', async () => {
    const notices: AppendedNotice[] = [];
    const stop = onAppended(ctx, (n) => notices.push(n));
    const deployed = (id: string, service: string): EventInput => ({
      source: 'deploys',
      sourceEventId: id,
      occurredAt: '2026-05-27T10:00:00.000Z',
      change: { kind: 'deployed', data: { service, environment: 'production', deploymentId: id } },
    });
    await appendEvents(ctx, [deployed('d-1', 'checkout')]);
    await appendEvents(ctx, [deployed('d-2', 'no-such-service')]);
    stop();
    expect(notices[0]).toMatchObject({ teams: ['payments'], itemless: false, kinds: ['deployed'] });
    expect(workerScopeOf([notices[0]!])).toEqual({
      teams: ['payments'],
      sinceWeek: '2026-05-25',
      families: ['dora', 'bugs', 'pace'],
    });
    // A deployment no charter team owns may bear on any team: every team is recomputed.
    expect(notices[1]).toMatchObject({ teams: [], itemless: true });
    expect(workerScopeOf(notices)).not.toHaveProperty('teams');
  });

  it('computes DORA and review rigor for one team from a week on exactly as the full computation does', async () => {
    await loadDemo(ctx, { items: 1500, seed: 42, now: NOW });
    const since = addWeeks(weekOf(NOW), -6);
    for (const compute of [computeDoraSignals, computeReviewSignals]) {
      const full = await withTransaction(database, (tx) => compute(ctx, tx, { now: NOW }));
      const scoped = await withTransaction(database, (tx) =>
        compute(ctx, tx, { now: NOW, teams: ['payments'], sinceWeek: since }),
      );
      const expected = full.filter((r) => r.team === 'payments' && r.week >= since);
      expect(expected.length).toBeGreaterThan(20);
      expect(scoped.every((r) => r.team === 'payments' && r.week >= since)).toBe(true);
      const got = byKey(scoped);
      expect(got.size).toBe(expected.length);
      for (const r of expected) expect(got.get(`${r.signal} ${r.team} ${r.component ?? '-'} ${r.week}`)).toEqual(r);
    }
  });
});

describe('which families an event can move', () => {
  it('maps kinds to the families that read them', () => {
    expect(familiesOfKinds(['sli_sample'])).toEqual(['slo']);
    expect(familiesOfKinds(['slo_alert'])).toEqual(['slo']);
    expect(familiesOfKinds(['coverage_report'])).toEqual(['coverage']);
    expect(familiesOfKinds(['pr_merged'])).toEqual(['dora', 'review', 'bugs', 'pace']);
    expect(familiesOfKinds(['commented'])).toEqual(['bugs', 'pace']);
    expect(familiesOfKinds([])).toEqual([]);
  });
});
