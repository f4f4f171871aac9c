import { CompiledQuery } from 'kysely';
import { foldText, type PortalRow } from '../domain/portal.js';
import type { Stage } from '../domain/stage.js';
import type { StageTransition } from '../domain/stage.evidence.js';
import { stageEvidenceOf } from '../domain/stage.evidence.js';
import type { ItemKind } from '../domain/event.js';
import type { Database } from './database.js';
import { chunks, prepared, type Tx } from './event.repository.js';
import type { ItemStageChangeTable, PortalItemTable, ShareLinkTable } from './schema.js';

/** Storage of the portal: its item index and full-text search, stage changes, fix links and share links. */

/** What full-text search looks at, folded (lower case, no diacritics) so both engines match alike. */
const searchTextOf = (r: PortalRow): string =>
  foldText([r.key, r.title, r.component ?? '', r.customer ?? ''].join(' '));

export const portalRowToTable = (r: PortalRow): Omit<PortalItemTable, 'search_text'> & { search_text: string } => ({
  key: r.key,
  kind: r.kind,
  title: r.title,
  team: r.team,
  component: r.component,
  customer: r.customer,
  reporter: r.reporter,
  stage: r.stage,
  url: r.url,
  visible: r.visible ? 1 : 0,
  updated_at: r.updatedAt,
  search_text: searchTextOf(r),
});

export const tableToPortalRow = (r: Omit<PortalItemTable, 'search_text'>): PortalRow => ({
  key: r.key,
  kind: r.kind as ItemKind,
  title: r.title,
  team: r.team,
  component: r.component,
  customer: r.customer,
  reporter: r.reporter,
  stage: r.stage as Stage,
  url: r.url,
  visible: Number(r.visible) === 1,
  updatedAt: r.updated_at,
});

const PORTAL_COLUMNS = [
  'key',
  'kind',
  'title',
  'team',
  'component',
  'customer',
  'reporter',
  'stage',
  'url',
  'visible',
  'updated_at',
  'search_text',
] as const;

const UPSERT_PORTAL_SQLITE = `INSERT INTO portal_item (${PORTAL_COLUMNS.join(', ')}) VALUES (${PORTAL_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (key) DO UPDATE SET ${PORTAL_COLUMNS.filter(
  (c) => c !== 'key',
)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ')} RETURNING rowid`;

/**
 * Writes portal rows. On SQLite the FTS5 index (rowid = the row's rowid) is
 * rewritten only for rows whose searchable text changed (`textChanged`).
 */
export const upsertPortalItems = async (
  tx: Tx,
  rows: readonly PortalRow[],
  textChanged: (key: string) => boolean,
): Promise<void> => {
  if (rows.length === 0) return;
  if (tx.engine === 'sqlite') {
    const upsert = prepared(tx.sqlite!, UPSERT_PORTAL_SQLITE);
    const remove = prepared(tx.sqlite!, 'DELETE FROM portal_item_fts WHERE rowid = ?');
    const insert = prepared(tx.sqlite!, 'INSERT INTO portal_item_fts (rowid, search_text) VALUES (?, ?)');
    for (const row of rows) {
      const t = portalRowToTable(row);
      const { rowid } = upsert.get(PORTAL_COLUMNS.map((c) => t[c])) as { rowid: number };
      if (textChanged(row.key)) {
        remove.run(rowid);
        insert.run(rowid, t.search_text);
      }
    }
    return;
  }
  for (const part of chunks(rows, 1000)) {
    await tx.trx
      .insertInto('portal_item')
      .values(part.map(portalRowToTable))
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet((eb) =>
            Object.fromEntries(
              PORTAL_COLUMNS.filter((c) => c !== 'key').map((c) => [c, eb.ref(`excluded.${c}` as 'excluded.title')]),
            ),
          ),
      )
      .execute();
  }
};

/**
 * Empties the full-text table before a rebuild writes every row again. The
 * portal rows stay (upserted in place), so items keep their sequence — the
 * order in which Lanes first saw them, which word searches list by.
 */
export const clearPortalIndex = async (tx: Tx): Promise<void> => {
  if (tx.engine === 'sqlite') prepared(tx.sqlite!, 'DELETE FROM portal_item_fts').run();
};

/** Items stakeholders may see, counted by team, kind and stage (the overview of that audience). */
export const countVisiblePortalItems = async (
  database: Database,
): Promise<Array<{ team: string | null; kind: string; stage: string; count: number }>> => {
  const rows = await database.db
    .selectFrom('portal_item')
    .select(['team', 'kind', 'stage', (eb) => eb.fn.countAll().as('n')])
    .where('visible', '=', 1)
    .groupBy(['team', 'kind', 'stage'])
    .execute();
  return rows.map((r) => ({ team: r.team, kind: r.kind, stage: r.stage, count: Number(r.n) }));
};

export const getPortalRow = async (database: Database, key: string): Promise<PortalRow | undefined> => {
  const row = await database.db.selectFrom('portal_item').selectAll().where('key', '=', key).executeTakeFirst();
  return row ? tableToPortalRow(row) : undefined;
};

export const getPortalRows = async (database: Database, keys: readonly string[]): Promise<PortalRow[]> => {
  if (keys.length === 0) return [];
  const rows = await database.db.selectFrom('portal_item').selectAll().where('key', 'in', keys).execute();
  return rows.map(tableToPortalRow);
};

// ---------------------------------------------------------------------------
// Stage changes

const changeRow = (t: StageTransition, recordedAt: string): ItemStageChangeTable => ({
  id: t.id,
  item_key: t.itemKey,
  from_stage: t.from,
  to_stage: t.to,
  occurred_at: t.at,
  evidence_event_id: t.event.id,
  evidence: JSON.stringify(stageEvidenceOf(t.event)),
  recorded_at: recordedAt,
  fanned_out_at: null,
});

/** Records stage changes; one already recorded (same id) keeps its row, and so whether it was notified. */
export const insertStageChanges = async (
  tx: Tx,
  transitions: readonly StageTransition[],
  recordedAt: string,
): Promise<void> => {
  for (const part of chunks(transitions, 500)) {
    await tx.trx
      .insertInto('item_stage_change')
      .values(part.map((t) => changeRow(t, recordedAt)))
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
};

/** For items walked again from the start: drops the stage changes that no longer happened. */
export const removeStaleStageChanges = async (
  tx: Tx,
  itemKeys: readonly string[],
  keep: ReadonlySet<string>,
): Promise<void> => {
  for (const part of chunks(itemKeys)) {
    const rows = await tx.trx.selectFrom('item_stage_change').select('id').where('item_key', 'in', part).execute();
    const stale = rows.map((r) => r.id).filter((id) => !keep.has(id));
    for (const ids of chunks(stale)) await tx.trx.deleteFrom('item_stage_change').where('id', 'in', ids).execute();
  }
};

export const listStageChanges = async (database: Database, itemKey: string): Promise<ItemStageChangeTable[]> =>
  database.db
    .selectFrom('item_stage_change')
    .selectAll()
    .where('item_key', '=', itemKey)
    .orderBy('occurred_at')
    .orderBy('id')
    .execute();

// ---------------------------------------------------------------------------
// Links

export const insertItemLinks = async (
  tx: Tx,
  links: readonly { from: string; to: string; relation: string }[],
): Promise<void> => {
  const rows = links.flatMap((l) =>
    l.from === l.to
      ? []
      : [
          { item_key: l.from, other_key: l.to, relation: l.relation },
          { item_key: l.to, other_key: l.from, relation: `inverse:${l.relation}` },
        ],
  );
  for (const part of chunks(rows, 500)) {
    await tx.trx
      .insertInto('item_link')
      .values(part)
      .onConflict((oc) => oc.columns(['item_key', 'other_key']).doNothing())
      .execute();
  }
};

export const listItemLinks = async (
  database: Database,
  itemKey: string,
): Promise<{ otherKey: string; relation: string }[]> =>
  (
    await database.db
      .selectFrom('item_link')
      .select(['other_key', 'relation'])
      .where('item_key', '=', itemKey)
      .limit(50)
      .execute()
  ).map((r) => ({ otherKey: r.other_key, relation: r.relation }));

// ---------------------------------------------------------------------------
// Fix commits and the deployments that carry them

export const insertFixCommits = async (
  tx: Tx,
  rows: readonly { itemKey: string; sha: string; mergedAt: string }[],
): Promise<void> => {
  for (const part of chunks(rows, 500)) {
    await tx.trx
      .insertInto('item_fix_commit')
      .values(part.map((r) => ({ item_key: r.itemKey, sha: r.sha, merged_at: r.mergedAt })))
      .onConflict((oc) => oc.columns(['item_key', 'sha']).doNothing())
      .execute();
  }
};

export interface DeploymentCommit {
  sha: string;
  eventId: string;
  source: string;
  sourceEventId: string;
  environment: string;
  deploymentId: string | null;
  deployedAt: string;
}

export const insertDeploymentCommits = async (tx: Tx, rows: readonly DeploymentCommit[]): Promise<void> => {
  for (const part of chunks(rows, 500)) {
    await tx.trx
      .insertInto('deployment_commit')
      .values(
        part.map((r) => ({
          sha: r.sha,
          event_id: r.eventId,
          source: r.source,
          source_event_id: r.sourceEventId,
          environment: r.environment,
          deployment_id: r.deploymentId,
          deployed_at: r.deployedAt,
        })),
      )
      .onConflict((oc) => oc.columns(['sha', 'event_id']).doNothing())
      .execute();
  }
};

/** Items whose fix is one of these commits. */
export const fixesOfCommits = async (
  tx: Tx,
  shas: readonly string[],
): Promise<{ itemKey: string; sha: string; mergedAt: string }[]> => {
  const out: { itemKey: string; sha: string; mergedAt: string }[] = [];
  for (const part of chunks([...new Set(shas)])) {
    const rows = await tx.trx.selectFrom('item_fix_commit').selectAll().where('sha', 'in', part).execute();
    for (const r of rows) out.push({ itemKey: r.item_key, sha: r.sha, mergedAt: r.merged_at });
  }
  return out;
};

/** Successful production deployments that carried one of these commits. */
export const deploymentsOfCommits = async (tx: Tx, shas: readonly string[]): Promise<DeploymentCommit[]> => {
  const out: DeploymentCommit[] = [];
  for (const part of chunks([...new Set(shas)])) {
    const rows = await tx.trx.selectFrom('deployment_commit').selectAll().where('sha', 'in', part).execute();
    for (const r of rows)
      out.push({
        sha: r.sha,
        eventId: r.event_id,
        source: r.source,
        sourceEventId: r.source_event_id,
        environment: r.environment,
        deploymentId: r.deployment_id,
        deployedAt: r.deployed_at,
      });
  }
  return out;
};

// ---------------------------------------------------------------------------
// Search

export interface PortalSearchFilter {
  words: string[];
  reporter?: string | undefined;
  customer?: string | undefined;
  team?: string | undefined;
  component?: string | undefined;
  stage?: string | undefined;
  /** Only these keys (items the user follows). */
  keys?: readonly string[] | undefined;
  /** Keyset for filter-only searches: rows strictly older than this (updated_at, key). */
  before?: { updatedAt: string; key: string } | undefined;
  /** Keyset for word searches: items first seen before this one (its sequence number). */
  beforeSeq?: number | undefined;
  limit: number;
}

/** Rows of a search; word searches also give each row's sequence (first seen by Lanes) for the next page. */
export type PortalSearchRow = PortalRow & { seq?: number };

/** A word search that stopped at its scan limit says where the next page goes on (`continueSeq`). */
export type PortalSearchRows = PortalSearchRow[] & { continueSeq?: number };

/** How many full-text matches a word search looks at per step, newest first. */
const WORD_BATCH = 256;
/** A word search stops after this many matches per page; the next page goes on from there. */
const WORD_SCAN_LIMIT = 8 * WORD_BATCH;

const filterWhere = (f: PortalSearchFilter, p: (value: unknown) => string, visible: string): string[] => {
  const where: string[] = [visible];
  if (f.reporter !== undefined) where.push(`lower(p.reporter) = lower(${p(f.reporter)})`);
  if (f.customer !== undefined) where.push(`lower(p.customer) = lower(${p(f.customer)})`);
  if (f.team !== undefined) where.push(`p.team = ${p(f.team)}`);
  if (f.component !== undefined) where.push(`p.component = ${p(f.component)}`);
  if (f.stage !== undefined) where.push(`p.stage = ${p(f.stage)}`);
  if (f.keys !== undefined) where.push(`p.key IN (${f.keys.map((k) => p(k)).join(', ')})`);
  return where;
};

const ROW_COLUMNS =
  'p.key, p.kind, p.title, p.team, p.component, p.customer, p.reporter, p.stage, p.url, p.visible, p.updated_at';

type RowWithSeq = Omit<PortalItemTable, 'search_text'> & { seq: number | string };

/**
 * Visible items matching the filters. Words use the full-text index (FTS5
 * prefix queries on SQLite, a `simple` tsquery with prefixes on PostgreSQL),
 * newest first by when Lanes first saw the item: on SQLite the FTS5 rowid is
 * the item row's, so the newest matches come straight off the index without
 * collecting them all. Filters alone list the most recently updated first.
 * One repository method for both engines.
 */
export const searchPortalItems = async (database: Database, f: PortalSearchFilter): Promise<PortalSearchRows> => {
  if (f.keys !== undefined && f.keys.length === 0) return [];
  const postgres = database.engine === 'postgres';
  if (f.words.length > 0 && !postgres) return searchWordsSqlite(database, f);
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return postgres ? `$${params.length}` : '?';
  };
  const where = filterWhere(f, p, 'p.visible = 1');
  // A reporter's or a customer's items are read in order off their folded index (lower(x), visible, updated_at),
  // not found by walking every visible item; SQLite's planner needs telling.
  const indexed =
    postgres || f.words.length > 0
      ? ''
      : f.reporter !== undefined
        ? ' INDEXED BY portal_item_reporter_folded_index'
        : f.customer !== undefined
          ? ' INDEXED BY portal_item_customer_folded_index'
          : '';
  let order = 'p.updated_at DESC, p.key DESC';
  if (f.words.length > 0) {
    const tsquery = f.words.map((w) => `${w.replace(/[^\p{L}\p{N}]/gu, '')}:*`).join(' & ');
    where.push(`p.search @@ to_tsquery('simple', ${p(tsquery)})`);
    if (f.beforeSeq !== undefined) where.push(`p.seq < ${p(f.beforeSeq)}`);
    order = 'p.seq DESC';
  } else if (f.before !== undefined) {
    where.push(
      `(p.updated_at < ${p(f.before.updatedAt)} OR (p.updated_at = ${p(f.before.updatedAt)} AND p.key < ${p(f.before.key)}))`,
    );
  }
  const seq = postgres ? 'p.seq' : 'p.rowid';
  const text = `SELECT ${ROW_COLUMNS}, ${seq} AS seq FROM portal_item p${indexed} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${p(f.limit)}`;
  const rows =
    database.engine === 'sqlite'
      ? (prepared(database.sqlite!, text).all(...params) as RowWithSeq[])
      : (await database.db.executeQuery<RowWithSeq>(CompiledQuery.raw(text, params))).rows;
  return rows.map((r) => ({ ...tableToPortalRow(r), seq: Number(r.seq) }));
};

/** Word search on SQLite: the newest full-text matches in steps, each step's rows filtered, until a page is full. */
const searchWordsSqlite = (database: Database, f: PortalSearchFilter): PortalSearchRows => {
  const sqlite = database.sqlite!;
  const match = f.words.map((w) => `"${w.replace(/"/g, '')}"*`).join(' AND ');
  const matches = prepared(
    sqlite,
    `SELECT rowid FROM portal_item_fts WHERE portal_item_fts MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ${WORD_BATCH}`,
  );
  const out: PortalSearchRows = [];
  let before = f.beforeSeq ?? Number.MAX_SAFE_INTEGER;
  let more = true;
  for (let scanned = 0; out.length < f.limit && more; scanned += WORD_BATCH) {
    if (scanned >= WORD_SCAN_LIMIT) {
      out.continueSeq = before; // matches remain beyond what one page may scan: the next page goes on from here
      break;
    }
    const ids = (matches.all(match, before) as { rowid: number }[]).map((r) => r.rowid);
    if (ids.length === 0) break;
    const params: unknown[] = [];
    const p = (value: unknown): string => {
      params.push(value);
      return '?';
    };
    // The unary + keeps SQLite on the rowids rather than walking an index of every visible item.
    const where = filterWhere(f, p, '+p.visible = 1');
    where.push(`p.rowid IN (SELECT value FROM json_each(${p(JSON.stringify(ids))}))`);
    const rows = sqlite
      .prepare(
        `SELECT ${ROW_COLUMNS}, p.rowid AS seq FROM portal_item p WHERE ${where.join(' AND ')} ORDER BY p.rowid DESC`,
      )
      .all(...params) as RowWithSeq[];
    for (const r of rows) {
      if (out.length >= f.limit) break;
      out.push({ ...tableToPortalRow(r), seq: Number(r.seq) });
    }
    before = ids[ids.length - 1]!;
    more = ids.length === WORD_BATCH;
  }
  return out;
};

/** The item a Slack permalink (or another link stored with an event) points at. */
export const itemKeyOfLink = async (database: Database, url: string): Promise<string | null> => {
  const byUrl = await database.db.selectFrom('portal_item').select('key').where('url', '=', url).executeTakeFirst();
  if (byUrl) return byUrl.key;
  const byEvent = await database.db
    .selectFrom('event')
    .select('item_key')
    .where('payload_ref', '=', url)
    .where('item_key', 'is not', null)
    .executeTakeFirst();
  return byEvent?.item_key ?? null;
};

// ---------------------------------------------------------------------------
// Share links

export const insertShareLink = async (database: Database, row: ShareLinkTable): Promise<void> => {
  await database.db.insertInto('share_link').values(row).execute();
};

export const getShareLinkByHash = async (database: Database, hash: string): Promise<ShareLinkTable | undefined> =>
  database.db.selectFrom('share_link').selectAll().where('token_hash', '=', hash).executeTakeFirst();

export const getShareLink = async (database: Database, id: string): Promise<ShareLinkTable | undefined> =>
  database.db.selectFrom('share_link').selectAll().where('id', '=', id).executeTakeFirst();

export const listShareLinks = async (database: Database, itemKey: string): Promise<ShareLinkTable[]> =>
  database.db
    .selectFrom('share_link')
    .selectAll()
    .where('item_key', '=', itemKey)
    .orderBy('created_at', 'desc')
    .execute();

export const revokeShareLink = async (database: Database, id: string, at: string): Promise<boolean> => {
  const result = await database.db
    .updateTable('share_link')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
};

/** Keys of items a user follows (subscriptions to an item that are still active). */
export const followedItemKeys = async (database: Database, userId: string): Promise<string[]> =>
  (
    await database.db
      .selectFrom('subscription')
      .select('target')
      .distinct()
      .where('user_id', '=', userId)
      .where('target_kind', '=', 'item')
      .where('unsubscribed_at', 'is', null)
      .limit(1000)
      .execute()
  ).map((r) => r.target);
