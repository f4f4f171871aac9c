import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arbitraryEventInput } from '../domain/event.arbitrary.test-helper.js';
import { projectItem } from '../domain/item.projection.js';
import pino from 'pino';
import type { EventInput } from '../domain/event.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { getItem, listItems } from '../store/item.repository.js';
import { listItemEvents } from '../store/event.repository.js';
import type { ServiceContext } from './context.js';
import { appendEvents, ingestEvents, rebuildProjection } from './events.service.js';

const created = (key: string, id: string, at: string, extra: Partial<EventInput['item']> = {}): EventInput => ({
  source: 'native',
  sourceEventId: id,
  occurredAt: at,
  actor: { kind: 'github', id: 'octocat' },
  item: { key, kind: 'bug', title: `Bug ${key}`, team: 'payments', severity: 'high', ...extra },
  change: { kind: 'created' },
});

const changed = (key: string, id: string, at: string, field: 'state' | 'priority', to: string): EventInput => ({
  source: 'native',
  sourceEventId: id,
  occurredAt: at,
  item: { key },
  change: { kind: 'field_changed', field, to },
});

describe.each(testEngines())('events service on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let n = 0;
  beforeEach(async () => {
    database = await open();
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => new Date('2026-06-01T00:00:00Z'),
      newId: () => `e${++n}`,
      charter: () => undefined,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  it('projects an item from its events and keeps the history in order', async () => {
    const result = await appendEvents(ctx, [
      created('PAY-1', '1', '2026-05-01T10:00:00Z'),
      changed('PAY-1', '2', '2026-05-01T10:30:00+01:00', 'priority', 'P1'),
      changed('PAY-1', '3', '2026-05-02T09:00:00Z', 'state', 'in progress'),
    ]);
    expect(result).toMatchObject({ received: 3, stored: 3, duplicates: 0, itemsUpdated: 1 });
    const item = await getItem(database, 'PAY-1');
    expect(item).toMatchObject({
      kind: 'bug',
      priority: 'P1',
      state: 'in progress',
      stage: 'being_fixed',
      eventCount: 3,
    });
    const history = await listItemEvents(database, 'PAY-1');
    expect(history.map((e) => e.sourceEventId)).toEqual(['2', '1', '3']);
  });

  it('counts a re-delivery as a duplicate and stores nothing twice', async () => {
    await appendEvents(ctx, [created('PAY-2', 'a', '2026-05-01T10:00:00Z')]);
    const again = await appendEvents(ctx, [
      created('PAY-2', 'a', '2026-05-01T10:00:00Z'),
      created('PAY-2', 'a', '2026-05-01T10:00:00Z'),
    ]);
    expect(again).toMatchObject({ stored: 0, duplicates: 2 });
    expect((await getItem(database, 'PAY-2'))?.eventCount).toBe(1);
  });

  it('converges when an earlier event arrives later', async () => {
    await appendEvents(ctx, [changed('PAY-3', 'b', '2026-05-03T00:00:00Z', 'state', 'done')]);
    const late = await appendEvents(ctx, [created('PAY-3', 'a', '2026-05-01T00:00:00Z', { state: 'open' })]);
    expect(late.itemsReplayed).toBe(1);
    const item = await getItem(database, 'PAY-3');
    expect(item).toMatchObject({ state: 'done', title: 'Bug PAY-3', closedAt: '2026-05-03T00:00:00.000Z' });
  });

  it('rejects a batch with a bad event and writes none of it', async () => {
    const bad = { ...created('PAY-4', 'x', '2026-05-01T00:00:00Z'), change: { kind: 'teleported' } };
    await expect(ingestEvents(ctx, [created('PAY-4', 'ok', '2026-05-01T00:00:00Z'), bad])).rejects.toMatchObject({
      code: 'LANES_EVENT_UNKNOWN_KIND',
      details: { rejections: [{ index: 1, code: 'LANES_EVENT_UNKNOWN_KIND' }] },
    });
    expect(await getItem(database, 'PAY-4')).toBeUndefined();
  });

  it('rebuilds the same projection from the log', async () => {
    await appendEvents(ctx, [
      created('PAY-5', '1', '2026-05-01T00:00:00Z'),
      changed('PAY-5', '2', '2026-05-02T00:00:00Z', 'state', 'done'),
      changed('PAY-5', '3', '2026-05-03T00:00:00Z', 'state', 'reopened'),
      created('PAY-6', '4', '2026-05-01T00:00:00Z'),
    ]);
    const before = [await getItem(database, 'PAY-5'), await getItem(database, 'PAY-6')];
    expect(before[0]?.reopenCount).toBe(1);
    const rebuilt = await rebuildProjection(ctx, 1);
    expect(rebuilt).toEqual({ items: 2, events: 4 });
    expect([await getItem(database, 'PAY-5'), await getItem(database, 'PAY-6')]).toEqual(before);
  });

  it('converges to the same projection for any batching, order and duplicates (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbitraryEventInput(), { minLength: 1, maxLength: 30 }),
        fc.infiniteStream(fc.nat()),
        fc.integer({ min: 1, max: 7 }),
        async (raw, order, batchSize) => {
          const fresh = await open();
          const local: ServiceContext = { ...ctx, database: fresh };
          try {
            const inputs: EventInput[] = raw.map((e, i) => ({ ...e, sourceEventId: `p${i}` }));
            const deliveries = [...inputs, ...inputs.filter(() => order.next().value % 3 === 0)];
            for (let i = deliveries.length - 1; i > 0; i--) {
              const j = order.next().value % (i + 1);
              [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
            }
            for (let i = 0; i < deliveries.length; i += batchSize) {
              await appendEvents(local, deliveries.slice(i, i + batchSize));
            }
            const keys = (await listItems(fresh, {}, 100)).map((item) => item.key);
            const stored = await Promise.all(keys.map((key) => getItem(fresh, key)));
            const history = await Promise.all(keys.map((key) => listItemEvents(fresh, key)));
            expect(stored).toEqual(history.map((events) => projectItem(events)));
            const rebuilt = await rebuildProjection(local);
            expect(rebuilt.events).toBe(inputs.length);
          } finally {
            await fresh.close();
          }
        },
      ),
      { numRuns: 25 },
    );
    // 25 fresh databases, each migrated: about 16 s on PostgreSQL alone, more beside the other test files.
  }, 120_000);
});

describe.each(testEngines())('unknown identities on $engine', ({ open }) => {
  it('counts actors the charter does not name as unmapped identities, once per stored event', async () => {
    const { buildDemoCharter } = await import('../domain/demo/demo.charter.js');
    const { buildCharterIndex } = await import('../domain/charter.identity.js');
    const { listUnmapped } = await import('../store/connector.repository.js');
    const now = new Date('2026-06-01T00:00:00Z');
    const charter = buildDemoCharter(42, now);
    const known = charter.people.find((p) => p.github)!.github!;
    const database = await open();
    try {
      let n = 0;
      const ctx: ServiceContext = {
        database,
        logger: pino({ level: 'silent' }),
        clock: () => now,
        newId: () => `u-${++n}`,
        charter: () => ({ charter, index: buildCharterIndex(charter), path: 'demo', loadedAt: now.toISOString() }),
      };
      const event = (id: string, login: string, kind: 'github' | 'bot' = 'github'): EventInput => ({
        source: 'github',
        sourceEventId: id,
        occurredAt: '2026-05-01T00:00:00Z',
        actor: { kind, id: login },
        item: { key: 'acme/checkout#1' },
        change: { kind: 'commented', text: 'hello' },
      });
      await appendEvents(ctx, [
        event('a', 'Stranger'),
        event('b', 'stranger'),
        event('c', known),
        event('d', 'dependabot[bot]', 'bot'),
      ]);
      await appendEvents(ctx, [event('a', 'Stranger')]);
      expect(await listUnmapped(database)).toMatchObject([
        { source: 'github', category: 'identity', value: 'github:stranger', count: 2 },
      ]);
    } finally {
      await database.close();
    }
  });
});
