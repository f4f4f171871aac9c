import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AppError } from '../domain/errors.js';
import type { Database } from './database.js';

/**
 * What `/healthz` and `/readyz` ask of the database: does it answer a query,
 * is there room on the volume holding a SQLite file, and (for readiness) does
 * a write commit. Each answers undefined when all is well, else the `AppError`
 * that says why, with a stable code.
 */

/** Below this much free space on the volume holding a SQLite database, writes are about to fail. */
export const FREE_SPACE_FLOOR_BYTES = 1 << 20;
const PROBE_TIMEOUT_MS = 3000;

const within = async <T>(ms: number, work: Promise<T>): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new AppError('LANES_DATABASE_UNREACHABLE', `the database did not answer within ${ms / 1000} s`)),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
};

const failure = (database: Database, error: unknown, fallback: AppError): AppError =>
  database.health.recognise(error) ?? (error instanceof AppError ? error : fallback);

const readProbe = async (database: Database): Promise<AppError | undefined> => {
  try {
    await within(PROBE_TIMEOUT_MS, database.db.selectFrom('meta').select('key').limit(1).execute());
    return undefined;
  } catch (error) {
    return failure(
      database,
      error,
      new AppError('LANES_DATABASE_UNREACHABLE', `the database does not answer: ${(error as Error).message}`),
    );
  }
};

/** Free bytes on the volume holding the SQLite file (undefined on PostgreSQL and in memory). */
export const freeBytes = async (database: Database): Promise<number | undefined> => {
  const file = database.sqlite?.name;
  if (!file || file === ':memory:') return undefined;
  const fs = await statfs(dirname(file));
  return fs.bavail * fs.bsize;
};

const spaceProbe = async (database: Database): Promise<AppError | undefined> => {
  const free = await freeBytes(database).catch(() => undefined);
  if (free === undefined || free >= FREE_SPACE_FLOOR_BYTES) return undefined;
  return new AppError(
    'LANES_STORAGE_FULL',
    `the disk holding the database is full: ${Math.floor(free / 1024)} KiB free; free space and Lanes resumes`,
    { cause: 'free space', freeBytes: free },
  );
};

const writeProbe = async (database: Database): Promise<AppError | undefined> => {
  const value = new Date().toISOString();
  try {
    await within(
      PROBE_TIMEOUT_MS,
      database.db
        .insertInto('meta')
        .values({ key: 'lanes_ready_probe', value })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
        .execute(),
    );
    return undefined;
  } catch (error) {
    return failure(
      database,
      error,
      new AppError('LANES_STORAGE_FAILED', `a write to the database failed: ${(error as Error).message}`),
    );
  }
};

/**
 * Liveness with a reason: the database answers a query, its volume has room,
 * and no failure was seen in the last minute. Writes nothing.
 */
export const checkHealth = async (database: Database): Promise<AppError | undefined> => {
  const problem = (await readProbe(database)) ?? (await spaceProbe(database));
  if (problem) return problem;
  const seen = database.health.problem();
  return seen ? new AppError(seen.code, seen.message, { cause: seen.cause, since: seen.since }) : undefined;
};

/**
 * Readiness: the database answers a query, its volume has room, and a small
 * write commits now. Success clears what the health remembered.
 */
export const checkReadiness = async (database: Database): Promise<AppError | undefined> => {
  const problem = (await readProbe(database)) ?? (await spaceProbe(database)) ?? (await writeProbe(database));
  if (!problem) database.health.succeeded('write');
  return problem;
};
