import type SqliteDatabase from 'better-sqlite3';
import {
  PostgresDialect,
  PostgresDriver,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type PostgresDialectConfig,
  type SqliteDialectConfig,
} from 'kysely';
import { classifyDatabaseError, DatabaseConnectError } from './database.errors.js';
import type { DatabaseHealth } from './database.health.js';

/**
 * Kysely's drivers, with what an outage needs: a transaction's real error is
 * never hidden by a failing ROLLBACK, a failure to connect is marked as such,
 * and every commit tells the database's health that writes work.
 */

/**
 * On SQLITE_FULL, SQLITE_IOERR and some SQLITE_BUSY, SQLite has already undone
 * the whole transaction itself; a ROLLBACK then fails with "cannot rollback -
 * no transaction is active", which replaced the real cause (thousands of such
 * log lines and a 500 on a full disk). Roll back only what is still open.
 */
class ResilientSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly sqlite: SqliteDatabase.Database,
    private readonly health: DatabaseHealth,
  ) {
    super(config);
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await super.commitTransaction(connection);
    this.health.succeeded('write');
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.sqlite.inTransaction) return;
    await super.rollbackTransaction(connection);
  }
}

class ResilientPostgresDriver extends PostgresDriver {
  constructor(
    config: PostgresDialectConfig,
    private readonly health: DatabaseHealth,
  ) {
    super(config);
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    try {
      return await super.acquireConnection();
    } catch (error) {
      throw new DatabaseConnectError(error);
    }
  }

  override async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await super.commitTransaction(connection);
    this.health.succeeded('write');
  }

  /** A connection lost mid-transaction cannot roll back, and need not: the server has. Keep the real error. */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await super.rollbackTransaction(connection);
    } catch (error) {
      if (classifyDatabaseError(error)?.code !== 'LANES_DATABASE_UNREACHABLE') throw error;
    }
  }
}

const withDriver = (dialect: Dialect, createDriver: () => Driver): Dialect => ({
  createAdapter: () => dialect.createAdapter(),
  createDriver,
  createIntrospector: (db) => dialect.createIntrospector(db),
  createQueryCompiler: () => dialect.createQueryCompiler(),
});

/** Kysely's SQLite dialect with the resilient driver. */
export const sqliteDialect = (
  config: SqliteDialectConfig,
  sqlite: SqliteDatabase.Database,
  health: DatabaseHealth,
): Dialect => withDriver(new SqliteDialect(config), () => new ResilientSqliteDriver(config, sqlite, health));

/** Kysely's PostgreSQL dialect with the resilient driver. */
export const postgresDialect = (config: PostgresDialectConfig, health: DatabaseHealth): Dialect =>
  withDriver(new PostgresDialect(config), () => new ResilientPostgresDriver(config, health));
