import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SignalRow } from '../api/quality.contract.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { EventInput } from '../domain/event.js';
import { weekOf, weekStart } from '../domain/week.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { withTransaction, type Tx } from '../store/event.repository.js';
import { listAlerts } from '../store/slo.repository.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { loadDemo } from './demo.service.js';
import { appendEvents } from './events.service.js';
import { computeBugSignals, computePaceSignals, type SignalScope } from './quality.signals.js';
import { applyCharterSlos, applySlos, computeSloSignals, pushSamples } from './slo.service.js';

// An incremental recompute asks for some teams from some week on: it must give exactly the full computation's rows
// for those teams and weeks, however little of the history it reads to get them.

const NOW = new Date('2026-06-03T12:00:00Z');
const charter = buildDemoCharter(42, NOW);
const person = charter.people.find((p) => p.github)!;
const loaded: LoadedCharter = {
  charter,
  index: buildCharterIndex(charter),
  path: 'lanes.yaml',
  loadedAt: NOW.toISOString(),
};

let seq = 0;
const ev = (
  key: string,
  at: string,
  change: EventInput['change'],
  item: Partial<NonNullable<EventInput['item']>> = {},
): EventInput => ({
  source: 'test',
  sourceEventId: `s${++seq}`,
  occurredAt: at,
  item: { key, ...item },
  change,
});
const state = (from: string, to: string): EventInput['change'] => ({ kind: 'field_changed', field: 'state', from, to });

/** Edge cases beside the demo's items. */
const edges = (): EventInput[] => [
  // A team whose only work was started and finished long before the weeks asked for: its rows still exist.
  ev('QUIET-1', '2026-04-06T10:00:00Z', { kind: 'created' }, { kind: 'task', team: 'quiet', state: 'new' }),
  ev('QUIET-1', '2026-04-07T10:00:00Z', state('new', 'in progress')),
  ev('QUIET-1', '2026-04-09T10:00:00Z', state('in progress', 'done')),
  // A bug of a component with nothing since April: the component keeps its (empty) rows.
  ev('QUIET-2', '2026-04-06T11:00:00Z', { kind: 'created' }, { kind: 'bug', team: 'quiet', component: 'legacy' }),
  ev('QUIET-2', '2026-04-08T11:00:00Z', state('new', 'done')),
  // Teams seen only through people's comments, or a page, in April.
  ev('CHAT-1', '2026-04-07T23:00:00Z', { kind: 'created' }, { kind: 'task', team: 'chatty', state: 'new' }),
  {
    ...ev('CHAT-1', '2026-04-08T23:30:00Z', { kind: 'commented', text: 'late' }),
    actor: { kind: 'github', id: person.github! },
  },
  ev('PAGE-1', '2026-04-09T03:00:00Z', { kind: 'created' }, { kind: 'incident', team: 'paged', state: 'new' }),
  // Closed first, then a merged fix moves it to ready: started after its close, so it never finishes.
  ev('PAY-EDGE-1', '2026-04-20T10:00:00Z', { kind: 'created' }, { kind: 'bug', team: 'payments', state: 'new' }),
  ev('PAY-EDGE-1', '2026-04-21T10:00:00Z', state('new', 'done')),
  ev('PAY-EDGE-1', '2026-05-05T10:00:00Z', { kind: 'pr_merged', data: { repo: 'acme/pay', pr: 7 } }),
  // Started before the weeks asked for, finished inside them.
  ev('PAY-EDGE-2', '2026-04-27T10:00:00Z', { kind: 'created' }, { kind: 'task', team: 'payments', state: 'new' }),
  ev('PAY-EDGE-2', '2026-04-28T10:00:00Z', state('new', 'in progress')),
  ev('PAY-EDGE-2', '2026-05-27T10:00:00Z', state('in progress', 'done')),
];

const key = (r: SignalRow) => `${r.signal} ${r.team} ${r.component ?? ''} ${r.week}`;
const sorted = (rows: readonly SignalRow[]) =>
  [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

type Compute = (ctx: ServiceContext, tx: Tx, scope: SignalScope) => Promise<SignalRow[]>;
const FAMILIES: [string, Compute][] = [
  ['pace', computePaceSignals],
  ['bugs', computeBugSignals],
  ['slo', computeSloSignals],
];

describe.each(testEngines())('scoped quality signals on $engine', ({ open }) => {
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

  it('equal the full computation for the teams and weeks asked for', { timeout: 120_000 }, async () => {
    await loadDemo(ctx, { items: 300, seed: 42, now: NOW });
    await appendEvents(ctx, edges());
    await applyCharterSlos(ctx);
    expect((await listAlerts(database)).length).toBeGreaterThan(0);

    const weeks = ['2026-03-30', '2026-04-13', '2026-05-04', '2026-05-11', '2026-05-25', weekOf(NOW.getTime())];
    const teams = [['payments'], ['platform'], ['quiet'], ['chatty'], ['paged'], ['growth', 'platform'], ['nobody']];
    for (const [family, compute] of FAMILIES) {
      const full = await withTransaction(database, (tx) => compute(ctx, tx, { now: NOW }));
      expect(full.length, family).toBeGreaterThan(0);
      const has = (team: string, component: string | null = null) =>
        full.some((r) => r.team === team && r.component === component && r.week === weekOf(NOW.getTime()));
      if (family === 'pace') expect([has('quiet'), has('chatty'), has('paged')]).toEqual([true, true, true]);
      if (family === 'bugs') expect(has('quiet', 'legacy')).toBe(true);
      for (const sinceWeek of weeks) {
        for (const asked of [...teams, undefined]) {
          const scope = { now: NOW, sinceWeek, ...(asked ? { teams: asked } : {}) };
          const scoped = await withTransaction(database, (tx) => compute(ctx, tx, scope));
          const expected = full.filter((r) => r.week >= sinceWeek && (asked === undefined || asked.includes(r.team)));
          expect(sorted(scoped), `${family} ${asked?.join(',') ?? 'all'} from ${sinceWeek}`).toEqual(sorted(expected));
        }
      }
    }
  });

  it('equal the full computation for SLO alerts that fire around the first week asked for', async () => {
    const slo = (name: string, duration: string) => ({
      apiVersion: 'openslo/v1',
      kind: 'SLO',
      metadata: { name },
      spec: {
        service: 'auth',
        indicator: {
          metadata: { name: `${name}-sli` },
          spec: { ratioMetric: { good: { metricSource: {} }, total: { metricSource: {} } } },
        },
        timeWindow: [{ duration, isRolling: true }],
        budgetingMethod: 'Occurrences',
        objectives: [{ target: 0.99 }],
      },
    });
    await applySlos(ctx, { documents: [slo('auth-30d', '30d'), slo('auth-7d', '7d')], source: 'file' });
    // Every 20 minutes for twelve weeks; bursts of errors of a few hours, often right around a Monday.
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const start = NOW.getTime() - 12 * 7 * 86_400_000;
    const bursts = Array.from({ length: 30 }, () => {
      const monday = weekStart(weekOf(start + random() * (NOW.getTime() - start)));
      const at = monday + (random() - 0.5) * 2 * 86_400_000;
      return { from: at, to: at + random() * 8 * 3_600_000 };
    });
    const samples = [];
    for (let t = start; t <= NOW.getTime(); t += 20 * 60_000) {
      const bad = bursts.some((b) => t >= b.from && t < b.to);
      samples.push({ at: new Date(t).toISOString(), good: bad ? 700 : 1000, total: 1000 });
    }
    for (const name of ['auth-30d', 'auth-7d']) await pushSamples(ctx, name, samples);

    const full = await withTransaction(database, (tx) => computeSloSignals(ctx, tx, { now: NOW }));
    expect(full.filter((r) => r.signal === 'slo.burn_alerts').reduce((n, r) => n + r.value!, 0)).toBeGreaterThan(10);
    for (let w = weekStart(weekOf(start)); w <= NOW.getTime(); w += 7 * 86_400_000) {
      const sinceWeek = weekOf(w);
      const scoped = await withTransaction(database, (tx) =>
        computeSloSignals(ctx, tx, { now: NOW, teams: ['platform'], sinceWeek }),
      );
      expect(sorted(scoped), sinceWeek).toEqual(sorted(full.filter((r) => r.week >= sinceWeek)));
    }
  });

  it('keep the edge cases of work in progress', async () => {
    await appendEvents(ctx, edges());
    const rows = await withTransaction(database, (tx) =>
      computePaceSignals(ctx, tx, { now: NOW, teams: ['quiet', 'payments'], sinceWeek: '2026-05-11' }),
    );
    const wip = (team: string, week: string) =>
      rows.find((r) => r.signal === 'pace.wip' && r.team === team && r.week === week)?.value;
    expect(wip('quiet', '2026-05-11')).toBe(0);
    // PAY-EDGE-1 (started after its close) and PAY-EDGE-2 until it finished in the week of 05-25.
    expect(wip('payments', '2026-05-18')).toBe(2);
    expect(wip('payments', '2026-06-01')).toBe(1);
  });
});
