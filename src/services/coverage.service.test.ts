import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { pushCoverage } from './coverage.service.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const charter = buildDemoCharter(42, NOW);
const loaded: LoadedCharter = {
  charter,
  index: buildCharterIndex(charter),
  path: 'lanes.yaml',
  loadedAt: NOW.toISOString(),
};
const team = charter.teams[0]!;
const component = team.components[0]!;

const LCOV = 'TN:\nSF:src/a.ts\nDA:1,1\nDA:2,0\nLF:4\nLH:3\nBRF:2\nBRH:1\nend_of_record\n';

describe.each(testEngines())('coverage push on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let n = 0;
  beforeEach(async () => {
    database = await open();
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `c${++n}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  it('appends one coverage_report event with the figures, once per report', async () => {
    const result = await pushCoverage(ctx, { component, text: LCOV, commit: 'abc123' });
    expect(result).toMatchObject({ format: 'lcov', team: team.id, linePct: 75, branchPct: 50, files: 1, stored: true });
    expect((await pushCoverage(ctx, { component, text: LCOV, commit: 'abc123' })).stored).toBe(false);
    const events = await database.db.selectFrom('event').selectAll().where('kind', '=', 'coverage_report').execute();
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.data!)).toMatchObject({
      component,
      team: team.id,
      lines: { covered: 3, total: 4 },
      branches: { covered: 1, total: 2 },
      commit: 'abc123',
    });
    expect(events[0]!.occurred_at).toBe(NOW.toISOString());
  });

  it('refuses unknown components and bad reports, storing nothing', async () => {
    await expect(pushCoverage(ctx, { component: 'nope', text: LCOV })).rejects.toMatchObject({
      code: 'LANES_VALIDATION',
    });
    await expect(pushCoverage(ctx, { component, text: 'garbage', format: 'lcov' })).rejects.toMatchObject({
      code: 'LANES_IMPORT_INVALID',
    });
    expect(await database.db.selectFrom('event').selectAll().execute()).toHaveLength(0);
  });
});
