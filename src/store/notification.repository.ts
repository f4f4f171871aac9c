import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Database } from './database.js';
import { chunks, type Tx } from './event.repository.js';
import type { DB, NotificationDeliveryTable, SubscriptionTable } from './schema.js';

/**
 * Queries for follows (`subscription`) and their deliveries
 * (`notification_delivery`). The locking ones differ per engine behind one
 * function each: on PostgreSQL claims use `FOR UPDATE SKIP LOCKED`, so several
 * instances share the work without waiting on each other; SQLite has a single
 * writer, so the same statements are atomic there as they are.
 */

export type SubscriptionRow = SubscriptionTable;
export type DeliveryRow = Omit<NotificationDeliveryTable, 'attempts'> & { attempts: number };

// ---------------------------------------------------------------------------
// Subscriptions

export const insertSubscription = async (database: Database, row: SubscriptionRow): Promise<void> => {
  await database.db.insertInto('subscription').values(row).execute();
};

export const getSubscription = async (database: Database, id: string): Promise<SubscriptionRow | undefined> =>
  database.db.selectFrom('subscription').selectAll().where('id', '=', id).executeTakeFirst();

/** The user's active subscription with the same target, channel and address, if any. */
export const findActiveSubscription = async (
  database: Database,
  match: Pick<SubscriptionRow, 'user_id' | 'target_kind' | 'target' | 'channel' | 'address' | 'search' | 'cadence'>,
): Promise<SubscriptionRow | undefined> =>
  database.db
    .selectFrom('subscription')
    .selectAll()
    .where('user_id', '=', match.user_id)
    .where('target_kind', '=', match.target_kind)
    .where('target', '=', match.target)
    .where('channel', '=', match.channel)
    .where('cadence', '=', match.cadence)
    .where((eb) => (match.address === null ? eb('address', 'is', null) : eb('address', '=', match.address)))
    .where((eb) => (match.search === null ? eb('search', 'is', null) : eb('search', '=', match.search)))
    .where('unsubscribed_at', 'is', null)
    .executeTakeFirst();

export const listUserSubscriptions = async (database: Database, userId: string): Promise<SubscriptionRow[]> =>
  database.db
    .selectFrom('subscription')
    .selectAll()
    .where('user_id', '=', userId)
    .where('unsubscribed_at', 'is', null)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();

export const findSubscriptionByFeedHash = async (
  database: Database,
  hash: string,
): Promise<SubscriptionRow | undefined> =>
  database.db
    .selectFrom('subscription')
    .selectAll()
    .where('feed_token_hash', '=', hash)
    .where('unsubscribed_at', 'is', null)
    .executeTakeFirst();

/**
 * Ends a subscription (once) and skips what it had not sent yet. Returns false
 * when it was already ended.
 */
export const endSubscription = async (database: Database, id: string, at: string): Promise<boolean> =>
  database.db.transaction().execute(async (trx) => {
    const ended = await trx
      .updateTable('subscription')
      .set({ unsubscribed_at: at })
      .where('id', '=', id)
      .where('unsubscribed_at', 'is', null)
      .executeTakeFirst();
    if (Number(ended.numUpdatedRows) === 0) return false;
    await trx
      .updateTable('notification_delivery')
      .set({ status: 'skipped', last_error: 'unsubscribed', next_attempt_at: null })
      .where('subscription_id', '=', id)
      .where('status', 'in', ['pending', 'failed'])
      .execute();
    return true;
  });

/** A value kept in `meta`: the stored one, or `value` when none was stored yet (first writer wins). */
export const metaValueOrInsert = async (database: Database, key: string, value: string): Promise<string> => {
  await database.db
    .insertInto('meta')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return (await database.db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirstOrThrow()).value;
};

// ---------------------------------------------------------------------------
// Fan-out

export interface StageChangeRow {
  id: string;
  item_key: string;
  from_stage: string | null;
  to_stage: string;
  occurred_at: string;
  evidence: string;
  recorded_at: string;
}

/**
 * Stage changes no fan-out has handled yet, oldest recorded first, locked for
 * this transaction (PostgreSQL: rows another instance holds are skipped).
 */
export const claimStageChangesToFanOut = async (tx: Tx, limit: number): Promise<StageChangeRow[]> =>
  tx.trx
    .selectFrom('item_stage_change')
    .select(['id', 'item_key', 'from_stage', 'to_stage', 'occurred_at', 'evidence', 'recorded_at'])
    .where('fanned_out_at', 'is', null)
    .orderBy('recorded_at')
    .orderBy('id')
    .limit(limit)
    .$if(tx.engine === 'postgres', (qb) => qb.forUpdate().skipLocked())
    .execute();

export const markFannedOut = async (tx: Tx, ids: readonly string[], at: string): Promise<void> => {
  for (const part of chunks(ids)) {
    await tx.trx.updateTable('item_stage_change').set({ fanned_out_at: at }).where('id', 'in', part).execute();
  }
};

export interface PortalItemRow {
  key: string;
  kind: string;
  title: string;
  team: string | null;
  component: string | null;
  customer: string | null;
  reporter: string | null;
  stage: string;
  url: string | null;
  visible: number;
  updated_at: string;
}

export const portalItemsByKey = async (
  db: Tx['trx'] | Database['db'],
  keys: readonly string[],
): Promise<Map<string, PortalItemRow>> => {
  const out = new Map<string, PortalItemRow>();
  for (const part of chunks([...new Set(keys)])) {
    const rows = await db.selectFrom('portal_item').selectAll().where('key', 'in', part).execute();
    for (const r of rows) out.set(r.key, r);
  }
  return out;
};

export interface FanOutSubscription {
  id: string;
  target_kind: string;
  search: string | null;
  cadence: string;
}

/** Subscriptions to someone else's address count only once that address confirmed (issue 13). */
const confirmedOrNotNeeded = (eb: ExpressionBuilder<DB, 'subscription'>) =>
  eb.or([eb('consent', 'is', null), eb('consent', '=', 'confirmed')]);

/** Active, pushed (not feed), confirmed subscriptions to this item, its component or its team. */
export const subscriptionsForItem = async (
  tx: Tx,
  item: { key: string; team: string | null; component: string | null },
): Promise<FanOutSubscription[]> =>
  tx.trx
    .selectFrom('subscription')
    .select(['id', 'target_kind', 'search', 'cadence'])
    .where('unsubscribed_at', 'is', null)
    .where('channel', '!=', 'feed')
    .where(confirmedOrNotNeeded)
    .where((eb) => {
      const targets: Expression<SqlBool>[] = [eb.and([eb('target_kind', '=', 'item'), eb('target', '=', item.key)])];
      if (item.team !== null) targets.push(eb.and([eb('target_kind', '=', 'team'), eb('target', '=', item.team)]));
      if (item.component !== null)
        targets.push(eb.and([eb('target_kind', '=', 'component'), eb('target', '=', item.component)]));
      return eb.or(targets);
    })
    .execute();

/** Every active, pushed, confirmed saved-search subscription (matched in the service). */
export const activeSearchSubscriptions = async (tx: Tx): Promise<FanOutSubscription[]> =>
  tx.trx
    .selectFrom('subscription')
    .select(['id', 'target_kind', 'search', 'cadence'])
    .where('unsubscribed_at', 'is', null)
    .where('channel', '!=', 'feed')
    .where(confirmedOrNotNeeded)
    .where('target_kind', '=', 'search')
    .execute();

export type NewDelivery = Pick<
  NotificationDeliveryTable,
  'id' | 'subscription_id' | 'stage_change_id' | 'next_attempt_at' | 'digest_at' | 'created_at'
>;

/** Inserts deliveries; a (subscription, stage change) pair that exists already is left as it is. Returns how many were new. */
export const insertDeliveries = async (tx: Tx, rows: readonly NewDelivery[]): Promise<number> => {
  let inserted = 0;
  for (const part of chunks(rows, 1000)) {
    const result = await tx.trx
      .insertInto('notification_delivery')
      .values(part.map((r) => ({ ...r, status: 'pending', attempts: 0 })))
      .onConflict((oc) => oc.columns(['subscription_id', 'stage_change_id']).doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return inserted;
};

// ---------------------------------------------------------------------------
// Dispatch

const due = (eb: ExpressionBuilder<DB, 'notification_delivery'>, now: string) =>
  eb.or([
    eb.and([eb('status', 'in', ['pending', 'failed']), eb('next_attempt_at', '<=', now)]),
    eb.and([eb('status', '=', 'sending'), eb('claimed_until', '<=', now)]),
  ]);

export interface Claim {
  now: string;
  /** The lease: until then no other instance takes these deliveries. */
  until: string;
  /** Who holds the lease; results are written only by the holder. */
  by: string;
}

const CLAIMED = ['id', 'subscription_id', 'stage_change_id', 'attempts', 'digest_at'] as const;
export type ClaimedDelivery = Pick<DeliveryRow, (typeof CLAIMED)[number]>;

/**
 * Claims up to `limit` due deliveries that are sent on their own (not waiting
 * for a digest): pending or failed ones whose time has come, and ones whose
 * sender's lease ran out (a crashed or stopped instance). Counts the attempt.
 */
export const claimDueDeliveries = async (database: Database, claim: Claim, limit: number): Promise<ClaimedDelivery[]> =>
  database.db
    .updateTable('notification_delivery')
    .set((eb) => ({
      status: 'sending',
      claimed_until: claim.until,
      claimed_by: claim.by,
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('notification_delivery')
        .select('id')
        .where('digest_at', 'is', null)
        .where((w) => due(w, claim.now))
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit)
        .$if(database.engine === 'postgres', (qb) => qb.forUpdate().skipLocked()),
    )
    .returning([...CLAIMED])
    .execute();

/** Subscriptions with digest deliveries due now. */
export const subscriptionsWithDueDigests = async (database: Database, now: string, limit: number): Promise<string[]> =>
  (
    await database.db
      .selectFrom('notification_delivery')
      .select('subscription_id')
      .distinct()
      .where('digest_at', 'is not', null)
      .where((eb) => due(eb, now))
      .limit(limit)
      .execute()
  ).map((r) => r.subscription_id);

/** Claims every due digest delivery of one subscription at once, so its digest goes out as one message. */
export const claimDigest = async (
  database: Database,
  subscriptionId: string,
  claim: Claim,
): Promise<ClaimedDelivery[]> =>
  database.db
    .updateTable('notification_delivery')
    .set((eb) => ({
      status: 'sending',
      claimed_until: claim.until,
      claimed_by: claim.by,
      attempts: eb('attempts', '+', 1),
    }))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('notification_delivery')
        .select('id')
        .where('subscription_id', '=', subscriptionId)
        .where('digest_at', 'is not', null)
        .where((w) => due(w, claim.now))
        .$if(database.engine === 'postgres', (qb) => qb.forUpdate().skipLocked()),
    )
    .returning([...CLAIMED])
    .execute();

/** What sending needs of a claimed delivery: its subscription, stage change and item. */
export interface DeliveryContext {
  id: string;
  subscription: SubscriptionRow;
  change: StageChangeRow;
  item: PortalItemRow | undefined;
}

export const loadDeliveryContexts = async (
  database: Database,
  claimed: readonly ClaimedDelivery[],
): Promise<DeliveryContext[]> => {
  const subscriptions = new Map<string, SubscriptionRow>();
  const changes = new Map<string, StageChangeRow>();
  for (const part of chunks([...new Set(claimed.map((c) => c.subscription_id))])) {
    for (const s of await database.db.selectFrom('subscription').selectAll().where('id', 'in', part).execute())
      subscriptions.set(s.id, s);
  }
  for (const part of chunks([...new Set(claimed.map((c) => c.stage_change_id))])) {
    const rows = await database.db
      .selectFrom('item_stage_change')
      .select(['id', 'item_key', 'from_stage', 'to_stage', 'occurred_at', 'evidence', 'recorded_at'])
      .where('id', 'in', part)
      .execute();
    for (const c of rows) changes.set(c.id, c);
  }
  const items = await portalItemsByKey(
    database.db,
    [...changes.values()].map((c) => c.item_key),
  );
  const out: DeliveryContext[] = [];
  for (const c of claimed) {
    const subscription = subscriptions.get(c.subscription_id);
    const change = changes.get(c.stage_change_id);
    if (!subscription || !change) continue;
    out.push({ id: c.id, subscription, change, item: items.get(change.item_key) });
  }
  return out;
};

/** The deliveries' outcome, written only while this claimant still holds them. Returns how many it wrote. */
export const finishDeliveries = async (
  database: Database,
  ids: readonly string[],
  by: string,
  outcome:
    | { status: 'sent'; at: string }
    | { status: 'failed'; nextAttemptAt: string; error: string }
    | { status: 'dead' | 'skipped'; error: string },
): Promise<number> => {
  let written = 0;
  const set =
    outcome.status === 'sent'
      ? { status: 'sent', sent_at: outcome.at, last_error: null, next_attempt_at: null }
      : outcome.status === 'failed'
        ? { status: 'failed', next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error.slice(0, 1000) }
        : { status: outcome.status, next_attempt_at: null, last_error: outcome.error.slice(0, 1000) };
  for (const part of chunks(ids)) {
    const result = await database.db
      .updateTable('notification_delivery')
      .set({ ...set, claimed_until: null, claimed_by: null })
      .where('id', 'in', part)
      .where('status', '=', 'sending')
      .where('claimed_by', '=', by)
      .executeTakeFirst();
    written += Number(result.numUpdatedRows);
  }
  return written;
};

// ---------------------------------------------------------------------------
// Delivery log, dead letters

export interface DeliveryLogRow {
  id: string;
  subscription_id: string;
  item_key: string;
  to_stage: string;
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  sent_at: string | null;
  created_at: string;
}

const logQuery = (database: Database) =>
  database.db
    .selectFrom('notification_delivery as d')
    .innerJoin('item_stage_change as c', 'c.id', 'd.stage_change_id')
    .select([
      'd.id',
      'd.subscription_id',
      'c.item_key',
      'c.to_stage',
      'd.status',
      'd.attempts',
      'd.next_attempt_at',
      'd.last_error',
      'd.sent_at',
      'd.created_at',
    ]);

/** A subscription's deliveries, newest first; with `visibleOnly`, only of items stakeholders may still see. */
export const listDeliveries = async (
  database: Database,
  subscriptionId: string,
  options: { visibleOnly: boolean; limit: number },
): Promise<DeliveryLogRow[]> =>
  logQuery(database)
    .where('d.subscription_id', '=', subscriptionId)
    .$if(options.visibleOnly, (qb) =>
      qb.where((eb) =>
        eb.exists(
          eb
            .selectFrom('portal_item as p')
            .select(sql.lit(1).as('one'))
            .whereRef('p.key', '=', 'c.item_key')
            .where('p.visible', '=', 1),
        ),
      ),
    )
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .limit(options.limit)
    .execute();

export const listDeadDeliveries = async (database: Database, limit: number): Promise<DeliveryLogRow[]> =>
  logQuery(database)
    .where('d.status', '=', 'dead')
    .orderBy('d.created_at', 'desc')
    .orderBy('d.id', 'desc')
    .limit(limit)
    .execute();

export const getDeliveryLog = async (database: Database, id: string): Promise<DeliveryLogRow | undefined> =>
  logQuery(database).where('d.id', '=', id).executeTakeFirst();

/** Puts a dead delivery back in line with a fresh count of attempts. False when it is not dead. */
export const reviveDelivery = async (database: Database, id: string, now: string): Promise<boolean> =>
  Number(
    (
      await database.db
        .updateTable('notification_delivery')
        .set({ status: 'pending', attempts: 0, next_attempt_at: now, claimed_until: null, claimed_by: null })
        .where('id', '=', id)
        .where('status', '=', 'dead')
        .executeTakeFirst()
    ).numUpdatedRows,
  ) > 0;

// ---------------------------------------------------------------------------
// Feeds

export interface FeedChangeRow extends StageChangeRow {
  title: string;
  team: string | null;
  component: string | null;
  customer: string | null;
  reporter: string | null;
  kind: string;
  stage: string;
  url: string | null;
  updated_at: string;
}

/**
 * Recent stage changes of visible items, newest first, narrowed in SQL by an
 * item key, team or component when the feed has one (saved searches are
 * matched in the service).
 */
export const recentVisibleChanges = async (
  database: Database,
  filter: { itemKey?: string | undefined; team?: string | undefined; component?: string | undefined },
  limit: number,
): Promise<FeedChangeRow[]> =>
  database.db
    .selectFrom('item_stage_change as c')
    .innerJoin('portal_item as p', 'p.key', 'c.item_key')
    .select([
      'c.id',
      'c.item_key',
      'c.from_stage',
      'c.to_stage',
      'c.occurred_at',
      'c.evidence',
      'c.recorded_at',
      'p.title',
      'p.team',
      'p.component',
      'p.customer',
      'p.reporter',
      'p.kind',
      'p.stage',
      'p.url',
      'p.updated_at',
    ])
    .where('p.visible', '=', 1)
    .$if(filter.itemKey !== undefined, (qb) => qb.where('c.item_key', '=', filter.itemKey!))
    .$if(filter.team !== undefined, (qb) => qb.where('p.team', '=', filter.team!))
    .$if(filter.component !== undefined, (qb) => qb.where('p.component', '=', filter.component!))
    .orderBy('c.occurred_at', 'desc')
    .orderBy('c.id', 'desc')
    .limit(limit)
    .execute();
