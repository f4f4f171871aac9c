import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildCharterIndex } from '../../domain/charter.identity.js';
import { charterSchema } from '../../domain/charter.schema.js';
import { BILLION_LAUGHS } from '../../domain/yaml.guard.test-helper.js';
import type { Database } from '../../store/database.js';
import { testEngines } from '../../store/engines.test-helper.js';
import { buildTestServer, type TestServer } from '../server.test-helper.js';

const charter = charterSchema.parse({
  version: 1,
  workspace: { id: 'acme', name: 'Acme' },
  people: [
    { id: 'sam', name: 'Sam Lee', role: 'tech-lead' },
    { id: 'dana', name: 'Dana Ross', role: 'product-manager' },
    { id: 'dee', name: 'Dee Kim', role: 'designer' },
    { id: 'vic', name: 'Vic Tor', role: 'engineering-leadership' },
  ],
  teams: [
    {
      id: 'platform',
      name: 'Platform',
      members: ['sam', 'dana', 'dee'],
      trio: { product: 'dana', design: 'dee', tech: 'sam' },
      components: ['gateway'],
      escalation: 'vic',
    },
  ],
});

const SLO = `apiVersion: openslo/v1
kind: SLO
metadata:
  name: gateway-availability
  labels: { lanes.dev/team: platform }
spec:
  service: gateway
  indicator:
    metadata: { name: gateway-good }
    spec:
      ratioMetric:
        counter: true
        good: { metricSource: { type: Prometheus, spec: { query: good } } }
        total: { metricSource: { type: Prometheus, spec: { query: total } } }
  timeWindow: [{ duration: 28d, isRolling: true }]
  budgetingMethod: Occurrences
  objectives: [{ target: 0.999 }]
`;

describe.each(testEngines())('PUT /api/v1/slos with hostile YAML on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  beforeEach(async () => {
    database = await open();
    const loaded = { charter, index: buildCharterIndex(charter), path: 'lanes.yaml', loadedAt: '2026-06-01T00:00:00Z' };
    t = await buildTestServer(database, { charter: loaded });
  });
  afterEach(async () => {
    await t.server.app.close();
    await database.close();
  });

  const put = (yaml: string) => t.as('admin', { method: 'PUT', url: '/api/v1/slos', payload: { yaml } });
  const stored = async (): Promise<string[]> =>
    ((await t.as('member', { method: 'GET', url: '/api/v1/slos' })).json() as { slos: { name: string }[] }).slos.map(
      (s) => s.name,
    );

  it('answers an alias bomb with 400 LANES_SLO_INVALID at its line, stores nothing, and keeps serving', async () => {
    const res = await put(`${SLO}---\n${BILLION_LAUGHS}\n`);
    expect(res.statusCode).toBe(400);
    const line = SLO.split('\n').length + 7;
    expect(res.json()).toEqual({
      error: {
        code: 'LANES_SLO_INVALID',
        message: `request body has 1 problem(s):\nrequest body:${line}:7 LANES_SLO_YAML the SLO YAML expands to more than 1,000,000 values (through its aliases)`,
        details: { issues: [expect.objectContaining({ code: 'LANES_SLO_YAML', line, col: 7 })] },
      },
    });
    expect(await stored()).toEqual([]);
    expect((await t.as('anonymous', { method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('answers YAML nested 20,000 levels deep with 400, not a crash or a 500', async () => {
    for (const deep of [`${'- '.repeat(20_000)}x`, `x: ${'['.repeat(20_000)}${']'.repeat(20_000)}`]) {
      const res = await put(deep);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        error: { code: 'LANES_SLO_INVALID', message: expect.stringMatching(/nested or indented too deeply/) },
      });
    }
    expect(await stored()).toEqual([]);
  });

  it('still applies an ordinary SLO document', async () => {
    const res = await put(SLO);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ applied: ['gateway-availability'] });
    expect(await stored()).toEqual(['gateway-availability']);
  });
});
