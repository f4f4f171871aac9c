import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { githubWebhooks } from '../connectors/github/github.webhook.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import type { Charter } from '../domain/charter.schema.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { EventInput } from '../domain/event.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { recomputeBoundaries } from './boundaries.service.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { appendEvents } from './events.service.js';

/**
 * A GitHub milestone move is one decision on the incremental path too, in
 * whichever appends and order its two deliveries arrive. The deliveries are
 * GitHub's own `issues.demilestoned` and `issues.milestoned` examples
 * (`@octokit/webhooks-examples`, MIT): Codertocat's bug Hello-World#2 at
 * 2019-05-15T15:20:35Z. The examples take v1.0 off and put v1.0 back; the
 * `milestoned` one is given milestone v1.1 here, so that the two are a move.
 */

const NOW = new Date('2026-06-01T00:00:00Z');
const demo = buildDemoCharter(42, NOW);
// Codertocat is the Payments product manager here: a PM scheduling a bug crosses into engineering's lane.
const charter: Charter = {
  ...demo,
  connectors: {
    github: {
      repos: { 'Codertocat/Hello-World': { team: 'payments', component: 'checkout' } },
      identities: { Codertocat: 'priya.raman' },
    },
  },
};
const loaded: LoadedCharter = { charter, index: buildCharterIndex(charter), path: 'lanes.yaml', loadedAt: '' };

const example = (action: string): Record<string, unknown> => {
  const require = createRequire(import.meta.url);
  const all = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples'), 'utf8')) as {
    name: string;
    examples: Record<string, unknown>[];
  }[];
  return structuredClone(all.find((d) => d.name === 'issues')!.examples.find((e) => e['action'] === action)!);
};

const map = (payload: Record<string, unknown>): EventInput[] =>
  githubWebhooks.map('issues', payload, { mapping: charter.connectors!.github, unmapped: () => undefined }) ?? [];

const demilestoned = (): EventInput[] => map(example('demilestoned'));
const milestoned = (): EventInput[] => {
  const payload = example('milestoned') as { milestone: { title: string }; issue: { milestone: { title: string } } };
  payload.milestone.title = 'v1.1';
  payload.issue.milestone.title = 'v1.1';
  return map(payload);
};

describe.each(testEngines())('moves on the incremental path on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let n = 0;
  beforeEach(async () => {
    database = await open();
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `e${String(++n).padStart(6, '0')}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  const decisions = async () =>
    (
      await database.db
        .selectFrom('boundary_decision as b')
        .innerJoin('event as e', 'e.id', 'b.event_id')
        .select(['e.source_event_id', 'b.domain', 'b.standing', 'b.direction', 'b.sentence'])
        .execute()
    ).map((r) => ({ ...r }));
  const weeks = async () =>
    (await database.db.selectFrom('boundary_week').selectAll().where('decisions', '!=', 0).execute()).map((r) => ({
      ...r,
      decisions: Number(r.decisions),
    }));

  it.each([
    ['in one append', [[...demilestoned(), ...milestoned()]]],
    ['cleared, then set in a later append', [demilestoned(), milestoned()]],
    ['set, then the clear delivered late', [milestoned(), demilestoned()]],
    ['with re-deliveries', [milestoned(), demilestoned(), milestoned(), demilestoned()]],
  ])('judges the move once %s, as a recompute does', async (_name, batches) => {
    for (const batch of batches) await appendEvents(ctx, batch);
    const incremental = await decisions();
    expect(incremental).toEqual([
      {
        source_event_id: 'Codertocat/Hello-World#2/milestoned/v1.1/2019-05-15T15:20:35Z',
        domain: 'eng.bug-triage',
        standing: 'consulted',
        direction: 'product_to_engineering',
        sentence: expect.stringMatching(/^Milestone of bug Codertocat\/Hello-World#2 was changed by a product manager/),
      },
    ]);
    const counted = await weeks();
    expect(counted.map((w) => w.decisions)).toEqual([1]);
    await recomputeBoundaries(ctx);
    expect(await decisions()).toEqual(incremental);
    expect(await weeks()).toEqual(counted);
  });

  it("counts GitHub's own example, v1.0 taken off and put back in the same second, as no decision", async () => {
    await appendEvents(ctx, [...map(example('demilestoned')), ...map(example('milestoned'))]);
    expect(await decisions()).toEqual([]);
  });
});
