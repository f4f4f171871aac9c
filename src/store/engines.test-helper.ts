import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { openDatabase, type Database, type Engine } from './database.js';

/**
 * The engines every repository and service test runs on. Each call to
 * `open()` gives a fresh, migrated, empty database: an in-memory SQLite, or a
 * new schema inside this run's PostgreSQL database.
 */
export interface TestEngine {
  engine: Engine;
  open(): Promise<Database>;
}

export const testEngines = (): TestEngine[] => {
  const engines: TestEngine[] = [{ engine: 'sqlite', open: () => openDatabase({ url: ':memory:' }) }];
  const pgUrl = inject('pgUrl');
  if (pgUrl) {
    engines.push({
      engine: 'postgres',
      open: () => openDatabase({ url: pgUrl, pgSchema: `t_${randomBytes(6).toString('hex')}`, poolSize: 4 }),
    });
  }
  return engines;
};
