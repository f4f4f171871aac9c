import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { AppError } from '../domain/errors.js';
import { MIGRATION_NAMES } from './database.js';

/**
 * Online backup and restore of the SQLite database (issue 14).
 *
 * A backup is `VACUUM INTO` a temporary file from a read-only connection: one
 * read transaction, so the copy is the database as of one commit even while
 * another process keeps writing (WAL lets the writer go on). SQLite's online
 * backup API copies pages in steps and starts again whenever another
 * connection writes, which under a steady stream of deliveries never finishes.
 * The copy is synced to disk (VACUUM INTO does not sync), checked, and only
 * then renamed to its name.
 */

/** Kysely's table of applied migrations. */
const MIGRATION_TABLE = 'kysely_migration';

export type CheckKind = 'integrity_check' | 'quick_check';

/** What a SQLite file holds, after SQLite's own check of it passed. */
export interface SqliteFileReport {
  path: string;
  bytes: number;
  check: CheckKind;
  checkMs: number;
  /** Applied migrations, in order. */
  migrations: string[];
  /** Applied migrations this Lanes does not know: the file was made by a newer Lanes. */
  unknownMigrations: string[];
  /** Migrations this Lanes will run on the file at its next start. */
  missingMigrations: string[];
  events: number;
  /** Webhook deliveries stored but not mapped yet; `lanes serve` maps them at start. */
  pendingDeliveries: number;
}

export interface BackupResult {
  source: string;
  target: string;
  /** Time to take the copy (VACUUM INTO and fsync), in milliseconds. */
  copyMs: number;
  report: SqliteFileReport;
}

export interface RestoreResult {
  target: string;
  /** Where the database that was in place was moved, if there was one. */
  previous: string | null;
  /** Said when the database in place could not be checked for other users (it is not a readable database). */
  warning: string | null;
  copyMs: number;
  report: SqliteFileReport;
}

const sqliteCode = (error: unknown): string => String((error as { code?: unknown }).code ?? '');

const tableExists = (db: SqliteDatabase.Database, name: string): boolean =>
  db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;

const countOf = (db: SqliteDatabase.Database, sql: string): number =>
  Number((db.prepare(sql).pluck().get() as number | bigint | undefined) ?? 0);

/** Writes a file's content, or a directory's entries, to the disk before going on. */
const syncPath = (path: string): void => {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Some file systems refuse to sync a directory; the file itself was synced.
    if (statSync(path).isFile()) throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
};

const openReadOnly = (path: string, what: string): SqliteDatabase.Database => {
  if (!existsSync(path)) throw new AppError('LANES_NOT_FOUND', `${what} ${path} does not exist`);
  try {
    return new SqliteDatabase(path, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch (error) {
    throw new AppError(
      'LANES_BACKUP_INVALID',
      `${path} cannot be opened as a SQLite database: ${(error as Error).message}`,
    );
  }
};

/**
 * Runs SQLite's `integrity_check` (or the faster `quick_check`) on a file and
 * reads what it holds. Throws `LANES_BACKUP_INVALID` when the file is not a
 * SQLite database, fails the check, or has no migrations table.
 */
export const inspectSqliteFile = (path: string, check: CheckKind = 'integrity_check'): SqliteFileReport => {
  const db = openReadOnly(path, 'the file');
  try {
    const started = Date.now();
    let problems: string[];
    try {
      problems = (db.prepare(`PRAGMA ${check}(20)`).pluck().all() as string[]).filter((p) => p !== 'ok');
    } catch (error) {
      throw new AppError(
        'LANES_BACKUP_INVALID',
        `${path} is not a usable SQLite database: ${(error as Error).message}`,
        {
          sqlite: sqliteCode(error),
        },
      );
    }
    const checkMs = Date.now() - started;
    if (problems.length > 0) {
      throw new AppError('LANES_BACKUP_INVALID', `${path} fails SQLite's ${check}: ${problems[0]}`, { problems });
    }
    if (!tableExists(db, MIGRATION_TABLE)) {
      throw new AppError('LANES_BACKUP_INVALID', `${path} is a SQLite database but not a Lanes one (no migrations)`);
    }
    const migrations = db.prepare(`SELECT name FROM ${MIGRATION_TABLE} ORDER BY name`).pluck().all() as string[];
    const known = new Set(MIGRATION_NAMES);
    const applied = new Set(migrations);
    return {
      path,
      bytes: statSync(path).size,
      check,
      checkMs,
      migrations,
      unknownMigrations: migrations.filter((m) => !known.has(m)),
      missingMigrations: MIGRATION_NAMES.filter((m) => !applied.has(m)),
      events: tableExists(db, 'event') ? countOf(db, 'SELECT count(*) FROM event') : 0,
      pendingDeliveries: tableExists(db, 'webhook_delivery')
        ? countOf(db, `SELECT count(*) FROM webhook_delivery WHERE status = 'pending'`)
        : 0,
    };
  } finally {
    db.close();
  }
};

/** The same file, whatever the path says (symbolic links, `..`). */
const sameFile = (a: string, b: string): boolean => {
  const real = (p: string) => {
    try {
      return join(realpathSync(dirname(p)), basename(p));
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
};

const tempNameFor = (target: string): string =>
  join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Date.now().toString(36)}`);

/** `VACUUM INTO` a new file from a read-only connection, then syncs it. */
const copyConsistently = (source: SqliteDatabase.Database, into: string): number => {
  const started = Date.now();
  source.prepare('VACUUM INTO ?').run(into);
  syncPath(into);
  return Date.now() - started;
};

/**
 * Copies the SQLite database at `source` to `target` while other processes
 * keep writing to it: into a temporary file beside the target, synced, checked
 * (`check`), then renamed. Refuses an existing target unless `force`.
 */
export const backupSqlite = (
  source: string,
  target: string,
  options: { force?: boolean; check?: CheckKind } = {},
): BackupResult => {
  if (sameFile(source, target) || sameFile(`${source}-wal`, target) || sameFile(`${source}-shm`, target)) {
    throw new AppError('LANES_VALIDATION', `the backup cannot be written over the database it copies (${source})`);
  }
  if (existsSync(target) && !options.force) {
    throw new AppError('LANES_FILE_EXISTS', `${target} already exists; choose another name or pass --force`);
  }
  const db = openReadOnly(source, 'the database');
  mkdirSync(dirname(target), { recursive: true });
  const temp = tempNameFor(target);
  try {
    let copyMs: number;
    try {
      copyMs = copyConsistently(db, temp);
    } finally {
      db.close();
    }
    const report = inspectSqliteFile(temp, options.check);
    renameSync(temp, target);
    syncPath(dirname(target));
    return { source, target, copyMs, report: { ...report, path: target } };
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
};

/**
 * Takes the database for a restore with an exclusive lock, which SQLite grants
 * only when no other connection (in any process) has the file open; a process
 * that died holds nothing. Release checkpoints the WAL into the file and closes.
 */
const claimDatabase = (path: string): { release(): void; warning: string | null } => {
  const unchecked = (error: unknown) => ({
    release: () => undefined,
    warning: `${path} could not be opened as a SQLite database (${(error as Error).message}), so whether another process has it open was not checked`,
  });
  let db: SqliteDatabase.Database;
  try {
    db = new SqliteDatabase(path, { fileMustExist: true, timeout: 0 });
  } catch (error) {
    return unchecked(error);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    if (/^SQLITE_(BUSY|LOCKED)/.test(sqliteCode(error))) {
      throw new AppError(
        'LANES_DATABASE_IN_USE',
        `${path} is open in another process (lanes serve, or another lanes command); stop it, then restore`,
      );
    }
    return unchecked(error);
  }
  return {
    warning: null,
    release: () => {
      try {
        db.pragma('wal_checkpoint(TRUNCATE)');
      } finally {
        db.close();
      }
    },
  };
};

/** `2026-05-01T12-00-00-000Z`: a time that sorts and is safe in a file name. */
const stampOf = (now: Date): string => now.toISOString().replace(/[:.]/g, '-');

/** Moves the database and its WAL, shared-memory and journal files aside together, so it still opens as it was. */
const moveAside = (target: string, now: Date): string | null => {
  const previous = `${target}.before-restore-${stampOf(now)}`;
  let moved = false;
  // A WAL left without its database would be replayed into the restored one: it goes aside too.
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    if (!existsSync(`${target}${suffix}`)) continue;
    renameSync(`${target}${suffix}`, `${previous}${suffix}`);
    moved = true;
  }
  return moved ? previous : null;
};

/**
 * Puts the backup at `backup` in place of the SQLite database at `target`:
 * checks the backup (and refuses one made by a newer Lanes), refuses while any
 * process has the database open, copies the backup beside it, moves the
 * database aside as `<target>.before-restore-<time>` and renames the copy into
 * place. Migrations and the mapping of pending deliveries run at the next start.
 */
export const restoreSqlite = (
  backup: string,
  target: string,
  options: { check?: CheckKind; now: Date },
): RestoreResult => {
  if (sameFile(backup, target)) {
    throw new AppError('LANES_VALIDATION', `${backup} is the database itself; give the path of a backup`);
  }
  const report = inspectSqliteFile(backup, options.check);
  if (report.unknownMigrations.length > 0) {
    throw new AppError(
      'LANES_BACKUP_INVALID',
      `${backup} was made by a newer Lanes (migration ${report.unknownMigrations[0]} is unknown here); restore it with that version`,
      { unknownMigrations: report.unknownMigrations },
    );
  }
  mkdirSync(dirname(target), { recursive: true });
  const claim = existsSync(target) ? claimDatabase(target) : null;
  const temp = tempNameFor(target);
  let copyMs: number;
  try {
    const source = openReadOnly(backup, 'the backup');
    try {
      copyMs = copyConsistently(source, temp);
    } finally {
      source.close();
    }
  } catch (error) {
    claim?.release();
    rmSync(temp, { force: true });
    throw error;
  }
  claim?.release();
  const previous = moveAside(target, options.now);
  renameSync(temp, target);
  syncPath(dirname(target));
  return { target, previous, warning: claim?.warning ?? null, copyMs, report };
};
