import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoCharterYaml } from '../../src/domain/demo/demo.charter.js';
import { insertDeliveries } from '../../src/store/connector.repository.js';
import { MIGRATION_NAMES, openDatabase } from '../../src/store/database.js';
import { issueOpenedBody, STREAM_SECRET, streamDeliveries } from '../support/webhook-stream.js';

/**
 * Backups while Lanes runs (issue 14), with real processes: a child process
 * holds the SQLite database open and stores webhook deliveries arriving over
 * HTTP while `lanes backup` copies it; `lanes restore` and `lanes serve` run
 * as an operator would run them.
 */

interface Run {
  child: ChildProcess;
  out: () => string;
  done: Promise<{ code: number | null; out: string; err: string; ms: number }>;
}

const spawnNode = (args: string[], env: Record<string, string> = {}): Run => {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...process.env, CI: 'true', LANES_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string; ms: number }>((resolve) =>
    child.on('exit', (code) => resolve({ code, out, err, ms: Date.now() - started })),
  );
  return { child, out: () => out + err, done };
};

const support = (file: string): string => join(import.meta.dirname, '..', 'support', file);
const lanes = (args: string[], env: Record<string, string> = {}): Run =>
  spawnNode([support('lanes-cli.ts'), ...args], env);

const waitFor = async <T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Reads a SQLite file without writing to it. */
const readDb = <T>(path: string, read: (db: SqliteDatabase.Database) => T): T => {
  const db = new SqliteDatabase(path, { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
};

const deliveryStatuses = (path: string): Map<string, string> =>
  readDb(
    path,
    (db) =>
      new Map(
        (
          db.prepare('SELECT delivery_id, status FROM webhook_delivery').all() as {
            delivery_id: string;
            status: string;
          }[]
        ).map((r) => [r.delivery_id, r.status]),
      ),
  );

const pendingCount = (path: string): number =>
  readDb(
    path,
    (db) => db.prepare(`SELECT count(*) FROM webhook_delivery WHERE status = 'pending'`).pluck().get() as number,
  );

/** Undoes the newest migration on a copy, as if the backup had been taken by the previous version of Lanes. */
const makeOneMigrationOlder = async (path: string): Promise<string> => {
  const last = MIGRATION_NAMES.at(-1)!;
  const file = pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'store', 'migrations', `${last}.ts`));
  const migration = (await import(/* @vite-ignore */ file.href)) as { down(db: Kysely<unknown>): Promise<void> };
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path) }) });
  try {
    await migration.down(db);
    await sql`DELETE FROM kysely_migration WHERE name = ${last}`.execute(db);
  } finally {
    await db.destroy();
  }
  return last;
};

const startServe = async (dir: string, database: string, env: Record<string, string> = {}) => {
  const charter = join(dir, 'lanes.yaml');
  if (!existsSync(charter)) writeFileSync(charter, demoCharterYaml(42, new Date()));
  const serve = lanes(['serve', '--port', '0', '--database', database, '--charter', charter], {
    LANES_DATA_DIR: dir,
    LANES_GITHUB_WEBHOOK_SECRET: STREAM_SECRET,
    ...env,
  });
  await waitFor('lanes serve to listen', () => (/Lanes is running at/.test(serve.out()) ? true : undefined), 60_000);
  return serve;
};

describe('lanes backup and lanes restore on SQLite', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lanes-backup-e2e-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('copies the database under a delivery stream with every acknowledged delivery; restore and serve map them', async () => {
    const live = join(dir, 'live', 'lanes.db');
    await (await openDatabase({ url: live })).close();
    const writer = spawnNode([support('delivery-writer.ts'), live]);
    try {
      const port = Number(
        (await waitFor('the writer to listen', () => /listening (\d+)/.exec(writer.out())?.[1], 60_000)) as string,
      );
      const stream = streamDeliveries(port, { prefix: 'bk', concurrency: 4 });
      await waitFor('deliveries to flow', () =>
        stream.answers.filter((a) => a.status === 202).length >= 300 ? true : undefined,
      );

      // The backup, in its own process while the stream goes on.
      const backup = join(dir, 'backups', 'lanes-backup.db');
      const backupStarted = performance.now();
      const acknowledgedBefore = stream.answers.filter((a) => a.status === 202).map((a) => a.deliveryId);
      const made = await lanes(['backup', backup, '--database', live]).done;
      const backupEnded = performance.now();
      expect(made.code, made.err).toBe(0);
      expect(made.out).toMatch(/Backed up .* MB in [\d.]+ s \(copy [\d.]+ s, integrity_check [\d.]+ s: ok\)/);
      const writtenDuring = stream.answers.filter(
        (a) => a.status === 202 && a.at > backupStarted && a.at < backupEnded,
      );
      expect(writtenDuring.length).toBeGreaterThan(0);
      console.info(`${made.out.trim()}\n  (${writtenDuring.length} deliveries acknowledged while it ran)`);

      // Not over an existing file, and not over a database in use.
      const size = statSync(backup).size;
      const again = await lanes(['backup', backup, '--database', live]).done;
      expect(again.code).toBe(1);
      expect(again.err).toContain('LANES_FILE_EXISTS');
      expect(statSync(backup).size).toBe(size);
      const refused = await lanes(['restore', backup, '--database', live]).done;
      expect(refused.code).toBe(1);
      expect(refused.err).toContain('LANES_DATABASE_IN_USE');
      expect(readdirSync(join(dir, 'live')).filter((f) => f.includes('before-restore'))).toEqual([]);

      const answers = await stream.stop();
      expect(answers.every((a) => a.status === 202)).toBe(true);

      // The copy: a clean single file with every delivery acknowledged before it started, all still pending.
      expect(existsSync(`${backup}-wal`)).toBe(false);
      const copied = deliveryStatuses(backup);
      expect(acknowledgedBefore.filter((id) => !copied.has(id))).toEqual([]);
      expect([...copied.values()].every((s) => s === 'pending')).toBe(true);
      readDb(backup, (db) => {
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all()).toEqual([
          ...MIGRATION_NAMES,
        ]);
      });
      expect(copied.size).toBeLessThan(answers.length);
    } finally {
      writer.child.kill('SIGTERM');
      await writer.done;
    }

    // Restore over the stopped database, from a copy one migration older.
    const older = join(dir, 'backups', 'older.db');
    const copy = await lanes(['backup', older, '--database', join(dir, 'backups', 'lanes-backup.db')]).done;
    expect(copy.code, copy.err).toBe(0);
    const undone = await makeOneMigrationOlder(older);
    const liveBefore = deliveryStatuses(live).size;
    const restored = await lanes(['restore', older, '--database', live]).done;
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toContain(`newer ones run at the next start (${undone})`);
    console.info(restored.out.trim());
    const kept = /kept as (\S+)/.exec(restored.out)?.[1];
    expect(kept && deliveryStatuses(kept).size).toBe(liveBefore);
    const inBackup = deliveryStatuses(live);
    expect(inBackup.size).toBeLessThan(liveBefore);

    // The next lanes serve migrates and maps every delivery that was pending in the backup.
    const serve = await startServe(dir, live);
    try {
      await waitFor('the pending deliveries to be mapped', () => (pendingCount(live) === 0 ? true : undefined), 60_000);
      const after = deliveryStatuses(live);
      expect(after.size).toBe(inBackup.size);
      expect([...after.values()].every((s) => s === 'mapped')).toBe(true);
      readDb(live, (db) => {
        expect(db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all()).toEqual([
          ...MIGRATION_NAMES,
        ]);
        expect(db.prepare(`SELECT count(DISTINCT item_key) FROM event WHERE source = 'github'`).pluck().get()).toBe(
          inBackup.size,
        );
      });
    } finally {
      serve.child.kill('SIGTERM');
    }
    const stopped = await serve.done;
    expect(stopped.code, stopped.err).toBe(0);
    expect(stopped.err).toMatch(/Stopped in [\d.]+ s/);
  }, 240_000);

  it('stops within LANES_SHUTDOWN_TIMEOUT, and after the mapping batch in flight; the next start maps the rest', async () => {
    const database = join(dir, 'backlog', 'lanes.db');
    mkdirSync(join(dir, 'backlog'), { recursive: true });
    const db = await openDatabase({ url: database });
    const total = 20_000;
    try {
      const receivedAt = new Date().toISOString();
      for (let i = 0; i < total; i += 1000) {
        await insertDeliveries(
          db,
          Array.from({ length: 1000 }, (_, k) => ({
            provider: 'github',
            deliveryId: `backlog-${i + k}`,
            eventType: 'issues',
            receivedAt,
            body: Buffer.from(issueOpenedBody(i + k + 1)),
          })),
        );
      }
    } finally {
      await db.close();
    }
    const noneLost = () => {
      const statuses = deliveryStatuses(database);
      expect(statuses.size).toBe(total);
      expect([...statuses.values()].every((s) => s === 'pending' || s === 'mapped')).toBe(true);
    };

    // A client that never finishes its upload holds the stop: the bound ends it.
    const stuck = await startServe(dir, database, { LANES_SHUTDOWN_TIMEOUT: '1' });
    const port = Number(/Lanes is running at http:\/\/[^:]+:(\d+)/.exec(stuck.out())![1]);
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      'POST /hooks/github HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n' +
        'X-GitHub-Event: issues\r\nX-GitHub-Delivery: stuck\r\nX-Hub-Signature-256: sha256=00\r\n\r\n{"action":',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    let signalled = Date.now();
    stuck.child.kill('SIGTERM');
    const cut = await stuck.done;
    const cutMs = Date.now() - signalled;
    socket.destroy();
    expect(cut.code).toBe(1);
    expect(cut.err).toContain('SIGTERM: stopping (at most 1 s, LANES_SHUTDOWN_TIMEOUT)');
    expect(cut.err).toContain('Stopping took longer than 1 s: exiting now');
    expect(cutMs).toBeLessThan(1000 + 2000);
    noneLost();

    // With a backlog, a stop does not wait for it: mapping stops after the batch in flight.
    const before = pendingCount(database);
    const busy = await startServe(dir, database);
    await waitFor('mapping to start', () => (pendingCount(database) < before ? true : undefined));
    signalled = Date.now();
    busy.child.kill('SIGTERM');
    const stopped = await busy.done;
    const stopMs = Date.now() - signalled;
    const left = pendingCount(database);
    console.info(
      `SIGTERM with a stalled upload: exit ${cut.code} after ${cutMs} ms; with ${before} deliveries pending: exit ${stopped.code} after ${stopMs} ms, ${left} left pending`,
    );
    expect(stopped.code, stopped.err).toBe(0);
    expect(left).toBeGreaterThan(0);
    noneLost();

    const next = await startServe(dir, database);
    try {
      await waitFor('the rest to be mapped', () => (pendingCount(database) === 0 ? true : undefined), 120_000);
    } finally {
      next.child.kill('SIGTERM');
      await next.done;
    }
    noneLost();
  }, 240_000);
});
