import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pino from 'pino';
import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startLanesInstance } from '../../test/support/lanes-instance.js';
import { createOwnDatabase } from '../../test/support/pg-own-database.js';
import { issueOpenedBody, streamDeliveries } from '../../test/support/webhook-stream.js';
import { countPendingDeliveries, insertDeliveries, type NewDelivery } from '../store/connector.repository.js';
import { openDatabase, type Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import type { ServiceContext } from './context.js';
import { BatchSizer } from './webhook.drain.js';
import { createWebhookIntake } from './webhooks.service.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (polling) until `check` holds; fails with `what` after `ms`, a bound for a hang, not a speed target. */
const waitFor = async (what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
};

const contextOn = (database: Database, logLines: string[] = []): ServiceContext => ({
  database,
  logger: pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  ),
  clock: () => new Date(),
  newId: randomUUID,
  charter: () => undefined,
});

/** Issue-opened deliveries as another instance (or an earlier process) stored them: pending. */
const storedDeliveries = (prefix: string, count: number, firstIssue = 1): NewDelivery[] =>
  Array.from({ length: count }, (_, i) => ({
    provider: 'github',
    deliveryId: `${prefix}-${i}`,
    eventType: 'issues',
    receivedAt: new Date().toISOString(),
    body: Buffer.from(issueOpenedBody(firstIssue + i)),
  }));

const statusCounts = async (database: Database): Promise<Record<string, number>> => {
  const rows = await database.db
    .selectFrom('webhook_delivery')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
};

/** Makes every claim of a pending delivery fail (an UPDATE of the table refused), until `lift()`. */
const refuseClaims = async (database: Database): Promise<{ lift(): Promise<void> }> => {
  if (database.engine === 'sqlite') {
    await sql`CREATE TRIGGER refuse_claims BEFORE UPDATE ON webhook_delivery
      BEGIN SELECT RAISE(ABORT, 'claims refused by the test'); END`.execute(database.db);
    return { lift: async () => void (await sql`DROP TRIGGER refuse_claims`.execute(database.db)) };
  }
  await sql`CREATE FUNCTION refuse_claims() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'claims refused by the test'; END $$`.execute(database.db);
  await sql`CREATE TRIGGER refuse_claims BEFORE UPDATE ON webhook_delivery
      FOR EACH ROW EXECUTE FUNCTION refuse_claims()`.execute(database.db);
  return {
    lift: async () => {
      await sql`DROP TRIGGER refuse_claims ON webhook_delivery`.execute(database.db);
      await sql`DROP FUNCTION refuse_claims()`.execute(database.db);
    },
  };
};

describe('BatchSizer', () => {
  const limits = { min: 10, max: 1000, targetMs: 40, backlogTargetMs: 80, idleTargetMs: 200 };

  it('starts small, to learn what a batch costs', () => {
    const sizer = new BatchSizer(limits);
    expect(sizer.next(true)).toBe(10);
    expect(sizer.next(false)).toBe(100);
  });

  it('sizes batches to the block target from what the last ones cost, longer while a backlog is worked off', () => {
    const sizer = new BatchSizer(limits);
    // Took everything pending (8 of 10) at 0.5 ms each: 40 ms fits 80.
    sizer.record(10, 8, 4);
    expect(sizer.next(true)).toBe(80);
    // With nothing arriving, 200 ms fits 400.
    expect(sizer.next(false)).toBe(400);
    // A full batch: a backlog; the longer target allows 160 at that cost.
    sizer.record(80, 80, 40);
    expect(sizer.next(true)).toBe(160);
    // Batches that hold the loop far longer than the target shrink the next one, never below the minimum.
    for (let i = 0; i < 10; i++) sizer.record(160, 100, 1000);
    expect(sizer.next(true)).toBe(10);
    // And cheap ones never make it exceed the maximum.
    for (let i = 0; i < 30; i++) sizer.record(10, 10, 0.01);
    expect(sizer.next(false)).toBe(1000);
  });

  it('follows the backlog alone where queries do not hold the event loop', () => {
    const sizer = new BatchSizer(limits, false);
    expect(sizer.next(true)).toBe(10);
    // Full batches double it, however long the loop was held meanwhile (by acknowledgements, mostly).
    sizer.record(10, 10, 500);
    expect(sizer.next(true)).toBe(20);
    sizer.record(20, 20, 500);
    sizer.record(40, 40, 500);
    expect(sizer.next(true)).toBe(80);
    for (let i = 0; i < 10; i++) sizer.record(sizer.next(true), sizer.next(true), 500);
    expect(sizer.next(true)).toBe(1000);
    // Little pending: twice what the last one took.
    sizer.record(1000, 30, 5);
    expect(sizer.next(true)).toBe(60);
  });
});

describe.each(testEngines())('mapping webhook deliveries on $engine', ({ engine, open }) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const opened = async (): Promise<Database> => {
    const database = await open();
    cleanups.push(() => database.close());
    return database;
  };

  it('maps continuously under a steady stream: the backlog comes down while deliveries keep arriving', async () => {
    const database = await opened();
    const lanes = await startLanesInstance(database);
    cleanups.push(() => lanes.close());
    const stream = streamDeliveries(lanes.port, { prefix: 'steady', concurrency: 4, pauseMs: 2 });
    const samples: Record<string, number>[] = [];
    for (let i = 0; i < 20; i++) {
      await sleep(200);
      samples.push(await statusCounts(database));
    }
    const answers = await stream.stop();
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const last = samples.at(-1)!;
    const stored = (last['pending'] ?? 0) + (last['mapped'] ?? 0);
    // Before: mapping waited for a quiet moment that a steady stream never gives, then took 20 a second.
    expect(stored).toBeGreaterThan(200);
    expect(last['mapped'] ?? 0).toBeGreaterThan(stored / 2);
    expect(samples.some((s, i) => i > 0 && (s['pending'] ?? 0) < (samples[i - 1]!['pending'] ?? 0))).toBe(true);
    await waitFor('the stream to be mapped', async () => (await countPendingDeliveries(database)) === 0);
  });

  it('retries on a timer after a failed round and maps what is pending without a new delivery', async () => {
    const database = await opened();
    const refusal = await refuseClaims(database);
    await insertDeliveries(database, storedDeliveries('retry', 30));
    const logLines: string[] = [];
    // Its first round (at start) fails; the idle poll is far off, so only a retry can map them.
    const intake = createWebhookIntake(
      contextOn(database, logLines),
      {},
      { retryMs: 100, maxRetryMs: 500, pollMs: 600_000 },
    );
    cleanups.push(() => intake.close());
    await waitFor('a failed round', async () => logLines.some((l) => l.includes('claims refused by the test')));
    await sleep(300);
    expect(await countPendingDeliveries(database)).toBe(30);
    expect(logLines.some((l) => l.includes('mapping webhook deliveries failed'))).toBe(true);
    await refusal.lift();
    // No delivery arrives and nobody calls drain(): the retry maps them.
    await waitFor(
      'the retry to map the pending deliveries',
      async () => (await countPendingDeliveries(database)) === 0,
    );
    expect(await statusCounts(database)).toEqual({ mapped: 30 });
  });

  it('picks up, on its idle poll, deliveries that another instance stored', async () => {
    const database = await opened();
    const intake = createWebhookIntake(contextOn(database), {}, { pollMs: 100 });
    cleanups.push(() => intake.close());
    await sleep(200);
    await insertDeliveries(database, storedDeliveries('elsewhere', 25));
    await waitFor('the poll to map them', async () => (await countPendingDeliveries(database)) === 0);
    expect(await statusCounts(database)).toEqual({ mapped: 25 });
  });

  it('shares the work between instances: claimed deliveries are mapped by one of them only', async () => {
    const database = await opened();
    // On PostgreSQL a second connection pool on the same schema, as a second instance has.
    const other =
      engine === 'postgres'
        ? await openDatabase({ url: database.pool!.options.connectionString!, pgSchema: await schemaOf(database) })
        : database;
    if (other !== database) cleanups.push(() => other.close());
    await insertDeliveries(database, storedDeliveries('shared', 600));
    const a = createWebhookIntake(contextOn(database), {}, { autoDrain: false, maxBatch: 50 });
    const b = createWebhookIntake(contextOn(other), {}, { autoDrain: false, maxBatch: 50 });
    const [ra, rb] = await Promise.all([a.drain(), b.drain()]);
    await Promise.all([a.close(), b.close()]);
    expect(ra.deliveries + rb.deliveries).toBe(600);
    expect(ra.deliveries).toBeGreaterThan(0);
    expect(rb.deliveries).toBeGreaterThan(0);
    expect(await statusCounts(database)).toEqual({ mapped: 600 });
  });

  it('stops after the batch in flight when closed, whatever the backlog, and leaves the rest unclaimed', async () => {
    const database = await opened();
    await insertDeliveries(database, storedDeliveries('backlog', 2000));
    const intake = createWebhookIntake(contextOn(database), {}, { autoDrain: false, maxBatch: 100 });
    const draining = intake.drain();
    await waitFor('the first batch', async () => (await countPendingDeliveries(database)) < 2000);
    await intake.close();
    await draining;
    const left = await countPendingDeliveries(database);
    expect(left).toBeGreaterThan(0);
    const held = await database.db
      .selectFrom('webhook_delivery')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('claimed_by', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(Number(held.n)).toBe(0);
    // The next start maps the rest.
    const next = createWebhookIntake(contextOn(database), {}, { autoDrain: false });
    expect((await next.drain()).deliveries).toBe(left);
    await next.close();
  });
});

const schemaOf = async (database: Database): Promise<string> =>
  (await sql<{ s: string }>`SELECT current_schema() AS s`.execute(database.db)).rows[0]!.s;

describe('the delivery store on SQLite', () => {
  it('commits deliveries with synchronous=FULL and gives the connection its own setting back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-durable-'));
    const database = await openDatabase({ url: join(dir, 'lanes.db') });
    try {
      const sqlite = database.sqlite!;
      // What the connection's synchronous setting is while each delivery row is written.
      sqlite.exec(`CREATE TEMP TABLE seen_sync (level INTEGER);
        CREATE TEMP TRIGGER record_sync AFTER INSERT ON main.webhook_delivery
        BEGIN INSERT INTO seen_sync SELECT synchronous FROM pragma_synchronous; END;`);
      await insertDeliveries(database, storedDeliveries('durable', 3));
      expect(sqlite.prepare('SELECT level FROM seen_sync').pluck().all()).toEqual([2, 2, 2]);
      expect(sqlite.pragma('synchronous', { simple: true })).toBe(1);
      sqlite.exec('DELETE FROM seen_sync');
      await insertDeliveries(database, storedDeliveries('measured', 1), 'process');
      expect(sqlite.prepare('SELECT level FROM seen_sync').pluck().all()).toEqual([1]);
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!inject('pgUrl'))('the delivery store on PostgreSQL', () => {
  it('commits deliveries with synchronous_commit on where the database turned it off', async () => {
    const own = await createOwnDatabase(inject('pgUrl')!, 'lanes_durable');
    try {
      const admin = new pg.Client({ connectionString: inject('pgUrl')! });
      await admin.connect();
      await admin.query(`ALTER DATABASE ${own.name} SET synchronous_commit = off`);
      await admin.end();
      const database = await openDatabase({ url: own.url, poolSize: 2 });
      try {
        await sql`CREATE TABLE seen_sync (level text)`.execute(database.db);
        await sql`CREATE FUNCTION record_sync() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN INSERT INTO seen_sync VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$`.execute(
          database.db,
        );
        await sql`CREATE TRIGGER record_sync AFTER INSERT ON webhook_delivery
          FOR EACH ROW EXECUTE FUNCTION record_sync()`.execute(database.db);
        const seen = async () => (await sql<{ level: string }>`SELECT level FROM seen_sync`.execute(database.db)).rows;
        await insertDeliveries(database, storedDeliveries('durable', 2));
        expect(await seen()).toEqual([{ level: 'on' }, { level: 'on' }]);
        await sql`DELETE FROM seen_sync`.execute(database.db);
        await insertDeliveries(database, storedDeliveries('measured', 1), 'process');
        expect(await seen()).toEqual([{ level: 'off' }]);
      } finally {
        await database.close();
      }
    } finally {
      await own.drop();
    }
  });
});
