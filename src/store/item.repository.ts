import { CompiledQuery } from 'kysely';
import type { ItemState } from '../domain/item.projection.js';
import type { Database } from './database.js';
import { rowToItem } from './event.mapper.js';
import type { ItemTable } from './schema.js';

export interface ItemFilter {
  team?: string | undefined;
  kind?: string | undefined;
  stage?: string | undefined;
  component?: string | undefined;
  severity?: string | undefined;
  assignee?: string | undefined;
  /** Words to find in the key or title. */
  q?: string | undefined;
  /** Only items the portal index marks visible to stakeholders (the audience rule, issue 13). */
  stakeholderVisible?: boolean | undefined;
}

/** Position after the last item of a page, in (updated_at desc, key desc) order. */
export interface ItemCursor {
  updatedAt: string;
  key: string;
}

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** What a list of items shows; the full item comes with `getItem`. */
export type ItemSummary = Pick<
  ItemState,
  | 'key'
  | 'kind'
  | 'title'
  | 'team'
  | 'component'
  | 'severity'
  | 'priority'
  | 'assignee'
  | 'state'
  | 'stage'
  | 'url'
  | 'createdAt'
  | 'updatedAt'
>;

const SUMMARY_COLUMNS = [
  'key',
  'kind',
  'title',
  'team',
  'component',
  'severity',
  'priority',
  'assignee',
  'state',
  'stage',
  'url',
  'created_at',
  'updated_at',
] as const;

const FILTER_COLUMNS = ['team', 'kind', 'stage', 'component', 'severity', 'assignee'] as const;

type SummaryRow = Pick<ItemTable, (typeof SUMMARY_COLUMNS)[number]>;

/**
 * Item summaries newest-first with keyset pagination. This is the hottest read,
 * so its SQL is assembled here from fixed column names (every value is a bound
 * parameter) instead of through the query builder, whose per-request building
 * cost as much as the query itself; the text repeats per filter shape, so the
 * driver's statement cache reuses the prepared statement. Only the summary
 * columns are read: building JS values for every column of every row was most
 * of the cost of a page. Dialect differences: placeholders, and ILIKE versus
 * LIKE (case-insensitive for ASCII in SQLite) for search on key and title.
 */
export const listItems = async (
  database: Database,
  filter: ItemFilter,
  limit: number,
  after?: ItemCursor,
): Promise<ItemSummary[]> => {
  const pg = database.engine === 'postgres';
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return pg ? `$${params.length}` : '?';
  };
  const where: string[] = [];
  for (const column of FILTER_COLUMNS) {
    const value = filter[column];
    if (value !== undefined) where.push(`${column} = ${param(value)}`);
  }
  const like = pg ? 'ILIKE' : 'LIKE';
  for (const word of (filter.q ?? '').trim().split(/\s+/).filter(Boolean).slice(0, 8)) {
    const pattern = `%${escapeLike(word)}%`;
    where.push(`(key ${like} ${param(pattern)} ESCAPE '\\' OR title ${like} ${param(pattern)} ESCAPE '\\')`);
  }
  if (filter.stakeholderVisible) {
    where.push('EXISTS (SELECT 1 FROM portal_item p WHERE p.key = item.key AND p.visible = 1)');
  }
  // A row-value comparison lets both engines seek the (…, updated_at, key) index.
  if (after) where.push(`(updated_at, key) < (${param(after.updatedAt)}, ${param(after.key)})`);
  const text = `SELECT ${SUMMARY_COLUMNS.join(', ')} FROM item${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, key DESC LIMIT ${param(limit)}`;
  const { rows } = await database.db.executeQuery<SummaryRow>(CompiledQuery.raw(text, params));
  return rows.map((r) => ({
    key: r.key,
    kind: r.kind as ItemState['kind'],
    title: r.title,
    team: r.team,
    component: r.component,
    severity: r.severity,
    priority: r.priority,
    assignee: r.assignee,
    state: r.state,
    stage: r.stage as ItemState['stage'],
    url: r.url,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
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
