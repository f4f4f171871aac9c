import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { countItems, getItem, listItems } from '../store/item.repository.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { loadDemo } from './demo.service.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const ITEMS = 300;

describe.each(testEngines())('demo service on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let n = 0;
  beforeEach(async () => {
    database = await open();
    const charter = buildDemoCharter(42, NOW);
    const loaded: LoadedCharter = {
      charter,
      index: buildCharterIndex(charter),
      path: 'lanes.yaml',
      loadedAt: NOW.toISOString(),
    };
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `e${++n}`,
      charter: () => loaded,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  it('loads the demo items in batches and stores nothing new when loaded again', async () => {
    const progress: number[] = [];
    const first = await loadDemo(ctx, {
      items: ITEMS,
      seed: 42,
      now: NOW,
      batchSize: 1000,
      onProgress: (p) => progress.push(p.events),
    });
    expect(first.items).toBe(ITEMS);
    expect(first.events).toBeGreaterThan(ITEMS * 8);
    expect(first).toMatchObject({ stored: first.events, duplicates: 0 });
    expect(await countItems(database)).toBe(ITEMS);
    expect(progress.length).toBe(Math.ceil(first.events / 1000));
    expect(progress.at(-1)).toBe(first.events);

    const again = await loadDemo(ctx, { items: ITEMS, seed: 42, now: NOW });
    expect(again).toEqual({ items: ITEMS, events: first.events, stored: 0, duplicates: first.events });
    expect(await countItems(database)).toBe(ITEMS);
  });

  it('projects Payments items with their team, people as assignees and resolved reporters', async () => {
    await loadDemo(ctx, { items: ITEMS, seed: 42, now: NOW });
    const keys = (await listItems(database, { team: 'payments' }, 500)).map((item) => item.key);
    const payments = (await Promise.all(keys.map((key) => getItem(database, key)))).map((item) => item!);
    expect(payments.length).toBeGreaterThan(ITEMS * 0.2);
    expect(payments.every((item) => item.key.startsWith('PAY-') || item.key.startsWith('INC-'))).toBe(true);
    const people = new Set(buildDemoCharter(42, NOW).people.map((p) => p.id));
    const assigned = payments.filter((item) => item.assignee);
    expect(assigned.length).toBeGreaterThan(0);
    for (const item of assigned) expect(people.has(item.assignee!)).toBe(true);
    expect(payments.filter((item) => item.reporter && people.has(item.reporter)).length).toBeGreaterThan(
      payments.length / 2,
    );
    expect(payments.some((item) => item.stage === 'live' || item.stage === 'verified')).toBe(true);
    const [markup] = await listItems(database, { q: '<b>NaN</b>' }, 5);
    expect(markup).toMatchObject({
      title: 'Checkout shows <b>NaN</b> total for carts with a gift card',
      team: 'payments',
    });
    const [sql] = await listItems(database, { q: "'; DROP TABLE" }, 5);
    expect(sql?.title).toContain(`"'; DROP TABLE items; --"`);
    expect(await getItem(database, sql!.key)).toMatchObject(sql!);
  });

  it('works without a charter, leaving actors unresolved', async () => {
    const bare: ServiceContext = { ...ctx, charter: () => undefined };
    const result = await loadDemo(bare, { items: 40, seed: 3, now: NOW });
    expect(result.items).toBe(40);
    expect(await countItems(database)).toBe(40);
  });
});
