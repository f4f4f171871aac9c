import { AppError } from '../domain/errors.js';

/**
 * The one place that tells a database that is away or out of room from a bug.
 * Driver errors (better-sqlite3's `SQLITE_*` codes, PostgreSQL's SQLSTATEs,
 * Node's socket errors, pg's own messages) become an `AppError` with a stable
 * code that the server answers with 503 (507 for a full disk) and
 * `Retry-After`; anything else stays unknown and is a 500.
 */
export const DATABASE_TROUBLE_CODES = [
  'LANES_DATABASE_UNREACHABLE',
  'LANES_DATABASE_BUSY',
  'LANES_STORAGE_FULL',
  'LANES_STORAGE_READ_ONLY',
  'LANES_STORAGE_FAILED',
] as const;
export type DatabaseTroubleCode = (typeof DATABASE_TROUBLE_CODES)[number];

export const isDatabaseTrouble = (code: string): code is DatabaseTroubleCode =>
  (DATABASE_TROUBLE_CODES as readonly string[]).includes(code);

/** What `Retry-After` says for each, in seconds. */
export const RETRY_AFTER_SECONDS: Record<DatabaseTroubleCode, number> = {
  LANES_DATABASE_UNREACHABLE: 5,
  LANES_DATABASE_BUSY: 2,
  LANES_STORAGE_FULL: 30,
  LANES_STORAGE_READ_ONLY: 30,
  LANES_STORAGE_FAILED: 30,
};

/** A failure to get a connection at all (refused, timed out, not accepting connections, bad credentials). */
export class DatabaseConnectError extends Error {
  override readonly name = 'DatabaseConnectError';
  readonly code: string | undefined;
  constructor(cause: unknown) {
    super(`could not connect to the database: ${(cause as Error | undefined)?.message ?? String(cause)}`, { cause });
    this.code = (cause as { code?: unknown } | undefined)?.code?.toString();
  }
}

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** SQLSTATEs: 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections. */
const PG_AWAY = new Set(['57P01', '57P02', '57P03', '53300']);

const PG_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /is not queryable/i,
  /the database system is (shutting down|starting up|in recovery mode)/i,
];

interface Found {
  code: DatabaseTroubleCode;
  /** The driver's own name for it: `SQLITE_FULL`, `57P01`, `ECONNREFUSED`, … */
  cause: string;
}

const classifyCode = (code: string): DatabaseTroubleCode | undefined => {
  if (code.startsWith('SQLITE_FULL') || code === '53100') return 'LANES_STORAGE_FULL';
  if (code.startsWith('SQLITE_IOERR') || code === '58030') return 'LANES_STORAGE_FAILED';
  if (code.startsWith('SQLITE_READONLY') || code === '25006') return 'LANES_STORAGE_READ_ONLY';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === '55P03')
    return 'LANES_DATABASE_BUSY';
  if (SOCKET_CODES.has(code) || PG_AWAY.has(code) || code.startsWith('08')) return 'LANES_DATABASE_UNREACHABLE';
  return undefined;
};

/** Looks at the error, its `cause` chain and an AggregateError's parts (Node's happy-eyeballs connect). */
const find = (error: unknown, depth = 0): Found | undefined => {
  if (!error || typeof error !== 'object' || depth > 5) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    const found = classifyCode(code);
    if (found) return { code: found, cause: code };
  }
  if (error instanceof Error && PG_MESSAGES.some((p) => p.test(error.message))) {
    return { code: 'LANES_DATABASE_UNREACHABLE', cause: error.message.slice(0, 80) };
  }
  for (const part of error instanceof AggregateError ? error.errors : []) {
    const found = find(part, depth + 1);
    if (found) return found;
  }
  const nested = find((error as { cause?: unknown }).cause, depth + 1);
  if (nested) return nested;
  if (error instanceof DatabaseConnectError) {
    return { code: 'LANES_DATABASE_UNREACHABLE', cause: error.code ?? 'connect' };
  }
  return undefined;
};

const ANSWER: Record<DatabaseTroubleCode, string> = {
  LANES_DATABASE_UNREACHABLE: 'The database is unreachable',
  LANES_DATABASE_BUSY: 'The database stayed locked past the wait limit',
  LANES_STORAGE_FULL: 'The disk holding the database is full; nothing was stored',
  LANES_STORAGE_READ_ONLY: 'The database refuses writes; nothing was stored',
  LANES_STORAGE_FAILED: 'The disk holding the database reported an I/O error; nothing was stored',
};

/**
 * The `AppError` a driver error stands for, or undefined when it is not the
 * database being away or out of room. `details` carry the driver's cause and
 * the retry delay in seconds.
 */
export const classifyDatabaseError = (error: unknown): AppError | undefined => {
  if (error instanceof AppError) return isDatabaseTrouble(error.code) ? error : undefined;
  const found = find(error);
  if (!found) return undefined;
  const retryAfterSeconds = RETRY_AFTER_SECONDS[found.code];
  return new AppError(found.code, `${ANSWER[found.code]}; retry in ${retryAfterSeconds} s.`, {
    cause: found.cause,
    retryAfterSeconds,
  });
};
