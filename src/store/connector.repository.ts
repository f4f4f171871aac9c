import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type SqliteDatabase from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import type { DB } from './schema.js';

/** Queries for webhook deliveries, sync checkpoints, ETags and unmapped values. */

export type DeliveryStatus = 'pending' | 'mapped' | 'unknown' | 'failed';

export interface NewDelivery {
  provider: string;
  deliveryId: string;
  eventType: string;
  receivedAt: string;
  /** The raw body, byte for byte as its signature was verified (it may hold any byte, NUL included). */
  body: Buffer;
}

export interface StoredDelivery extends NewDelivery {
  id: string;
  status: DeliveryStatus;
}

const insertStatements = new WeakMap<SqliteDatabase.Database, SqliteDatabase.Statement>();

export const deliveryRowId = (provider: string, deliveryId: string): string => `${provider}:${deliveryId}`;

const CHUNK = 200;

/**
 * Bodies are stored as base64 text of their exact bytes, which both engines
 * accept whatever the bytes are (PostgreSQL's text refuses NUL and invalid
 * UTF-8). Webhook bodies are JSON of 5 to 30 KB; from 1 KB they are deflated at
 * level 1 first, which shrinks them about eightfold for ~10 µs per KB, costs
 * less than writing them to SQLite whole (overflow pages) and keeps the
 * delivery table small. Rows written before bodies were base64 are `identity`
 * (the JSON text itself) and are still read.
 */
const COMPRESS_FROM = 1024;
const encodeBody = (body: Buffer): { body: string; body_encoding: string } =>
  body.length < COMPRESS_FROM
    ? { body: body.toString('base64'), body_encoding: 'base64' }
    : { body: deflateRawSync(body, { level: 1, memLevel: 9 }).toString('base64'), body_encoding: 'deflate-raw+base64' };
const decodeBody = (body: string, encoding: string): Buffer => {
  if (encoding === 'deflate-raw+base64') return inflateRawSync(Buffer.from(body, 'base64'));
  if (encoding === 'base64') return Buffer.from(body, 'base64');
  return Buffer.from(body, 'utf8');
};

/** PostgreSQL's text cannot hold NUL: ids, types and errors that come from payloads are stored with U+FFFD instead. */
export const storableText = (text: string): string => (text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text);

/**
 * Runs `work` on SQLite's one connection with `synchronous=FULL` when the
 * commit must survive a power loss, and puts the connection's setting back
 * after. Holding Kysely's connection for the whole of it means no other
 * transaction runs (or commits) in between; better-sqlite3 applies the pragma
 * at once, and in WAL mode FULL syncs the log at this commit, which also makes
 * every earlier commit durable.
 */
const withSqliteDurability = async <T>(
  database: Database,
  durability: DeliveryDurability,
  work: (db: Kysely<DB>) => Promise<T>,
): Promise<T> =>
  database.db.connection().execute(async (db) => {
    const sqlite = database.sqlite!;
    if (durability !== 'full') return work(db);
    const was = sqlite.pragma('synchronous', { simple: true }) as number;
    if (was >= FULL) return work(db);
    sqlite.pragma('synchronous = FULL');
    try {
      return await work(db);
    } finally {
      sqlite.pragma(`synchronous = ${was}`);
    }
  });

/** SQLite's number for `synchronous=FULL` (EXTRA is 3). */
const FULL = 2;

const asynchronousCommits = new WeakMap<Database, Promise<boolean>>();

/**
 * Whether this PostgreSQL session commits without waiting for its WAL to be
 * flushed (`synchronous_commit = off`, set for the server, database or role):
 * then delivery transactions turn it on for themselves. Every other value
 * (`on`, the default; `local`, `remote_write`, `remote_apply`) waits for the
 * local flush at least. Asked once per database handle: its connections share
 * their defaults.
 */
const commitsAsynchronously = (database: Database): Promise<boolean> => {
  let known = asynchronousCommits.get(database);
  if (!known) {
    known = sql<{ value: string }>`SELECT current_setting('synchronous_commit') AS value`
      .execute(database.db)
      .then((r) => r.rows[0]?.value === 'off');
    // A failure (the database away) is asked again next time.
    known.catch(() => asynchronousCommits.delete(database));
    asynchronousCommits.set(database, known);
  }
  return known;
};

/**
 * How a delivery commit reaches the disk. `full`: the commit survives a power
 * loss or an operating-system crash (SQLite `synchronous=FULL` for that
 * commit, PostgreSQL `synchronous_commit=on` for that transaction). `process`:
 * it survives the process dying, not the machine (the connection's own
 * setting, `synchronous=NORMAL` on SQLite); only for measuring what `full` costs.
 */
export type DeliveryDurability = 'full' | 'process';

/**
 * Stores deliveries that were not seen before, in one transaction, and returns
 * the ids that are new. A delivery id seen twice is stored once. The commit is
 * `full`y durable unless told otherwise: it is what a webhook's 202 promises.
 */
export const insertDeliveries = async (
  database: Database,
  deliveries: readonly NewDelivery[],
  durability: DeliveryDurability = 'full',
): Promise<Set<string>> => {
  const fresh = new Set<string>();
  if (deliveries.length === 0) return fresh;
  const sqlite = database.sqlite;
  if (sqlite) {
    // SQLite: one prepared statement per row inside Kysely's transaction (which holds the only connection);
    // building a multi-row INSERT with Kysely cost more than running it.
    let insert = insertStatements.get(sqlite);
    if (!insert) {
      insert = sqlite.prepare(
        `INSERT INTO webhook_delivery (id, provider, delivery_id, event_type, received_at, body, body_encoding, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (provider, delivery_id) DO NOTHING`,
      );
      insertStatements.set(sqlite, insert);
    }
    const statement = insert;
    await withSqliteDurability(database, durability, async (db) =>
      db.transaction().execute(async () => {
        for (const d of deliveries) {
          const id = deliveryRowId(d.provider, d.deliveryId);
          const { body, body_encoding } = encodeBody(d.body);
          const result = statement.run(
            id,
            d.provider,
            d.deliveryId,
            storableText(d.eventType),
            d.receivedAt,
            body,
            body_encoding,
          );
          if (result.changes === 1) fresh.add(id);
        }
      }),
    );
    return fresh;
  }
  const forceSync = durability === 'full' && (await commitsAsynchronously(database));
  await database.db.transaction().execute(async (trx) => {
    if (forceSync) await sql`SET LOCAL synchronous_commit TO on`.execute(trx);
    for (let i = 0; i < deliveries.length; i += CHUNK) {
      const rows = deliveries.slice(i, i + CHUNK).map((d) => ({
        id: deliveryRowId(d.provider, d.deliveryId),
        provider: d.provider,
        delivery_id: d.deliveryId,
        event_type: storableText(d.eventType),
        received_at: d.receivedAt,
        ...encodeBody(d.body),
        status: 'pending',
      }));
      const inserted = await trx
        .insertInto('webhook_delivery')
        .values(rows)
        .onConflict((oc) => oc.columns(['provider', 'delivery_id']).doNothing())
        .returning('id')
        .execute();
      for (const r of inserted) fresh.add(r.id);
    }
  });
  return fresh;
};

const STORED = [
  'id',
  'provider',
  'delivery_id',
  'event_type',
  'received_at',
  'body',
  'body_encoding',
  'status',
] as const;

const toStored = (r: {
  id: string;
  provider: string;
  delivery_id: string;
  event_type: string;
  received_at: string;
  body: string;
  body_encoding: string;
  status: string;
}): StoredDelivery => ({
  id: r.id,
  provider: r.provider,
  deliveryId: r.delivery_id,
  eventType: r.event_type,
  receivedAt: r.received_at,
  body: decodeBody(r.body, r.body_encoding),
  status: r.status as DeliveryStatus,
});

/** The oldest deliveries still waiting to be mapped. */
export const listPendingDeliveries = async (database: Database, limit: number): Promise<StoredDelivery[]> => {
  const rows = await database.db
    .selectFrom('webhook_delivery')
    .select([...STORED])
    .where('status', '=', 'pending')
    .orderBy('received_at')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toStored);
};

/** How many deliveries wait to be mapped, claimed or not. */
export const countPendingDeliveries = async (database: Database): Promise<number> => {
  const row = await database.db
    .selectFrom('webhook_delivery')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.n);
};

/** A lease on pending deliveries: until `until`, no other intake maps them. */
export interface DeliveryClaim {
  now: string;
  until: string;
  /** Who holds it (an intake's own id). */
  by: string;
}

/**
 * Claims up to `limit` of the oldest pending deliveries nobody else holds —
 * unclaimed, their lease run out, or held by `claim.by` itself (a batch of its
 * own that failed) — and returns them oldest first. On PostgreSQL the claim
 * skips rows another instance is claiming at that moment (`FOR UPDATE SKIP
 * LOCKED`), so instances take different deliveries without waiting on each
 * other; SQLite has one writer, so the statement is atomic as it is.
 */
export const claimPendingDeliveries = async (
  database: Database,
  limit: number,
  claim: DeliveryClaim,
): Promise<StoredDelivery[]> => {
  const rows = await database.db
    .updateTable('webhook_delivery')
    .set({ claimed_until: claim.until, claimed_by: claim.by })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('webhook_delivery')
        .select('id')
        .where('status', '=', 'pending')
        .where((w) =>
          w.or([w('claimed_until', 'is', null), w('claimed_until', '<=', claim.now), w('claimed_by', '=', claim.by)]),
        )
        .orderBy('received_at')
        .orderBy('id')
        .limit(limit)
        .$if(database.engine === 'postgres', (qb) => qb.forUpdate().skipLocked()),
    )
    .returning([...STORED])
    .execute();
  return rows
    .sort((a, b) => (a.received_at === b.received_at ? (a.id < b.id ? -1 : 1) : a.received_at < b.received_at ? -1 : 1))
    .map(toStored);
};

/** Gives back what `by` claimed and did not map (a failed batch), so that any instance may take it at once. */
export const releaseDeliveryClaims = async (database: Database, ids: readonly string[], by: string): Promise<void> => {
  for (let i = 0; i < ids.length; i += CHUNK) {
    await database.db
      .updateTable('webhook_delivery')
      .set({ claimed_until: null, claimed_by: null })
      .where('id', 'in', ids.slice(i, i + CHUNK))
      .where('claimed_by', '=', by)
      .where('status', '=', 'pending')
      .execute();
  }
};

export interface DeliveryOutcome {
  id: string;
  status: Exclude<DeliveryStatus, 'pending'>;
  eventCount: number;
  error: string | null;
  /** The type completed from the body when the headers alone did not give it (GitHub's action). */
  eventType?: string | undefined;
}

/** Marks mapped deliveries; outcomes that are alike are written with one statement. */
export const markDeliveries = async (
  database: Database,
  outcomes: readonly DeliveryOutcome[],
  processedAt: string,
): Promise<void> => {
  if (outcomes.length === 0) return;
  const groups = new Map<string, { outcome: DeliveryOutcome; ids: string[] }>();
  for (const o of outcomes) {
    const key = JSON.stringify([o.status, o.eventCount, o.error, o.eventType ?? null]);
    const group = groups.get(key);
    if (group) group.ids.push(o.id);
    else groups.set(key, { outcome: o, ids: [o.id] });
  }
  await database.db.transaction().execute(async (trx) => {
    for (const { outcome: o, ids } of groups.values()) {
      for (let i = 0; i < ids.length; i += CHUNK) {
        await trx
          .updateTable('webhook_delivery')
          .set({
            status: o.status,
            event_count: o.eventCount,
            error: o.error === null ? null : storableText(o.error),
            processed_at: processedAt,
            claimed_until: null,
            claimed_by: null,
            ...(o.eventType ? { event_type: storableText(o.eventType) } : {}),
          })
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute();
      }
    }
  });
};

export interface DeliveryCount {
  provider: string;
  status: DeliveryStatus;
  eventType: string | null;
  count: number;
  lastReceivedAt: string;
}

/** Deliveries per provider and status; unknown event types are listed by type. */
export const countDeliveries = async (database: Database): Promise<DeliveryCount[]> => {
  const rows = await database.db
    .selectFrom('webhook_delivery')
    .select([
      'provider',
      'status',
      sql<string | null>`CASE WHEN status = 'unknown' THEN event_type ELSE NULL END`.as('event_type'),
      sql<number>`count(*)`.as('count'),
      sql<string>`max(received_at)`.as('last_received_at'),
    ])
    .groupBy(['provider', 'status', sql`CASE WHEN status = 'unknown' THEN event_type ELSE NULL END`])
    .orderBy('provider')
    .execute();
  return rows.map((r) => ({
    provider: r.provider,
    status: r.status as DeliveryStatus,
    eventType: r.event_type,
    count: Number(r.count),
    lastReceivedAt: r.last_received_at,
  }));
};

/** The latest failures, newest first. */
export const listDeliveryErrors = async (
  database: Database,
  limit: number,
): Promise<{ provider: string; deliveryId: string; eventType: string; error: string; at: string }[]> => {
  const rows = await database.db
    .selectFrom('webhook_delivery')
    .select(['provider', 'delivery_id', 'event_type', 'error', 'received_at'])
    .where('status', '=', 'failed')
    .orderBy('received_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    provider: r.provider,
    deliveryId: r.delivery_id,
    eventType: r.event_type,
    error: r.error ?? '',
    at: r.received_at,
  }));
};

// ---------------------------------------------------------------- checkpoints

export interface Checkpoint {
  source: string;
  scope: string;
  stream: string;
  cursor: string | null;
  since: string | null;
  runStartedAt: string;
  updatedAt: string;
  completedAt: string | null;
  lastSuccessStartedAt: string | null;
  units: number;
  eventCount: number;
  lastError: string | null;
}

const toCheckpoint = (r: {
  source: string;
  scope: string;
  stream: string;
  cursor: string | null;
  since: string | null;
  run_started_at: string;
  updated_at: string;
  completed_at: string | null;
  last_success_started_at: string | null;
  units: number;
  event_count: number;
  last_error: string | null;
}): Checkpoint => ({
  source: r.source,
  scope: r.scope,
  stream: r.stream,
  cursor: r.cursor,
  since: r.since,
  runStartedAt: r.run_started_at,
  updatedAt: r.updated_at,
  completedAt: r.completed_at,
  lastSuccessStartedAt: r.last_success_started_at,
  units: Number(r.units),
  eventCount: Number(r.event_count),
  lastError: r.last_error,
});

export const getCheckpoint = async (
  database: Database,
  source: string,
  scope: string,
  stream: string,
): Promise<Checkpoint | undefined> => {
  const row = await database.db
    .selectFrom('sync_checkpoint')
    .selectAll()
    .where('source', '=', source)
    .where('scope', '=', scope)
    .where('stream', '=', stream)
    .executeTakeFirst();
  return row ? toCheckpoint(row) : undefined;
};

export const listCheckpoints = async (database: Database): Promise<Checkpoint[]> => {
  const rows = await database.db
    .selectFrom('sync_checkpoint')
    .selectAll()
    .orderBy('source')
    .orderBy('scope')
    .orderBy('stream')
    .execute();
  return rows.map(toCheckpoint);
};

export const saveCheckpoint = async (database: Database, c: Checkpoint): Promise<void> => {
  const row = {
    source: c.source,
    scope: c.scope,
    stream: c.stream,
    cursor: c.cursor,
    since: c.since,
    run_started_at: c.runStartedAt,
    updated_at: c.updatedAt,
    completed_at: c.completedAt,
    last_success_started_at: c.lastSuccessStartedAt,
    units: c.units,
    event_count: c.eventCount,
    last_error: c.lastError,
  };
  await database.db
    .insertInto('sync_checkpoint')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['source', 'scope', 'stream']).doUpdateSet({
        cursor: row.cursor,
        since: row.since,
        run_started_at: row.run_started_at,
        updated_at: row.updated_at,
        completed_at: row.completed_at,
        last_success_started_at: row.last_success_started_at,
        units: row.units,
        event_count: row.event_count,
        last_error: row.last_error,
      }),
    )
    .execute();
};

// ---------------------------------------------------------------- ETags

export const getEtags = async (database: Database, prefix: string): Promise<Map<string, string>> => {
  const rows = await database.db
    .selectFrom('http_etag')
    .select(['url', 'etag'])
    .where('url', '>=', prefix)
    .where('url', '<', `${prefix}\uffff`)
    .execute();
  return new Map(rows.map((r) => [r.url, r.etag]));
};

export const saveEtags = async (
  database: Database,
  etags: Readonly<Record<string, string>>,
  at: string,
): Promise<void> => {
  const rows = Object.entries(etags).map(([url, etag]) => ({ url, etag, updated_at: at }));
  for (let i = 0; i < rows.length; i += CHUNK) {
    await database.db
      .insertInto('http_etag')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) =>
        oc
          .column('url')
          .doUpdateSet((eb) => ({ etag: eb.ref('excluded.etag'), updated_at: eb.ref('excluded.updated_at') })),
      )
      .execute();
  }
};

// ---------------------------------------------------------------- unmapped values

export interface UnmappedCount {
  source: string;
  category: string;
  value: string;
  count: number;
  firstSeenAt: string;
  lastSeenAt: string;
}

export const bumpUnmapped = async (
  database: Database,
  entries: readonly { source: string; category: string; value: string; count: number }[],
  at: string,
): Promise<void> => {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({
    source: e.source,
    category: e.category,
    value: e.value.slice(0, 500),
    seen_count: e.count,
    first_seen_at: at,
    last_seen_at: at,
  }));
  for (let i = 0; i < rows.length; i += CHUNK) {
    await database.db
      .insertInto('unmapped_value')
      .values(rows.slice(i, i + CHUNK))
      .onConflict((oc) =>
        oc.columns(['source', 'category', 'value']).doUpdateSet((eb) => ({
          seen_count: sql`unmapped_value.seen_count + ${eb.ref('excluded.seen_count')}`,
          last_seen_at: eb.ref('excluded.last_seen_at'),
        })),
      )
      .execute();
  }
};

export const listUnmapped = async (database: Database): Promise<UnmappedCount[]> => {
  const rows = await database.db
    .selectFrom('unmapped_value')
    .selectAll()
    .orderBy('source')
    .orderBy('seen_count', 'desc')
    .orderBy('category')
    .orderBy('value')
    .execute();
  return rows.map((r) => ({
    source: r.source,
    category: r.category,
    value: r.value,
    count: Number(r.seen_count),
    firstSeenAt: r.first_seen_at,
    lastSeenAt: r.last_seen_at,
  }));
};
