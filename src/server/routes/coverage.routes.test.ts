import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCharterIndex } from '../../domain/charter.identity.js';
import { buildDemoCharter } from '../../domain/demo/demo.charter.js';
import type { LoadedCharter } from '../../services/context.js';
import type { Database } from '../../store/database.js';
import { testEngines } from '../../store/engines.test-helper.js';
import { buildTestServer } from '../server.test-helper.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const charter = buildDemoCharter(42, NOW);
const loaded: LoadedCharter = {
  charter,
  index: buildCharterIndex(charter),
  path: 'lanes.yaml',
  loadedAt: NOW.toISOString(),
};
const component = charter.teams[0]!.components[0]!;
const COBERTURA =
  '<?xml version="1.0"?><coverage lines-valid="10" lines-covered="9" branches-valid="4" branches-covered="2"><packages/></coverage>';

describe.each(testEngines())('coverage route on $engine', ({ open }) => {
  let database: Database;
  beforeEach(async () => {
    database = await open();
  });
  afterEach(async () => {
    await database.close();
  });

  it('POST /api/v1/coverage takes the raw report, members only', async () => {
    const t = await buildTestServer(database, { charter: loaded });
    const url = `/api/v1/coverage?component=${component}&format=cobertura&commit=def456`;
    const post = (role: 'member' | 'stakeholder' | 'anonymous', payload: string, type = 'application/xml') =>
      t.as(role, { method: 'POST', url, payload, headers: { 'content-type': type } });
    expect((await post('anonymous', COBERTURA)).statusCode).toBe(401);
    expect((await post('stakeholder', COBERTURA)).statusCode).toBe(403);
    const ok = await post('member', COBERTURA);
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ linePct: 90, branchPct: 50, component });
    expect((await post('member', COBERTURA)).statusCode).toBe(200);
    const bad = await post('member', '<coverage><packages>', 'text/plain');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'LANES_IMPORT_INVALID' } });
    const unknown = await t.as('member', {
      method: 'POST',
      url: '/api/v1/coverage?component=x&format=svg',
      payload: 'x',
    });
    expect(unknown.statusCode).toBe(400);
    await t.server.app.close();
  });
});
