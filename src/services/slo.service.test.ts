import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { withTransaction } from '../store/event.repository.js';
import { listAlerts } from '../store/slo.repository.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { loadDemo } from './demo.service.js';
import { appendEvents } from './events.service.js';
import {
  applyCharterSlos,
  applySlos,
  computeSloSignals,
  evaluateSloAlerts,
  pushSamples,
  sloStatus,
} from './slo.service.js';

const NOW = new Date('2026-06-01T00:00:00Z');

/** The OpenSLO document for the demo charter's `slos:` (also in docs/slo.md). */
const API_GATEWAY_SLO = {
  apiVersion: 'openslo/v1',
  kind: 'SLO',
  metadata: { name: 'api-gateway-availability', displayName: 'API gateway availability' },
  spec: {
    service: 'api-gateway',
    indicator: {
      metadata: { name: 'api-gateway-good-requests' },
      spec: {
        ratioMetric: {
          counter: true,
          good: { metricSource: { type: 'lanes', spec: { event: 'sli_sample', field: 'good' } } },
          total: { metricSource: { type: 'lanes', spec: { event: 'sli_sample', field: 'total' } } },
        },
      },
    },
    timeWindow: [{ duration: '28d', isRolling: true }],
    budgetingMethod: 'Occurrences',
    objectives: [{ displayName: '99.9 % of requests succeed', target: 0.999 }],
  },
};

const yamlFor = (name: string, service: string, target: number): string => `apiVersion: openslo/v1
kind: SLO
metadata:
  name: ${name}
spec:
  service: ${service}
  indicator:
    metadata: { name: ${name}-sli }
    spec:
      ratioMetric:
        good: { metricSource: { type: push, spec: {} } }
        total: { metricSource: { type: push, spec: {} } }
  timeWindow: [{ duration: 30d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: ${target} }]
`;

describe.each(testEngines())('slo service on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let now: Date;
  let n = 0;
  const charter = buildDemoCharter(42, NOW);
  const loaded: LoadedCharter = {
    charter,
    index: buildCharterIndex(charter),
    path: 'lanes.yaml',
    loadedAt: NOW.toISOString(),
  };
  beforeEach(async () => {
    database = await open();
    now = NOW;
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => now,
      newId: () => `e${++n}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  const minutesAgo = (m: number): string => new Date(NOW.getTime() - m * 60_000).toISOString();

  it('applies a file, maps the SLO to the team owning its service, and rejects bad documents with positions', async () => {
    const result = await applySlos(ctx, {
      yaml: yamlFor('auth-availability', 'auth', 0.999),
      file: 'a.yaml',
      source: 'file',
    });
    expect(result.applied).toEqual(['auth-availability']);
    const [status] = await sloStatus(ctx);
    expect(status).toMatchObject({
      name: 'auth-availability',
      team: 'platform',
      component: 'auth',
      target: 0.999,
      windowDays: 30,
    });
    expect(status!.budgetRemaining).toBeNull();

    await expect(
      applySlos(ctx, { yaml: yamlFor('x', 'auth', 1.5), file: 'bad.yaml', source: 'file' }),
    ).rejects.toMatchObject({ code: 'LANES_SLO_INVALID' });
    await expect(applySlos(ctx, { yaml: yamlFor('x', 'nowhere', 0.99), source: 'file' })).rejects.toThrow(
      /no team owns/,
    );
  });

  it('validates pushed samples, counts an id once, and reports the budget', async () => {
    await applySlos(ctx, { yaml: yamlFor('auth-availability', 'auth', 0.999), source: 'file' });
    await expect(
      pushSamples(ctx, 'auth-availability', [{ at: minutesAgo(10), good: 5, total: 4 }]),
    ).rejects.toMatchObject({
      code: 'LANES_VALIDATION',
    });
    await expect(
      pushSamples(ctx, 'auth-availability', [
        { at: new Date(NOW.getTime() + 3_600_000).toISOString(), good: 1, total: 1 },
      ]),
    ).rejects.toThrow(/future/);
    await expect(pushSamples(ctx, 'nope', [{ at: minutesAgo(1), good: 1, total: 1 }])).rejects.toMatchObject({
      code: 'LANES_NOT_FOUND',
    });

    const first = await pushSamples(ctx, 'auth-availability', [
      { at: minutesAgo(24 * 60), good: 99_975, total: 100_000, id: 'a' },
      { at: minutesAgo(24 * 60), good: 100_000, total: 100_000 },
    ]);
    expect(first).toMatchObject({ received: 2, added: 2, duplicates: 0 });
    const again = await pushSamples(ctx, 'auth-availability', [
      { at: minutesAgo(24 * 60), good: 99_975, total: 100_000, id: 'a' },
    ]);
    expect(again).toMatchObject({ added: 0, duplicates: 1 });
    const [status] = await sloStatus(ctx);
    // 25 bad of 200,000 against 200 allowed.
    expect(status!.budgetRemaining).toBeCloseTo(1 - 25 / 200, 10);
    expect(status!.alertsFiring).toEqual([]);
  });

  it('fires and resolves burn-rate alerts, each an slo_alert event', async () => {
    await applySlos(ctx, { yaml: yamlFor('auth-availability', 'auth', 0.999), source: 'file' });
    // Traffic for two hours with a 10-minute full outage ending 30 minutes ago.
    const samples = [];
    for (let m = 120; m > 0; m--) {
      const bad = m <= 40 && m > 30 ? 1000 : 0;
      samples.push({ at: minutesAgo(m), good: 1000 - bad, total: 1000, id: `m${m}` });
    }
    const pushed = await pushSamples(ctx, 'auth-availability', samples);
    expect(pushed.alerts.fired).toBeGreaterThanOrEqual(1);
    const alerts = await listAlerts(database);
    const fast = alerts.find((a) => a.rule === 'page-1h')!;
    expect(fast.fired_at).toBe(minutesAgo(40));
    expect(fast.resolved_at).toBe(minutesAgo(31 - 5));
    const events = await database.db.selectFrom('event').selectAll().where('kind', '=', 'slo_alert').execute();
    expect(events.length).toBe(pushed.alerts.fired + pushed.alerts.resolved);
    expect(events.map((e) => JSON.parse(e.data!).state).sort()).toContain('resolved');

    // Evaluating again appends nothing new.
    const before = events.length;
    await sloStatus(ctx);
    expect((await database.db.selectFrom('event').select('id').where('kind', '=', 'slo_alert').execute()).length).toBe(
      before,
    );
  });

  it('counts sli_sample events of the service, including ones appended after the SLO, once', async () => {
    const sli = (i: number, good: number, total: number) => ({
      source: 'sli',
      sourceEventId: `s${i}`,
      occurredAt: minutesAgo(60 * i),
      change: { kind: 'sli_sample' as const, data: { service: 'auth', good, total, window: '1h' } },
    });
    await appendEvents(ctx, [sli(1, 990, 1000), sli(2, 1000, 1000)]);
    await applySlos(ctx, { documents: [JSON.parse(yamlToJson('auth-availability', 'auth'))], source: 'file' });
    await appendEvents(ctx, [sli(3, 1000, 1000)]);
    // The quality worker (or `lanes slo status`) evaluates after appends; reading does not.
    await evaluateSloAlerts(ctx);
    const [status] = await sloStatus(ctx);
    expect(status!.total).toBe(3000);
    expect(status!.good).toBe(2990);
    await evaluateSloAlerts(ctx);
    const [again] = await sloStatus(ctx);
    expect(again!.total).toBe(3000);
  });

  it('moves the event checkpoint past a settled bulk load, and still counts what arrives later', async () => {
    const sli = (id: string, good: number) => ({
      source: 'sli',
      sourceEventId: id,
      occurredAt: minutesAgo(30),
      change: { kind: 'sli_sample' as const, data: { service: 'auth', good, total: 100 } },
    });
    await applySlos(ctx, { documents: [JSON.parse(yamlToJson('auth-availability', 'auth'))], source: 'file' });
    await appendEvents(ctx, [sli('bulk-1', 100), sli('bulk-2', 99)]);
    const loadedAt = now.toISOString();
    const checkpoint = async () =>
      (await database.db.selectFrom('slo').select('events_checkpoint').executeTakeFirstOrThrow()).events_checkpoint;
    await evaluateSloAlerts(ctx);
    // Fresh: the instant may still be stamped on an append in flight, so it is read again next time.
    expect(await checkpoint()).toBe(loadedAt);
    now = new Date(now.getTime() + 3_600_000);
    await evaluateSloAlerts(ctx);
    expect(await checkpoint()).toBe(new Date(Date.parse(loadedAt) + 1).toISOString());
    await appendEvents(ctx, [sli('later', 50)]);
    await evaluateSloAlerts(ctx);
    const [status] = await sloStatus(ctx);
    expect(status!.total).toBe(300);
    expect(status!.good).toBe(249);
  });

  it('applies the charter SLOs and replaces them when the charter drops one', async () => {
    const withSlos: LoadedCharter = { ...loaded, charter: { ...charter, slos: [API_GATEWAY_SLO] } };
    ctx = { ...ctx, charter: () => withSlos };
    expect((await applyCharterSlos(ctx)).applied).toEqual(['api-gateway-availability']);
    const without: LoadedCharter = { ...loaded, charter: { ...charter, slos: [] } };
    ctx = { ...ctx, charter: () => without };
    expect((await applyCharterSlos(ctx)).removed).toEqual(['api-gateway-availability']);
    expect(await sloStatus(ctx)).toEqual([]);
  });

  it('on the demo workspace api-gateway exhausts its budget, alerts fire, and the weekly signals show it', async () => {
    await loadDemo(ctx, { items: 300, seed: 42, now: NOW });
    const withSlos: LoadedCharter = { ...loaded, charter: { ...charter, slos: [API_GATEWAY_SLO] } };
    ctx = { ...ctx, charter: () => withSlos };
    const applied = await applyCharterSlos(ctx);
    expect(applied.alerts.fired).toBeGreaterThan(0);

    const [status] = await sloStatus(ctx);
    expect(status).toMatchObject({ name: 'api-gateway-availability', team: 'platform', component: 'api-gateway' });
    expect(status!.budgetRemaining!).toBeLessThanOrEqual(0);
    const alerts = await listAlerts(database);
    expect(alerts.some((a) => a.severity === 'page')).toBe(true);
    expect(alerts.some((a) => a.rule === 'ticket-3d')).toBe(true);
    // Nothing fired before the burn started, 28 days ago.
    expect(alerts.every((a) => a.fired_at >= new Date(NOW.getTime() - 28 * 86_400_000).toISOString())).toBe(true);
    const events = await database.db.selectFrom('event').select('id').where('kind', '=', 'slo_alert').execute();
    expect(events.length).toBeGreaterThan(0);

    const rows = await withTransaction(database, (tx) => computeSloSignals(ctx, tx, { now: NOW, teams: ['platform'] }));
    const budget = rows.filter((r) => r.signal === 'slo.budget_remaining');
    expect(budget.at(-1)).toMatchObject({
      team: 'platform',
      component: 'api-gateway',
      details: { slo: 'api-gateway-availability' },
    });
    expect(budget.at(-1)!.value!).toBeLessThanOrEqual(0);
    // Weeks well before the burn kept most of the budget.
    expect(budget.find((r) => r.week < '2026-04-20' && r.value !== null)!.value!).toBeGreaterThan(0.5);
    const fired = rows.filter((r) => r.signal === 'slo.burn_alerts').reduce((sum, r) => sum + r.value!, 0);
    expect(fired).toBe(alerts.length);
    expect(
      await withTransaction(database, (tx) => computeSloSignals(ctx, tx, { now: NOW, teams: ['payments'] })),
    ).toEqual([]);
  });
});

const yamlToJson = (name: string, service: string): string =>
  JSON.stringify({
    ...API_GATEWAY_SLO,
    metadata: { name },
    spec: { ...API_GATEWAY_SLO.spec, service, timeWindow: [{ duration: '30d', isRolling: true }] },
  });
