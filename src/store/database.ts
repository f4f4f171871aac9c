import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, type Migration } from 'kysely';
import pg from 'pg';
import { AppError } from '../domain/errors.js';
import { postgresDialect, sqliteDialect } from './database.drivers.js';
import { DatabaseConnectError } from './database.errors.js';
import { createDatabaseHealth, type DatabaseHealth, type HealthLogger } from './database.health.js';
import * as m0001 from './migrations/0001-event-log.js';
import * as m0002 from './migrations/0002-access.js';
import * as m0003 from './migrations/0003-item-count-index.js';
import * as m0004 from './migrations/0004-item-team-filter-indexes.js';
import * as m0005 from './migrations/0005-connectors.js';
import * as m0006 from './migrations/0006-boundaries.js';
import * as m0007 from './migrations/0007-nudges.js';
import * as m0008 from './migrations/0008-portal.js';
import * as m0009 from './migrations/0009-notifications.js';
import * as m0010 from './migrations/0010-quality.js';
import * as m0011 from './migrations/0011-slo.js';
import * as m0012 from './migrations/0012-findings.js';
import * as m0013 from './migrations/0013-portal-search-indexes.js';
import * as m0014 from './migrations/0014-portal-seq.js';
import * as m0015 from './migrations/0015-quality-facts.js';
import * as m0016 from './migrations/0016-quality-indexes.js';
import * as m0017 from './migrations/0017-escalation-delivery.js';
import * as m0018 from './migrations/0018-token-scopes-reported-by.js';
import * as m0019 from './migrations/0019-subscription-consent.js';
import * as m0020 from './migrations/0020-oidc.js';
import * as m0021 from './migrations/0021-webhook-delivery-claim.js';
import * as m0022 from './migrations/0022-stage-fixed-index.js';
import type { DB } from './schema.js';

export type Engine = 'sqlite' | 'postgres';

/**
 * One handle on the database, whichever engine. Repositories use `db` (Kysely)
 * for portable queries and, behind a single method each, `sqlite` or `pool`
 * for the few dialect-specific hot paths.
 */
export interface Database {
  engine: Engine;
  db: Kysely<DB>;
  /** Set when engine is sqlite. */
  sqlite?: SqliteDatabase.Database;
  /** Set when engine is postgres. */
  pool?: pg.Pool;
  /** The database being away or out of room: recognised, logged once per burst, cleared when it works again. */
  health: DatabaseHealth;
  close(): Promise<void>;
}

const MIGRATIONS: Record<string, Migration> = {
  '0001-event-log': m0001,
  '0002-access': m0002,
  '0003-item-count-index': m0003,
  '0004-item-team-filter-indexes': m0004,
  '0005-connectors': m0005,
  '0006-boundaries': m0006,
  '0007-nudges': m0007,
  '0008-portal': m0008,
  '0009-notifications': m0009,
  '0010-quality': m0010,
  '0011-slo': m0011,
  '0012-findings': m0012,
  '0013-portal-search-indexes': m0013,
  '0014-portal-seq': m0014,
  '0015-quality-facts': m0015,
  '0016-quality-indexes': m0016,
  '0017-escalation-delivery': m0017,
  '0018-token-scopes-reported-by': m0018,
  '0019-subscription-consent': m0019,
  '0020-oidc': m0020,
  '0021-webhook-delivery-claim': m0021,
  '0022-stage-fixed-index': m0022,
};

/** The migrations this version of Lanes knows, in the order they run (a backup must not have others). */
export const MIGRATION_NAMES: readonly string[] = Object.freeze(Object.keys(MIGRATIONS));

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);

export interface OpenOptions {
  /** `postgres://…` or a SQLite file path (`:memory:` for a throwaway database). */
  url: string;
  /** PostgreSQL schema to work in (tests use one per suite); created if missing. */
  pgSchema?: string;
  poolSize?: number;
  /** Where lost connections and a full disk are reported (once per burst); also learnt from the first caller that passes one. */
  logger?: HealthLogger;
}

/** Opens the database and brings its schema up to date. */
export const openDatabase = async (options: OpenOptions): Promise<Database> => {
  const health = createDatabaseHealth({ logger: options.logger });
  const database = isPostgresUrl(options.url) ? await openPostgres(options, health) : openSqlite(options.url, health);
  await migrate(database, options.pgSchema);
  return database;
};

const openSqlite = (path: string, health: DatabaseHealth): Database => {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('cache_size = -65536');
  const db = new Kysely<DB>({ dialect: sqliteDialect({ database: withStatementCache(sqlite) }, sqlite, health) });
  return {
    engine: 'sqlite',
    db,
    sqlite,
    health,
    close: async () => {
      await db.destroy();
    },
  };
};

/**
 * Kysely prepares every query afresh; on SQLite preparing costs about as much
 * as running a small indexed read. This keeps the most recent statements by SQL
 * text (Kysely uses one connection, so a statement is never run twice at once).
 */
const withStatementCache = (sqlite: SqliteDatabase.Database, max = 256) => {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (text: string): SqliteDatabase.Statement => {
      let statement = cache.get(text);
      if (statement) {
        // Refresh its place so the least recently used is evicted first.
        cache.delete(text);
      } else {
        statement = sqlite.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
  };
};

/**
 * A lost connection (a restart, a failover, `pg_terminate_backend`, a network
 * drop) is reported by pg as an 'error' event on the idle client, or on the
 * client checked out at the time; without a listener Node ends the process.
 * Every client gets one, from its first connection, so both are covered.
 */
const listenForLostConnections = (pool: pg.Pool, health: DatabaseHealth): void => {
  // Whatever the error, the client is gone: it counts as the database being unreachable.
  const lost = (error: Error) => void (health.recognise(error) ?? health.recognise(new DatabaseConnectError(error)));
  pool.on('error', lost);
  pool.on('connect', (client) => {
    client.on('error', lost);
    health.succeeded('connect');
  });
};

const openPostgres = async (options: OpenOptions, health: DatabaseHealth): Promise<Database> => {
  const schema = options.pgSchema;
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new AppError('LANES_CONFIG_INVALID', 'bad schema name');
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    // Without it a connection attempt to an unreachable host waits for the operating system (minutes). It also
    // bounds the wait for a free client when all are busy: past it, 503 rather than a request that never ends.
    connectionTimeoutMillis: 10_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  listenForLostConnections(pool, health);
  try {
    const client = await pool.connect();
    try {
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw new AppError('LANES_DATABASE_UNREACHABLE', `PostgreSQL is not reachable: ${(error as Error).message}`);
  }
  const db = new Kysely<DB>({ dialect: postgresDialect({ pool }, health) });
  return {
    engine: 'postgres',
    db,
    pool,
    health,
    close: async () => {
      await db.destroy();
    },
  };
};

const migrate = async (database: Database, pgSchema?: string): Promise<void> => {
  const migrator = new Migrator({
    db: database.db,
    ...(pgSchema ? { migrationTableSchema: pgSchema } : {}),
    provider: { getMigrations: async () => MIGRATIONS },
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
};
