import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendEvents } from '../services/events.service.js';
import { MIGRATION_NAMES, openDatabase } from '../store/database.js';
import { EXIT, type CliIo } from './io.js';
import { runCli } from './main.js';

interface FakeIo extends CliIo {
  stdout: string[];
  stderr: string[];
}

const fakeIo = (cwd: string, env: NodeJS.ProcessEnv = {}): FakeIo => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env, cwd, exitCode: 0 };
};

const lanes = async (io: FakeIo, ...args: string[]): Promise<number> => runCli(['node', 'lanes', ...args], io);

/** A Lanes database on disk holding `n` native events. */
const makeDatabase = async (path: string, n: number, from = 0): Promise<void> => {
  const database = await openDatabase({ url: path });
  try {
    const ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => new Date('2026-05-01T12:00:00Z'),
      newId: () => crypto.randomUUID(),
      charter: () => undefined,
    };
    await appendEvents(
      ctx,
      Array.from({ length: n }, (_, i) => ({
        source: 'deploys',
        sourceEventId: `e-${from + i}`,
        occurredAt: '2026-05-01T12:00:00Z',
        actor: { kind: 'email' as const, id: 'dev@acme.example' },
        item: { key: `PAY-${from + i}`, kind: 'bug' as const, title: `Bug ${from + i}` },
        change: { kind: 'created' as const },
      })),
    );
  } finally {
    await database.close();
  }
};

const eventsIn = (path: string): number => {
  const db = new SqliteDatabase(path, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM event').pluck().get() as number;
  } finally {
    db.close();
  }
};

describe('lanes backup and lanes restore', () => {
  let dir: string;
  let live: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lanes-cli-backup-'));
    live = join(dir, 'lanes.db');
    await makeDatabase(live, 30);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a checked copy, refuses to overwrite it, and replaces it with --force', async () => {
    const io = fakeIo(dir);
    expect(await lanes(io, 'backup', 'copy.db', '--database', live)).toBe(EXIT.ok);
    expect(io.stdout.join('\n')).toMatch(/Backed up .*lanes\.db to .*copy\.db: [\d.]+ MB in [\d.]+ s/);
    expect(io.stdout.join('\n')).toContain('30 events, 0 webhook deliveries not yet mapped');
    expect(eventsIn(join(dir, 'copy.db'))).toBe(30);
    // Nothing but the copy is left beside it (no temporary file, no WAL).
    expect(readdirSync(dir).filter((f) => !f.startsWith('lanes.db'))).toEqual(['copy.db']);

    await makeDatabase(live.replace('lanes.db', 'other.db'), 5);
    const refused = fakeIo(dir);
    expect(await lanes(refused, 'backup', 'copy.db', '--database', 'other.db')).toBe(EXIT.failure);
    expect(refused.stderr.join('\n')).toContain('LANES_FILE_EXISTS');
    expect(eventsIn(join(dir, 'copy.db'))).toBe(30);

    const forced = fakeIo(dir);
    expect(await lanes(forced, 'backup', 'copy.db', '--database', 'other.db', '--force', '--quick')).toBe(EXIT.ok);
    expect(forced.stdout.join('\n')).toContain('quick_check');
    expect(eventsIn(join(dir, 'copy.db'))).toBe(5);
  });

  it('never writes the backup over the database it copies', async () => {
    const io = fakeIo(dir);
    expect(await lanes(io, 'backup', live, '--database', live, '--force')).toBe(EXIT.invalid);
    expect(io.stderr.join('\n')).toContain('LANES_VALIDATION');
    expect(eventsIn(live)).toBe(30);
  });

  it('restores a backup and keeps the database that was there aside, with what its WAL held', async () => {
    expect(await lanes(fakeIo(dir), 'backup', 'copy.db', '--database', live)).toBe(EXIT.ok);
    await makeDatabase(live, 40, 30); // the database moves on after the backup: 70 events
    const io = fakeIo(dir);
    expect(await lanes(io, 'restore', 'copy.db', '--database', live)).toBe(EXIT.ok);
    const out = io.stdout.join('\n');
    expect(out).toMatch(/Restored .*copy\.db to .*lanes\.db/);
    expect(out).toContain(`30 events, ${MIGRATION_NAMES.length} migrations (current)`);
    const kept = /kept as (\S+)/.exec(out)![1]!;
    expect(eventsIn(kept)).toBe(70);
    expect(eventsIn(live)).toBe(30);
    // The restored database opens and takes writes.
    await makeDatabase(live, 1, 30);
    expect(eventsIn(live)).toBe(31);
  });

  it('moves a WAL left without its database aside rather than let it be replayed into the restored one', async () => {
    expect(await lanes(fakeIo(dir), 'backup', 'copy.db', '--database', live)).toBe(EXIT.ok);
    const writer = new SqliteDatabase(live);
    writer.pragma('wal_autocheckpoint = 0');
    writer.exec(`DELETE FROM event; DELETE FROM item`);
    const wal = readFileSync(`${live}-wal`);
    writer.close();
    rmSync(live);
    writeFileSync(`${live}-wal`, wal);
    const io = fakeIo(dir);
    expect(await lanes(io, 'restore', 'copy.db', '--database', live)).toBe(EXIT.ok);
    const kept = /kept as (\S+)/.exec(io.stdout.join('\n'))![1]!;
    expect(readFileSync(`${kept}-wal`).equals(wal)).toBe(true);
    expect(eventsIn(live)).toBe(30);
  });

  it('refuses a file that is not a Lanes database, a damaged one, and one made by a newer Lanes', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'not a database at all, but long enough to look like one '.repeat(100));
    const notDb = fakeIo(dir);
    expect(await lanes(notDb, 'restore', 'notes.txt', '--database', live)).toBe(EXIT.invalid);
    expect(notDb.stderr.join('\n')).toContain('LANES_BACKUP_INVALID');

    const plain = new SqliteDatabase(join(dir, 'plain.db'));
    plain.exec('CREATE TABLE t (x)');
    plain.close();
    const notLanes = fakeIo(dir);
    expect(await lanes(notLanes, 'restore', 'plain.db', '--database', live)).toBe(EXIT.invalid);
    expect(notLanes.stderr.join('\n')).toMatch(/LANES_BACKUP_INVALID: .*not a Lanes one/);

    expect(await lanes(fakeIo(dir), 'backup', 'damaged.db', '--database', live)).toBe(EXIT.ok);
    const size = statSync(join(dir, 'damaged.db')).size;
    const fd = openSync(join(dir, 'damaged.db'), 'r+');
    writeSync(fd, Buffer.alloc(4096 * 3, 0x5a), 0, 4096 * 3, Math.floor(size / 2 / 4096) * 4096);
    closeSync(fd);
    const damaged = fakeIo(dir);
    expect(await lanes(damaged, 'restore', 'damaged.db', '--database', live)).toBe(EXIT.invalid);
    expect(damaged.stderr.join('\n')).toContain('LANES_BACKUP_INVALID');

    expect(await lanes(fakeIo(dir), 'backup', 'newer.db', '--database', live)).toBe(EXIT.ok);
    const newer = new SqliteDatabase(join(dir, 'newer.db'));
    newer.prepare(`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999-from-the-future', '2030-01-01')`).run();
    newer.close();
    const future = fakeIo(dir);
    expect(await lanes(future, 'restore', 'newer.db', '--database', live)).toBe(EXIT.invalid);
    expect(future.stderr.join('\n')).toMatch(/LANES_BACKUP_INVALID: .*newer Lanes \(migration 9999-from-the-future/);
    // The database in place was never touched.
    expect(eventsIn(live)).toBe(30);
    expect(readdirSync(dir).some((f) => f.includes('before-restore'))).toBe(false);
  });

  it('refuses to restore while another connection has the database open', async () => {
    expect(await lanes(fakeIo(dir), 'backup', 'copy.db', '--database', live)).toBe(EXIT.ok);
    const server = await openDatabase({ url: live });
    try {
      const io = fakeIo(dir);
      expect(await lanes(io, 'restore', 'copy.db', '--database', live)).toBe(EXIT.failure);
      expect(io.stderr.join('\n')).toContain('LANES_DATABASE_IN_USE');
    } finally {
      await server.close();
    }
    expect(await lanes(fakeIo(dir), 'restore', 'copy.db', '--database', live)).toBe(EXIT.ok);
  });

  it('on PostgreSQL explains pg_dump and pg_restore instead of pretending', async () => {
    const io = fakeIo(dir, { LANES_DATABASE_URL: 'postgres://lanes:hunter2@db.internal/lanes' });
    expect(await lanes(io, 'backup', 'copy.db')).toBe(EXIT.invalid);
    const err = io.stderr.join('\n');
    expect(err).toContain('pg_dump --format=custom');
    expect(err).toContain('pg_restore --no-owner');
    expect(err).toContain('LANES_ENGINE_UNSUPPORTED');
    expect(err).not.toContain('hunter2');
    expect(existsSync(join(dir, 'copy.db'))).toBe(false);
  });
});
