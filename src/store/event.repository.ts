import type SqliteDatabase from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { LoggedEvent } from '../domain/event.js';
import type { ItemState } from '../domain/item.projection.js';
import type { Database, Engine } from './database.js';
import { EVENT_COLUMNS, ITEM_COLUMNS, eventToRow, itemToRow, rowToEvent, rowToItem } from './event.mapper.js';
import type { DB, EventTable, ItemTable } from './schema.js';

/** A write transaction on either engine. */
export interface Tx {
  engine: Engine;
  trx: Kysely<DB>;
  sqlite?: SqliteDatabase.Database;
}

export const withTransaction = <T>(database: Database, fn: (tx: Tx) => Promise<T>): Promise<T> =>
  database.db.transaction().execute((trx) => fn({ engine: database.engine, trx, sqlite: database.sqlite }));

const CHUNK = 500;
export const chunks = <T>(list: readonly T[], size = CHUNK): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
};

// Prepared statements are cached per SQLite connection.
const statementCache = new WeakMap<SqliteDatabase.Database, Map<string, SqliteDatabase.Statement>>();
export const prepared = (db: SqliteDatabase.Database, text: string): SqliteDatabase.Statement => {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let statement = cache.get(text);
  if (!statement) cache.set(text, (statement = db.prepare(text)));
  return statement;
};

const INSERT_EVENT_SQLITE = `INSERT INTO event (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (source, source_event_id) DO NOTHING`;
const UPSERT_ITEM_SQLITE = `INSERT INTO item (${ITEM_COLUMNS.join(', ')}) VALUES (${ITEM_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (key) DO UPDATE SET ${ITEM_COLUMNS.filter(
  (c) => c !== 'key',
)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ')}`;

/**
 * Appends events, skipping any whose (source, source_event_id) is already in the
 * log (including duplicates inside the batch). Returns the events actually stored.
 * One statement per batch on PostgreSQL (unnest), one prepared statement per
 * row on SQLite.
 */
export const insertEventsIgnoringDuplicates = async (
  tx: Tx,
  events: readonly LoggedEvent[],
): Promise<LoggedEvent[]> => {
  if (events.length === 0) return [];
  if (tx.engine === 'sqlite') {
    const statement = prepared(tx.sqlite!, INSERT_EVENT_SQLITE);
    const stored: LoggedEvent[] = [];
    for (const e of events) {
      const row = eventToRow(e);
      const info = statement.run(EVENT_COLUMNS.map((c) => row[c]));
      if (info.changes === 1) stored.push(e);
    }
    return stored;
  }
  const storedIds = new Set<string>();
  for (const part of chunks(events, 5000)) {
    const rows = part.map(eventToRow);
    const arrays = EVENT_COLUMNS.map((c) => rows.map((r) => r[c]));
    const result = await sql<{ id: string }>`
      INSERT INTO event (${sql.raw(EVENT_COLUMNS.join(', '))})
      SELECT * FROM unnest(${sql.join(
        arrays.map((a) => sql`${a}::text[]`),
        sql`, `,
      )})
      ON CONFLICT (source, source_event_id) DO NOTHING
      RETURNING id`.execute(tx.trx);
    for (const r of result.rows) storedIds.add(r.id);
  }
  return events.filter((e) => storedIds.has(e.id));
};

/**
 * Serialises projection writers per item across instances sharing one
 * PostgreSQL (advisory transaction locks, taken in a fixed order). SQLite has a
 * single writer already.
 */
export const lockItems = async (tx: Tx, keys: readonly string[]): Promise<void> => {
  if (tx.engine !== 'postgres' || keys.length === 0) return;
  const sorted = [...keys].sort();
  await sql`SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT hashtextextended(k, 0) AS h FROM unnest(${sorted}::text[]) AS k ORDER BY 1) AS locks`.execute(
    tx.trx,
  );
};

export const getItemsByKey = async (tx: Tx, keys: readonly string[]): Promise<Map<string, ItemState>> => {
  const found = new Map<string, ItemState>();
  if (keys.length === 0) return found;
  if (tx.engine === 'sqlite') {
    const statement = prepared(tx.sqlite!, 'SELECT * FROM item WHERE key = ?');
    for (const key of keys) {
      const row = statement.get(key) as ItemTable | undefined;
      if (row) found.set(key, rowToItem(row));
    }
    return found;
  }
  for (const part of chunks(keys, 5000)) {
    const rows = await tx.trx.selectFrom('item').selectAll().where('key', 'in', part).execute();
    for (const row of rows) found.set(row.key, rowToItem(row));
  }
  return found;
};

/** Every event of the given items, in no particular order. */
export const getEventsOfItems = async (tx: Pick<Tx, 'trx'>, keys: readonly string[]): Promise<LoggedEvent[]> => {
  const out: LoggedEvent[] = [];
  for (const part of chunks(keys)) {
    const rows = await tx.trx.selectFrom('event').selectAll().where('item_key', 'in', part).execute();
    for (const row of rows) out.push(rowToEvent(row));
  }
  return out;
};

/** A span of one item's history: its events dated from `from` to `to` (ISO instants, inclusive). */
export interface ItemSpan {
  key: string;
  from: string;
  to: string;
}

/** The events of each span, in no particular order (served by the (item_key, occurred_at) index). */
export const getEventsInSpans = async (tx: Tx, spans: readonly ItemSpan[]): Promise<LoggedEvent[]> => {
  const out: LoggedEvent[] = [];
  if (tx.engine === 'sqlite') {
    const statement = prepared(
      tx.sqlite!,
      'SELECT * FROM event WHERE item_key = ? AND occurred_at >= ? AND occurred_at <= ?',
    );
    for (const s of spans)
      for (const row of statement.all(s.key, s.from, s.to) as EventTable[]) out.push(rowToEvent(row));
    return out;
  }
  for (const part of chunks(spans, 200)) {
    const rows = await tx.trx
      .selectFrom('event')
      .selectAll()
      .where((eb) =>
        eb.or(
          part.map((s) =>
            eb.and([eb('item_key', '=', s.key), eb('occurred_at', '>=', s.from), eb('occurred_at', '<=', s.to)]),
          ),
        ),
      )
      .execute();
    for (const row of rows) out.push(rowToEvent(row));
  }
  return out;
};

/** Takes back events this transaction appended (a second report of a fact already in the log). */
export const deleteEventsById = async (tx: Tx, ids: readonly string[]): Promise<void> => {
  for (const part of chunks(ids)) await tx.trx.deleteFrom('event').where('id', 'in', part).execute();
};

export const upsertItems = async (tx: Tx, items: readonly ItemState[]): Promise<void> => {
  if (items.length === 0) return;
  if (tx.engine === 'sqlite') {
    const statement = prepared(tx.sqlite!, UPSERT_ITEM_SQLITE);
    for (const item of items) {
      const row = itemToRow(item);
      statement.run(ITEM_COLUMNS.map((c) => row[c]));
    }
    return;
  }
  for (const part of chunks(items, 1000)) {
    await tx.trx
      .insertInto('item')
      .values(part.map(itemToRow))
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet((eb) =>
            Object.fromEntries(ITEM_COLUMNS.filter((c) => c !== 'key').map((c) => [c, eb.ref(`excluded.${c}`)])),
          ),
      )
      .execute();
  }
};

export interface SourceBump {
  source: string;
  stored: number;
  duplicates: number;
  lastOccurredAt: string | null;
  receivedAt: string;
}

export const bumpSourceStates = async (tx: Tx, bumps: readonly SourceBump[]): Promise<void> => {
  for (const b of bumps) {
    await tx.trx
      .insertInto('source_state')
      .values({
        source: b.source,
        event_count: b.stored,
        duplicate_count: b.duplicates,
        last_occurred_at: b.lastOccurredAt,
        last_received_at: b.receivedAt,
      })
      .onConflict((oc) =>
        oc.column('source').doUpdateSet((eb) => ({
          event_count: sql`source_state.event_count + ${eb.ref('excluded.event_count')}`,
          duplicate_count: sql`source_state.duplicate_count + ${eb.ref('excluded.duplicate_count')}`,
          last_occurred_at: sql`CASE WHEN source_state.last_occurred_at IS NULL OR excluded.last_occurred_at > source_state.last_occurred_at THEN excluded.last_occurred_at ELSE source_state.last_occurred_at END`,
          last_received_at: eb.ref('excluded.last_received_at'),
        })),
      )
      .execute();
  }
};

export interface SourceState {
  source: string;
  eventCount: number;
  duplicateCount: number;
  lastOccurredAt: string | null;
  lastReceivedAt: string;
}

export const listSourceStates = async (database: Database): Promise<SourceState[]> => {
  const rows = await database.db.selectFrom('source_state').selectAll().orderBy('source').execute();
  return rows.map((r) => ({
    source: r.source,
    eventCount: Number(r.event_count),
    duplicateCount: Number(r.duplicate_count),
    lastOccurredAt: r.last_occurred_at,
    lastReceivedAt: r.last_received_at,
  }));
};

/** The events of one item in log order. */
export const listItemEvents = async (database: Database, key: string): Promise<LoggedEvent[]> => {
  const rows = await database.db
    .selectFrom('event')
    .selectAll()
    .where('item_key', '=', key)
    .orderBy('occurred_at')
    .orderBy('source')
    .orderBy('source_event_id')
    .execute();
  return rows.map(rowToEvent);
};

export const countEvents = async (database: Database): Promise<number> => {
  const row = await database.db
    .selectFrom('event')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
};

/** Which of these source event ids of a source the log already holds (an import's dry run, unmapped counts). */
export const existingSourceEventIds = async (
  database: Database,
  source: string,
  ids: readonly string[],
): Promise<Set<string>> => {
  const found = new Set<string>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = await database.db
      .selectFrom('event')
      .select('source_event_id')
      .where('source', '=', source)
      .where('source_event_id', 'in', part)
      .execute();
    for (const r of rows) found.add(r.source_event_id);
  }
  return found;
};

export type { EventTable };
