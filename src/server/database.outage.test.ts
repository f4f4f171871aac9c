import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createOwnDatabase, type OwnDatabase } from '../../test/support/pg-own-database.js';
import { byStatus, streamDeliveries, type Answer } from '../../test/support/webhook-stream.js';
import { startLanesInstance, type LanesInstance } from '../../test/support/lanes-instance.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { ServiceContext } from '../services/context.js';
import { createEscalationMailer } from '../services/escalation.notify.js';
import { buildNotificationSenders, createNotifier } from '../services/notifications.service.js';
import { createQualityWorker } from '../services/quality.service.js';
import { openDatabase, type Database } from '../store/database.js';

/**
 * PostgreSQL connections cut from the server side while Lanes works, on a
 * database of this test's own (terminating backends in the run's shared
 * database would cut other tests' connections): the process survives,
 * requests in the gap are told 503 with Retry-After instead of a 500,
 * background loops back off and resume, and everything acknowledged is there
 * afterwards.
 */
const pgUrl = inject('pgUrl');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!pgUrl)('PostgreSQL backends terminated under load', () => {
  let own: OwnDatabase;
  let database: Database;
  let lanes: LanesInstance;

  beforeAll(async () => {
    own = await createOwnDatabase(pgUrl!);
    database = await openDatabase({ url: own.url, poolSize: 6 });
    lanes = await startLanesInstance(database);
  });

  afterAll(async () => {
    await own?.allowConnections().catch(() => undefined);
    await lanes?.close();
    await database?.close();
    await own?.drop();
  });

  const storedDeliveryIds = async (): Promise<Map<string, number>> => {
    const rows = await database.db
      .selectFrom('webhook_delivery')
      .select(['delivery_id'])
      .select((eb) => eb.fn.countAll<string>().as('copies'))
      .groupBy('delivery_id')
      .execute();
    return new Map(rows.map((r) => [r.delivery_id, Number(r.copies)]));
  };

  it('survives backends terminated mid-stream: no 500, 503 with Retry-After in the gap, nothing acknowledged lost', async () => {
    const stream = streamDeliveries(lanes.port, { prefix: 'terminated', concurrency: 8 });
    const reads: number[] = [];
    let stopped = false;
    const reading = (async () => {
      while (!stopped) reads.push((await lanes.call('/api/v1/items?limit=5')).status);
    })();
    await sleep(300);
    let terminated = 0;
    for (let i = 0; i < 5; i++) {
      terminated += await own.terminate();
      await sleep(100);
    }
    // A longer gap: the database refuses every new connection for a second.
    terminated += await own.refuseConnections();
    await sleep(1000);
    await own.allowConnections();
    await sleep(500);
    const answers = await stream.stop();
    stopped = true;
    await reading;
    const statuses = byStatus(answers);
    const readStatuses = byStatus(reads.map((status) => ({ status }) as Answer));
    console.log(
      `terminated backends: ${terminated} backends cut; deliveries ${JSON.stringify(statuses)}; reads ${JSON.stringify(readStatuses)}`,
    );
    expect(terminated).toBeGreaterThan(0);
    // Every answer is an acknowledgement or a 503 that says when to come back; never a 500.
    expect(Object.keys(statuses).sort()).toEqual(['202', '503']);
    expect(Object.keys(readStatuses).sort()).toEqual(['200', '503']);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.retryAfter).toMatch(/^\d+$/);
      expect(a.code).toBe('LANES_DATABASE_UNREACHABLE');
    }
    // Afterwards everything works again, in the same process.
    expect((await lanes.call('/api/v1/items?limit=5')).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${lanes.port}/readyz`)).status).toBe(200);
    // Nothing acknowledged was lost, and nothing was stored twice.
    const stored = await storedDeliveryIds();
    const acked = answers.filter((a) => a.status === 202).map((a) => a.deliveryId);
    expect(acked.length).toBeGreaterThan(50);
    expect(acked.filter((id) => stored.get(id) !== 1)).toEqual([]);
    // Logged once per burst, not once per client or per request.
    const errors = lanes.logLines.filter((l) => l.includes('"level":50'));
    console.log(`terminated backends: ${errors.length} error log lines`);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThanOrEqual(3);
  });

  it('tells /healthz and /readyz callers why while the database is away, and recovers by itself', async () => {
    await own.refuseConnections();
    try {
      const ready = await fetch(`http://127.0.0.1:${lanes.port}/readyz`);
      const health = await fetch(`http://127.0.0.1:${lanes.port}/healthz`);
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await ready.json()).toMatchObject({ error: { code: 'LANES_DATABASE_UNREACHABLE' } });
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        status: 'degraded',
        database: 'postgres',
        problem: { code: 'LANES_DATABASE_UNREACHABLE' },
      });
    } finally {
      await own.allowConnections();
    }
    expect(await (await fetch(`http://127.0.0.1:${lanes.port}/readyz`)).json()).toEqual({
      status: 'ready',
      database: 'postgres',
    });
    expect(await (await fetch(`http://127.0.0.1:${lanes.port}/healthz`)).json()).toMatchObject({ status: 'ok' });
  });

  it('backs the background loops off while the database is away and resumes them when it returns', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const NOW = new Date('2026-06-01T00:00:00Z');
    const charter = buildDemoCharter(42, NOW);
    const loaded = { charter, index: buildCharterIndex(charter), path: 'x', loadedAt: NOW.toISOString() };
    const ctx: ServiceContext = {
      database,
      logger: pino({ level: 'info' }, sink),
      clock: () => new Date(),
      newId: () => crypto.randomUUID(),
      charter: () => loaded,
    };
    const senders = buildNotificationSenders({}, { publicUrl: 'http://localhost' });
    // Away from the start: the quality worker's first full recompute fails too.
    await own.refuseConnections();
    const notifier = createNotifier(ctx, senders, { publicUrl: 'http://localhost', intervalMs: 100 });
    const mailer = createEscalationMailer(ctx, senders, { publicUrl: 'http://localhost', intervalMs: 100 });
    const quality = createQualityWorker(ctx, { intervalMs: 100 });
    notifier.start();
    mailer.start();
    quality.start();
    try {
      await sleep(3000);
      const whileAway = lines.filter((l) => l.includes('"level":50'));
      await own.allowConnections();
      const deadline = Date.now() + 20_000;
      const resumed = () =>
        lines.filter((l) => l.includes('failed round')).map((l) => JSON.parse(l) as { msg: string; failures: number });
      while (resumed().length < 2 && Date.now() < deadline) await sleep(200);
      const recoveries = resumed();
      console.log(
        `background loops: ${whileAway.length} error log lines in 3 s away; ${recoveries.map((r) => r.msg).join(' | ')}`,
      );
      expect(whileAway.length).toBeLessThanOrEqual(2);
      // (Without an e-mail sender the escalation round does not touch the database: it only must not crash.)
      expect(recoveries.map((r) => r.msg.replace(/ works again.*/, '')).sort()).toEqual([
        'recomputing quality signals',
        'the notification round',
      ]);
      // Backed off: at a 100 ms interval, 3 s away would have been about 30 failed rounds each.
      for (const r of recoveries) expect(r.failures).toBeLessThanOrEqual(8);
    } finally {
      await own.allowConnections();
      await notifier.close();
      await mailer.close();
      await quality.close();
    }
  });
});
