import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCharterYaml } from '../../src/domain/demo/demo.charter.js';
import { byStatus, STREAM_SECRET, streamDeliveries } from '../support/webhook-stream.js';

/**
 * A real PostgreSQL restarted (`pg_ctl restart -m fast`) while `lanes serve`,
 * in its own process, receives a stream of signed webhook deliveries. The
 * shared PostgreSQL of the test run is never touched: the test starts a
 * private cluster (Debian's initdb and pg_ctl, run as the postgres user) in a
 * temporary directory on a free port.
 */
const PG_BIN = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
})();
const RUNUSER = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));

const missing = !PG_BIN ? 'PostgreSQL server binaries (/usr/lib/postgresql/*/bin)' : !RUNUSER ? 'runuser' : undefined;
if (missing) {
  const message = `the PostgreSQL restart test needs ${missing}`;
  if (process.env['CI'] === 'true') throw new Error(`${message}; CI must run it`);
  console.warn(`\n${'!'.repeat(78)}\n!! ${message}.\n!! It is SKIPPED.\n${'!'.repeat(78)}\n`);
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(Boolean(missing))('lanes serve through a PostgreSQL restart', () => {
  let dir: string;
  let data: string;
  let pgPort: number;
  let url: string;
  let lanes: ChildProcess | undefined;
  let out = '';
  const asPostgres = (args: string[]) =>
    execFileSync(RUNUSER!, ['-u', 'postgres', '--', ...args], { stdio: 'pipe', timeout: 60_000 });
  const pgCtl = (...args: string[]) => asPostgres([join(PG_BIN!, 'pg_ctl'), '-D', data, '-w', ...args]);
  let pgOptions: string;
  const pgStart = () => pgCtl('-l', join(dir, 'postgres.log'), '-o', pgOptions, 'start');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanes-pg-restart-'));
    chmodSync(dir, 0o755);
    data = join(dir, 'data');
    const sockets = join(dir, 'sockets');
    mkdirSync(sockets);
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(sockets, uid, gid);
    asPostgres([join(PG_BIN!, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    pgPort = await freePort();
    pgOptions = `-p ${pgPort} -k ${sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=40`;
    pgStart();
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${pgPort}/postgres` });
    await admin.connect();
    await admin.query('CREATE DATABASE lanes');
    await admin.end();
    url = `postgres://postgres@127.0.0.1:${pgPort}/lanes`;
  }, 120_000);

  afterAll(async () => {
    if (lanes && lanes.exitCode === null) {
      lanes.kill('SIGKILL');
      await new Promise((resolve) => lanes!.once('exit', resolve));
    }
    try {
      if (data) pgCtl('-m', 'immediate', 'stop');
    } catch {
      // Already stopped.
    } finally {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps running, answers 503 (never 500) in the gap, and stores every acknowledged delivery once', async () => {
    const charter = join(dir, 'lanes.yaml');
    writeFileSync(charter, demoCharterYaml(42, new Date()));
    const port = await freePort();
    lanes = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, '..', 'support', 'lanes-cli.ts'),
        'serve',
        '--database',
        url,
        '--charter',
        charter,
        '--port',
        String(port),
      ],
      {
        env: {
          ...process.env,
          LANES_DATA_DIR: dir,
          LANES_GITHUB_WEBHOOK_SECRET: STREAM_SECRET,
          LANES_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    lanes.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    lanes.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => lanes!.once('exit', (code) => resolve(code)));
    const startBy = Date.now() + 60_000;
    while (!out.includes('Lanes is running at') && Date.now() < startBy && lanes.exitCode === null) await sleep(100);
    expect(out).toContain('Lanes is running at');

    const stream = streamDeliveries(port, { prefix: 'restart', concurrency: 8 });
    await sleep(1500);
    let started = Date.now();
    pgCtl('-l', join(dir, 'postgres.log'), '-m', 'fast', 'restart');
    const restartMs = Date.now() - started;
    await sleep(1500);
    // And a longer outage: stopped for two seconds, then started again.
    started = Date.now();
    pgCtl('-m', 'fast', 'stop');
    await sleep(2000);
    pgStart();
    const outageMs = Date.now() - started;
    await sleep(2000);
    const answers = await stream.stop();
    const statuses = byStatus(answers);
    const refused = answers.filter((a) => a.status === 503);
    const gap = refused.length > 0 ? Math.round(refused.at(-1)!.at - refused[0]!.at) : 0;
    console.log(
      `postgres restart: pg_ctl restart took ${restartMs} ms, the stop-start outage ${outageMs} ms; ` +
        `deliveries ${JSON.stringify(statuses)}; 503s within ${gap} ms; lanes serve alive: ${lanes.exitCode === null}`,
    );
    // Said in the log once per burst, not per request or per connection.
    const errorLines = out.split('\n').filter((l) => l.includes('"level":50') || l.includes('"level":60'));
    const messages = [...new Set(errorLines.map((l) => (JSON.parse(l) as { msg: string }).msg))];
    console.log(`postgres restart: ${errorLines.length} error log lines: ${messages.join(' | ')}`);
    expect(errorLines.length).toBeLessThanOrEqual(6);
    expect(lanes.exitCode).toBeNull();
    expect(statuses[500] ?? 0).toBe(0);
    expect(Object.keys(statuses).sort()).toEqual(['202', '503']);
    for (const a of refused) {
      expect(a.code).toBe('LANES_DATABASE_UNREACHABLE');
      expect(a.retryAfter).toMatch(/^\d+$/);
    }

    // Every acknowledged delivery is stored exactly once, and mapped: one item per delivery.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const acked = answers.filter((a) => a.status === 202).map((a) => a.deliveryId);
      const deadline = Date.now() + 60_000;
      let pending = -1;
      while (Date.now() < deadline) {
        pending = Number(
          (await client.query(`SELECT count(*) AS n FROM webhook_delivery WHERE status = 'pending'`)).rows[0].n,
        );
        if (pending === 0) break;
        await sleep(250);
      }
      const rows = (
        await client.query<{ delivery_id: string; copies: string }>(
          `SELECT delivery_id, count(*) AS copies FROM webhook_delivery GROUP BY delivery_id`,
        )
      ).rows;
      const copies = new Map(rows.map((r) => [r.delivery_id, Number(r.copies)]));
      const items = Number((await client.query(`SELECT count(*) AS n FROM item`)).rows[0].n);
      console.log(
        `postgres restart: ${acked.length} acknowledged, ${rows.length} stored, ${pending} pending, ${items} items`,
      );
      expect(acked.filter((id) => copies.get(id) !== 1)).toEqual([]);
      expect(pending).toBe(0);
      expect(items).toBe(rows.length);
    } finally {
      await client.end();
    }

    // And it still stops cleanly when asked.
    lanes.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 180_000);
});
