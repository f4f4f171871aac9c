import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { byStatus, streamDeliveries, type Answer } from '../../test/support/webhook-stream.js';
import { startLanesInstance, type LanesInstance } from '../../test/support/lanes-instance.js';
import { openDatabase, type Database } from '../store/database.js';

/**
 * PostgreSQL connections cut from the server side while Lanes is answering
 * requests, on a database of this test's own (terminating backends in the
 * run's shared database would cut other tests' connections): the process
 * survives, requests in the gap are told 503 with Retry-After instead of a
 * 500, and everything acknowledged is there afterwards.
 */
const pgUrl = inject('pgUrl');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!pgUrl)('PostgreSQL backends terminated under load', () => {
  const name = `lanes_resilience_${randomBytes(5).toString('hex')}`;
  let admin: pg.Client;
  let database: Database;
  let lanes: LanesInstance;

  const terminate = async (): Promise<number> => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    );
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [name],
    );
    return rows.length;
  };

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: pgUrl! });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(pgUrl!);
    url.pathname = `/${name}`;
    database = await openDatabase({ url: url.toString(), poolSize: 6 });
    lanes = await startLanesInstance(database);
  });

  afterAll(async () => {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`).catch(() => undefined);
    await lanes?.close();
    await database?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  const acknowledged = (answers: readonly Answer[]) => answers.filter((a) => a.status === 202).map((a) => a.deliveryId);

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
      while (reads.length < 10_000 && !stopped) reads.push((await lanes.call('/api/v1/items?limit=5')).status);
    })();
    await sleep(300);
    let terminated = 0;
    for (let i = 0; i < 5; i++) {
      terminated += await terminate();
      await sleep(100);
    }
    // A longer gap: the database refuses every new connection for a second.
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    terminated += await terminate();
    await sleep(1000);
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    await sleep(500);
    const answers = await stream.stop();
    stopped = true;
    await reading;
    const statuses = byStatus(answers);
    console.log(
      `terminated backends: ${terminated} backends cut; deliveries ${JSON.stringify(statuses)}; reads ${JSON.stringify(
        byStatus(reads.map((status) => ({ status }) as Answer)),
      )}`,
    );
    expect(terminated).toBeGreaterThan(0);
    // Every answer is an acknowledgement or a 503 that says when to come back; never a 500.
    expect(Object.keys(statuses).sort()).toEqual(['202', '503']);
    expect(reads.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(reads.filter((s) => s === 503).length).toBeGreaterThan(0);
    for (const a of answers.filter((x) => x.status === 503)) {
      expect(a.retryAfter).toMatch(/^\d+$/);
      expect(a.code).toBe('LANES_DATABASE_UNREACHABLE');
    }
    // Afterwards everything works again, in the same process.
    const after = await lanes.call('/api/v1/items?limit=5');
    expect(after.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${lanes.port}/readyz`);
    expect(ready.status).toBe(200);
    // Nothing acknowledged was lost, and nothing was stored twice.
    const stored = await storedDeliveryIds();
    const acked = acknowledged(answers);
    expect(acked.length).toBeGreaterThan(50);
    expect(acked.filter((id) => stored.get(id) !== 1)).toEqual([]);
    // One log line per burst of lost connections, not one per client or per request.
    const named = lanes.logLines.filter((l) => /terminat|ECONNREFUSED|not currently accepting|57P01/.test(l));
    console.log(`terminated backends: ${named.length} log lines name the cause`);
    expect(named.length).toBeGreaterThan(0);
    expect(named.length).toBeLessThanOrEqual(4);
  });
});
