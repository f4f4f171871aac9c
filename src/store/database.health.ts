import type { AppError } from '../domain/errors.js';
import { classifyDatabaseError, type DatabaseTroubleCode } from './database.errors.js';

/** What the health log needs of a logger (pino's and Fastify's request loggers both fit). */
export interface HealthLogger {
  error(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** The database being away or out of room, as last seen. */
export interface DatabaseProblem {
  code: DatabaseTroubleCode;
  /** The driver's name for it: `SQLITE_FULL`, `57P01`, `ECONNREFUSED`, … */
  cause: string;
  /** What an operator reads: what happened and what Lanes does meanwhile. */
  message: string;
  since: string;
  failures: number;
}

/**
 * What the process knows about its database's health, shared by the HTTP
 * error handler, the background loops and the pool's listeners. Failures are
 * logged once when they start and then at most once a minute while they last
 * (with how many there were), never once per request or per connection.
 */
export interface DatabaseHealth {
  /**
   * Classifies a driver error (`classifyDatabaseError`); when it is the
   * database being away or out of room, records and logs it and returns the
   * `AppError` to answer with; otherwise returns undefined and logs nothing.
   */
  recognise(error: unknown, logger?: HealthLogger): AppError | undefined;
  /** A connection opened (clears "unreachable") or a write committed (clears everything). */
  succeeded(what: 'connect' | 'write'): void;
  /** The most recent problem seen in the last minute and not cleared since, if any. */
  problem(): DatabaseProblem | undefined;
}

const SENTENCE: Record<DatabaseTroubleCode, (cause: string) => string> = {
  LANES_DATABASE_UNREACHABLE: (c) =>
    `the database is unreachable (${c}): requests that need it answer 503 until it is back; background work retries by itself`,
  LANES_DATABASE_BUSY: (c) =>
    `the database stayed locked past the busy timeout (${c}): those requests answer 503; another process holds long write transactions`,
  LANES_STORAGE_FULL: (c) =>
    `the disk holding the database is full (${c}): writes answer 507 until space is freed; nothing stored is lost`,
  LANES_STORAGE_READ_ONLY: (c) =>
    `the database refuses writes (${c}): writes answer 503 until it is writable again (a read-only volume or a PostgreSQL standby)`,
  LANES_STORAGE_FAILED: (c) =>
    `the disk holding the database reported an I/O error (${c}): writes answer 503; check the disk and the system log`,
};

interface Tracked {
  code: DatabaseTroubleCode;
  cause: string;
  since: number;
  lastAt: number;
  failures: number;
  /** Failures since the last log line about this problem. */
  unlogged: number;
}

export const createDatabaseHealth = (
  options: { logger?: HealthLogger | undefined; logEveryMs?: number; forgetAfterMs?: number } = {},
): DatabaseHealth => {
  const logEveryMs = options.logEveryMs ?? 60_000;
  const forgetAfterMs = options.forgetAfterMs ?? 60_000;
  const tracked = new Map<DatabaseTroubleCode, Tracked>();
  const lastLogged = new Map<string, number>();
  let logger = options.logger;

  const due = (key: string, now: number): boolean => now - (lastLogged.get(key) ?? -Infinity) >= logEveryMs;

  const clear = (codes: readonly DatabaseTroubleCode[]): void => {
    const now = Date.now();
    for (const code of codes) {
      const t = tracked.get(code);
      if (!t) continue;
      tracked.delete(code);
      if (logger && due(`${code}:ok`, now)) {
        lastLogged.set(`${code}:ok`, now);
        logger.info(
          { code, cause: t.cause, failures: t.failures, seconds: Math.round((now - t.since) / 1000) },
          `the database works again after ${t.failures} failure(s) (${t.cause}) over ${Math.round((now - t.since) / 1000)} s`,
        );
      }
    }
  };

  return {
    recognise: (error, via) => {
      const known = classifyDatabaseError(error);
      if (!known) return undefined;
      const code = known.code as DatabaseTroubleCode;
      const cause = String((known.details as { cause?: unknown } | undefined)?.cause ?? code);
      const now = Date.now();
      let t = tracked.get(code);
      if (!t || now - t.lastAt > forgetAfterMs) {
        t = { code, cause, since: now, lastAt: now, failures: 0, unlogged: 0 };
        tracked.set(code, t);
      }
      t.failures += 1;
      t.unlogged += 1;
      t.lastAt = now;
      if (via) logger ??= via;
      const log = via ?? logger;
      if (log && due(code, now)) {
        lastLogged.set(code, now);
        log.error(
          { err: error, code, cause: t.cause, failures: t.unlogged, since: new Date(t.since).toISOString() },
          SENTENCE[code](t.cause),
        );
        t.unlogged = 0;
      }
      return known;
    },
    succeeded: (what) => {
      if (tracked.size === 0) return;
      clear(what === 'connect' ? ['LANES_DATABASE_UNREACHABLE'] : [...tracked.keys()]);
    },
    problem: () => {
      const now = Date.now();
      let latest: Tracked | undefined;
      for (const t of tracked.values()) {
        if (now - t.lastAt <= forgetAfterMs && (!latest || t.lastAt > latest.lastAt)) latest = t;
      }
      if (!latest) return undefined;
      return {
        code: latest.code,
        cause: latest.cause,
        message: SENTENCE[latest.code](latest.cause),
        since: new Date(latest.since).toISOString(),
        failures: latest.failures,
      };
    },
  };
};
