import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookIntake, type WebhookIntake } from '../services/webhooks.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { SEED_BODIES, tableCounter, wireBody, wirePath, wireQuery, type WireBody } from './fuzz.test-helper.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

/** How long each engine fuzzes; the cases run in that time are printed. */
const BUDGET_MS = Number(process.env['LANES_FUZZ_MS'] ?? 15_000);
const BODY_LIMIT = 256 * 1024;

interface Case {
  /** `METHOD url` of the route (a route spec prints badly in a counterexample). */
  route: string;
  path: string;
  query: Record<string, string>;
  body: WireBody;
}

describe.each(testEngines())('every write route under generated bodies on $engine', ({ engine, open }) => {
  let database: Database;
  let t: TestServer;
  let intake: WebhookIntake;
  beforeAll(async () => {
    database = await open();
    intake = createWebhookIntake(
      {
        database,
        logger: pino({ level: 'silent' }),
        clock: () => new Date('2026-06-01T00:00:00Z'),
        newId: () => crypto.randomUUID(),
        charter: () => undefined,
      },
      { LANES_GITHUB_WEBHOOK_SECRET: 'fuzz-secret', LANES_JIRA_WEBHOOK_SECRET: 'fuzz-secret' },
      { autoDrain: false },
    );
    t = await buildTestServer(database, {
      server: {
        bodyLimit: BODY_LIMIT,
        slackSigningSecret: 'fuzz-slack-secret',
        webhooks: { intake, bodyLimit: BODY_LIMIT, active: ['github', 'jira'] },
      },
    });
  });
  afterAll(async () => {
    await intake.close();
    await t.server.app.close();
    await database.close();
  });

  it('accepts every seed body as it is, so that mutations of it reach storage', async () => {
    for (const [name, body] of Object.entries(SEED_BODIES)) {
      const [method, url] = name.split(' ') as ['POST' | 'PUT', string];
      const res = await t.as('admin', { method, url, payload: body as object });
      expect(res.statusCode, `${name}: ${res.body}`).toBeLessThan(300);
    }
  });

  it(
    'never answers 5xx, answers every refusal in the documented shape, and stores nothing when it refuses',
    async () => {
      const writes = t.server.routes.filter((r) => r.method !== 'GET');
      expect(writes.map((r) => r.url)).toEqual(
        expect.arrayContaining(['/api/v1/events', '/hooks/:provider', '/api/v1/coverage', '/slack/commands']),
      );
      const counts = await tableCounter(database);
      const statuses = new Map<number, number>();
      let cases = 0;
      const byName = new Map(writes.map((r) => [`${r.method} ${r.url}`, r]));
      const arbitrary: fc.Arbitrary<Case> = fc.constantFrom(...writes).chain((route) =>
        fc.record({
          route: fc.constant(`${route.method} ${route.url}`),
          path: wirePath(route),
          query: wireQuery(route),
          body: wireBody(route, BODY_LIMIT),
        }),
      );
      await fc.assert(
        fc.asyncProperty(arbitrary, async ({ route: name, path, query, body }) => {
          const route = byName.get(name)!;
          cases += 1;
          const before = await counts();
          const res = await t.as('admin', {
            method: route.method,
            url: path,
            query,
            headers: body.contentType === undefined ? {} : { 'content-type': body.contentType },
            ...(body.payload === undefined ? {} : { payload: body.payload }),
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          const what = `${name} as ${path} (${body.contentType}): ${res.statusCode} ${res.body.slice(0, 300)}`;
          expect(res.statusCode, what).toBeLessThan(500);
          if (res.statusCode < 400) return;
          // The unsubscribe and consent forms answer browsers with pages; everything else with the JSON error.
          if (!String(res.headers['content-type']).startsWith('text/html')) {
            const answer = res.json() as { error?: Record<string, unknown> };
            expect(Object.keys(answer), what).toEqual(['error']);
            expect(answer.error, what).toMatchObject({
              code: expect.stringMatching(/^LANES_[A-Z_]+$/),
              message: expect.any(String),
            });
          }
          expect(await counts(), what).toEqual(before);
        }),
        { numRuns: 1_000_000, interruptAfterTimeLimit: BUDGET_MS, markInterruptAsFailure: false },
      );
      const byStatus = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
      console.log(
        `write-route fuzz on ${engine}: ${cases} cases over ${writes.length} routes (${byStatus.join(', ')})`,
      );
      expect(cases).toBeGreaterThan(100);
    },
    BUDGET_MS + 30_000,
  );
});
