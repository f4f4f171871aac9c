import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startLanesInstance, type LanesInstance } from '../../test/support/lanes-instance.js';
import { openDatabase, type Database } from '../store/database.js';
import { classifyDatabaseError } from '../store/database.errors.js';

/**
 * A SQLite database that refuses writes (read-only) or stays locked by another
 * process past the busy timeout: real driver errors, answered with stable codes
 * and Retry-After instead of a 500, said by /readyz and /healthz, and gone
 * without a restart once the database takes writes again.
 */
const event = (id: string) => ({
  source: 'deploys',
  sourceEventId: id,
  occurredAt: '2026-05-01T12:00:00Z',
  actor: { kind: 'github', id: 'octocat' },
  item: { key: `REF-${id}`, kind: 'bug', title: 'Refund fails' },
  change: { kind: 'created' },
});

describe('SQLite refusing writes', () => {
  let dir: string;
  let database: Database;
  let lanes: LanesInstance;
  const post = (id: string) =>
    lanes.call('/api/v1/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [event(id)] }),
    });
  const get = (path: string) => fetch(`http://127.0.0.1:${lanes.port}${path}`);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanes-refusals-'));
    database = await openDatabase({ url: join(dir, 'lanes.db') });
    lanes = await startLanesInstance(database);
  });
  afterEach(async () => {
    await lanes.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 LANES_STORAGE_READ_ONLY while the database is read-only, and takes writes again after', async () => {
    database.sqlite!.pragma('query_only = ON');
    const refused = await post('ro-1');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({
      error: { code: 'LANES_STORAGE_READ_ONLY', details: { cause: 'SQLITE_READONLY' } },
    });
    const ready = await get('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ error: { code: 'LANES_STORAGE_READ_ONLY' } });
    expect(await (await get('/healthz')).json()).toMatchObject({
      status: 'degraded',
      problem: { code: 'LANES_STORAGE_READ_ONLY' },
    });
    for (let i = 0; i < 50; i++) expect((await post(`ro-more-${i}`)).status).toBe(503);
    const named = lanes.logLines.filter((l) => l.includes('SQLITE_READONLY'));
    expect(named).toHaveLength(1);

    database.sqlite!.pragma('query_only = OFF');
    expect((await post('ro-2')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    expect(await (await get('/healthz')).json()).toMatchObject({ status: 'ok' });
    expect(lanes.logLines.filter((l) => /the database works again after \d+ failure/.test(l))).toHaveLength(1);
  });

  it('answers 503 LANES_DATABASE_BUSY when another process holds the write lock past the busy timeout', async () => {
    database.sqlite!.pragma('busy_timeout = 50');
    const other = new SqliteDatabase(join(dir, 'lanes.db'));
    try {
      other.exec('BEGIN IMMEDIATE');
      const refused = await post('busy-1');
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await refused.json()).toMatchObject({ error: { code: 'LANES_DATABASE_BUSY' } });
      other.exec('ROLLBACK');
      expect((await post('busy-2')).status).toBe(200);
    } finally {
      other.close();
    }
  });
});

describe('the database error classifier', () => {
  it('recognises a refused PostgreSQL connection, and leaves errors that are not outages alone', async () => {
    const pool = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    const error = await pool.query('SELECT 1').catch((e: unknown) => e);
    await pool.end();
    expect(classifyDatabaseError(error)).toMatchObject({
      code: 'LANES_DATABASE_UNREACHABLE',
      details: { cause: 'ECONNREFUSED' },
    });
    expect(classifyDatabaseError(new Error('Connection terminated unexpectedly'))?.code).toBe(
      'LANES_DATABASE_UNREACHABLE',
    );
    expect(classifyDatabaseError(Object.assign(new Error('x'), { code: '57P01' }))?.code).toBe(
      'LANES_DATABASE_UNREACHABLE',
    );
    expect(classifyDatabaseError(Object.assign(new Error('disk full'), { code: '53100' }))?.code).toBe(
      'LANES_STORAGE_FULL',
    );
    const sqlite = new SqliteDatabase(':memory:');
    sqlite.exec('CREATE TABLE t (x INTEGER PRIMARY KEY)');
    sqlite.exec('INSERT INTO t VALUES (1)');
    let constraint: unknown;
    try {
      sqlite.exec('INSERT INTO t VALUES (1)');
    } catch (e) {
      constraint = e;
    }
    sqlite.close();
    expect((constraint as { code: string }).code).toMatch(/^SQLITE_CONSTRAINT/);
    expect(classifyDatabaseError(constraint)).toBeUndefined();
    expect(classifyDatabaseError(new Error('something else'))).toBeUndefined();
  });
});
