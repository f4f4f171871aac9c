import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { listSignals } from '../store/quality.repository.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { loadDemo } from './demo.service.js';
import { appendEvents } from './events.service.js';
import { listEscalations } from './findings.service.js';
import { createQualityWorker, recomputeQuality } from './quality.service.js';
import { applyCharterSlos, pushSamples } from './slo.service.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const charter = buildDemoCharter(42, NOW);

describe.each(testEngines())('quality guardrails on $engine', ({ open }) => {
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

  it('computes every signal family on the demo and finds the planted patterns, and nothing else severe', async () => {
    await loadDemo(ctx, { items: 1500, seed: 42, now: NOW });
    await applyCharterSlos(ctx);
    const result = await recomputeQuality(ctx);
    expect(result.rows).toBeGreaterThan(100);
    const families = new Set((await listSignals(database, { team: 'payments' })).map((r) => r.signal.split('.')[0]));
    for (const f of ['dora', 'review', 'bugs', 'pace']) expect(families).toContain(f);

    const open = await listEscalations(ctx, {});
    const findings = open.map(
      (e) => `${e.finding.rule} ${e.finding.team}/${e.finding.component ?? '-'} ${e.finding.severity}`,
    );
    // The two planted patterns: the reopening ledger component, and the api-gateway SLO burning its budget.
    expect(findings.some((f) => /reopen/.test(f) && /ledger/.test(f))).toBe(true);
    expect(findings.some((f) => /budget/.test(f) && /api-gateway/.test(f))).toBe(true);
    const severe = open
      .filter((e) => e.finding.severity === 'high')
      .map((e) => `${e.finding.rule} ${e.finding.component}`);
    for (const f of severe) expect(f).toMatch(/reopen.*ledger|budget.*api-gateway|ledger|api-gateway/);
  });

  it('keeps signals current after one new event (the worker recomputes the touched team and weeks)', async () => {
    await loadDemo(ctx, { items: 200, seed: 42, now: NOW });
    const worker = createQualityWorker(ctx, { intervalMs: 50 });
    worker.start();
    const until = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
    };
    await until(async () => (await listSignals(database, { team: 'payments', signals: ['bugs.inflow'] })).length > 0);
    const inflow = async () =>
      (await listSignals(database, { team: 'payments', component: null, signals: ['bugs.inflow'] })).find(
        (r) => r.week === '2026-05-25',
      )?.value ?? 0;
    const before = await inflow();
    await appendEvents(ctx, [
      {
        source: 'jira',
        sourceEventId: 'quality-new-bug',
        occurredAt: '2026-05-31T10:00:00Z',
        item: { key: 'PAY-99999', kind: 'bug', title: 'New bug', team: 'payments', component: 'checkout' },
        change: { kind: 'created' },
      },
    ]);
    const started = Date.now();
    await until(async () => (await inflow()) === before + 1);
    expect(await inflow()).toBe(before + 1);
    expect(Date.now() - started).toBeLessThan(5000);

    // SLO samples pushed through the API (not the log) move the SLO's rows too.
    await applyCharterSlos(ctx);
    const slo = (await database.db.selectFrom('slo').select(['name', 'team']).execute())[0]!;
    const budget = async () =>
      (await listSignals(database, { team: slo.team, signals: ['slo.budget_remaining'] })).find(
        (r) => r.week === '2026-05-25',
      )?.details?.['total'];
    await until(async () => (await budget()) !== undefined);
    const totalBefore = Number(await budget());
    await pushSamples(ctx, slo.name, [{ at: '2026-05-31T11:00:00Z', good: 100, total: 100, id: 'pushed-1' }]);
    await until(async () => Number(await budget()) === totalBefore + 100);
    expect(Number(await budget())).toBe(totalBefore + 100);
    await worker.close();
  });
});
