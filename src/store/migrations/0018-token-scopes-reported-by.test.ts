import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../database.js';
import { testEngines } from '../engines.test-helper.js';
import * as m0018 from './0018-token-scopes-reported-by.js';

describe.each(testEngines())('migration 0018 on $engine', ({ open }) => {
  let database: Database;
  beforeEach(async () => {
    database = await open();
  });
  afterEach(async () => {
    await database.close();
  });

  it("gives tokens made before scopes what they could do then, by their user's role", async () => {
    const db = database.db as unknown as Kysely<unknown>;
    await m0018.down(db);
    const at = '2026-01-01T00:00:00.000Z';
    for (const role of ['admin', 'member', 'stakeholder']) {
      await database.db
        .insertInto('app_user')
        .values({ id: `u-${role}`, email: `${role}@x.example`, name: role, role, password_hash: 'x', created_at: at })
        .execute();
      await (db as Kysely<Record<string, Record<string, unknown>>>)
        .insertInto('api_token')
        .values({ id: `t-${role}`, user_id: `u-${role}`, name: role, secret_hash: 'h', created_at: at })
        .execute();
    }
    await m0018.up(db);
    const rows = await database.db.selectFrom('api_token').select(['id', 'scopes']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 't-admin', scopes: 'admin events:write read write' },
      { id: 't-member', scopes: 'events:write read write' },
      { id: 't-stakeholder', scopes: 'read write' },
    ]);
    // Events keep a reporter column, empty for everything already in the log.
    expect(await database.db.selectFrom('event').select('reported_by').execute()).toEqual([]);
  });
});
