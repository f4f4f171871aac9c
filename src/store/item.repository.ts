import { sql, type Expression, type SqlBool } from 'kysely';
import type { ItemState } from '../domain/item.projection.js';
import type { Database } from './database.js';
import { rowToItem } from './event.mapper.js';

export interface ItemFilter {
  team?: string | undefined;
  kind?: string | undefined;
  stage?: string | undefined;
  component?: string | undefined;
  severity?: string | undefined;
  assignee?: string | undefined;
  /** Words to find in the key or title. */
  q?: string | undefined;
}

/** Position after the last item of a page, in (updated_at desc, key desc) order. */
export interface ItemCursor {
  updatedAt: string;
  key: string;
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Items newest-first with keyset pagination. Text search is the one
 * dialect-specific part: case-insensitive substring on key and title.
 */
export const listItems = async (
  database: Database,
  filter: ItemFilter,
  limit: number,
  after?: ItemCursor,
): Promise<ItemState[]> => {
  let query = database.db.selectFrom('item').selectAll();
  for (const column of ['team', 'kind', 'stage', 'component', 'severity', 'assignee'] as const) {
    const value = filter[column];
    if (value !== undefined) query = query.where(column, '=', value);
  }
  if (filter.q) {
    const words = filter.q.trim().split(/\s+/).filter(Boolean).slice(0, 8);
    for (const word of words) {
      const pattern = `%${escapeLike(word)}%`;
      query = query.where(({ or, eb }) => {
        const match = (column: 'key' | 'title'): Expression<SqlBool> =>
          database.engine === 'postgres'
            ? sql<SqlBool>`${sql.ref(column)} ILIKE ${pattern} ESCAPE '\\'`
            : sql<SqlBool>`${sql.ref(column)} LIKE ${pattern} ESCAPE '\\'`;
        void eb;
        return or([match('key'), match('title')]);
      });
    }
  }
  if (after) {
    query = query.where(({ or, and, eb }) =>
      or([
        eb('updated_at', '<', after.updatedAt),
        and([eb('updated_at', '=', after.updatedAt), eb('key', '<', after.key)]),
      ]),
    );
  }
  const rows = await query.orderBy('updated_at', 'desc').orderBy('key', 'desc').limit(limit).execute();
  return rows.map(rowToItem);
};

export const getItem = async (database: Database, key: string): Promise<ItemState | undefined> => {
  const row = await database.db.selectFrom('item').selectAll().where('key', '=', key).executeTakeFirst();
  return row ? rowToItem(row) : undefined;
};

export const countItems = async (database: Database): Promise<number> => {
  const row = await database.db
    .selectFrom('item')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
};

export interface ItemCount {
  team: string | null;
  kind: string;
  stage: string;
  count: number;
}

/** Item counts by team, kind and stage, for the overview. */
export const countItemsByTeamKindStage = async (database: Database): Promise<ItemCount[]> => {
  const rows = await database.db
    .selectFrom('item')
    .select(['team', 'kind', 'stage', (eb) => eb.fn.countAll().as('n')])
    .groupBy(['team', 'kind', 'stage'])
    .execute();
  return rows.map((r) => ({ team: r.team, kind: r.kind, stage: r.stage, count: Number(r.n) }));
};

export const getMeta = async (database: Database, key: string): Promise<string | undefined> =>
  (await database.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst())?.value;

export const setMeta = async (database: Database, key: string, value: string): Promise<void> => {
  await database.db
    .insertInto('meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
};
