import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type { Database } from './database.js';
import { chunks, withTransaction, type Tx } from './event.repository.js';
import type { DB, SubscriptionConsentTable, SubscriptionTable } from './schema.js';

/**
 * Queries for confirmation requests to someone else's address
 * (`subscription_consent`) and the per-user and per-address limits on new
 * subscriptions. The request is also its own outbox, claimed with a lease as
 * the other outboxes are (on PostgreSQL `FOR UPDATE SKIP LOCKED`).
 */

export type ConsentRow = Selectable<SubscriptionConsentTable>;
export type NewConsent = Omit<ConsentRow, 'attempts'>;

/** Oldest time in a window and how many rows fell in it. */
export interface WindowCount {
  count: number;
  oldest: string | null;
}

/**
 * Serialises limit checks on the same user or address across instances on
 * PostgreSQL (advisory transaction locks, in a fixed order); SQLite has one
 * writer already.
 */
export const lockLimitNames = async (tx: Tx, names: readonly string[]): Promise<void> => {
  if (tx.engine !== 'postgres' || names.length === 0) return;
  const sorted = [...new Set(names)].sort();
  await sql`SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT hashtextextended(k, 0) AS h FROM unnest(${sorted}::text[]) AS k ORDER BY 1) AS locks`.execute(
    tx.trx,
  );
};

const windowOf = (row: { count: unknown; oldest: string | null } | undefined): WindowCount => ({
  count: Number(row?.count ?? 0),
  oldest: row?.oldest ?? null,
});

/** Subscriptions the user started since `since` (ended ones too: ending one does not give a new one back). */
export const newSubscriptionsSince = async (tx: Tx, userId: string, since: string): Promise<WindowCount> =>
  windowOf(
    await tx.trx
      .selectFrom('subscription')
      .select((eb) => [eb.fn.countAll().as('count'), eb.fn.min('created_at').as('oldest')])
      .where('user_id', '=', userId)
      .where('created_at', '>', since)
      .executeTakeFirst(),
  );

/** The user's subscriptions not ended (pending ones included). */
export const activeSubscriptionCount = async (tx: Tx, userId: string): Promise<number> =>
  Number(
    (
      await tx.trx
        .selectFrom('subscription')
        .select((eb) => eb.fn.countAll().as('count'))
        .where('user_id', '=', userId)
        .where('unsubscribed_at', 'is', null)
        .executeTakeFirst()
    )?.count ?? 0,
  );

/** Requests made to the address since `since` (sent or not). */
export const requestsToAddressSince = async (tx: Tx, address: string, since: string): Promise<WindowCount> =>
  windowOf(
    await tx.trx
      .selectFrom('subscription_consent')
      .select((eb) => [eb.fn.countAll().as('count'), eb.fn.min('created_at').as('oldest')])
      .where('address', '=', address)
      .where('created_at', '>', since)
      .executeTakeFirst(),
  );

/** When the address last declined, if it did since `since`. */
export const lastDeclineSince = async (tx: Tx, address: string, since: string): Promise<string | null> =>
  (
    await tx.trx
      .selectFrom('subscription_consent')
      .select((eb) => eb.fn.max('answered_at').as('at'))
      .where('address', '=', address)
      .where('answer', '=', 'declined')
      .where('answered_at', '>', since)
      .executeTakeFirst()
  )?.at ?? null;

export const insertSubscriptionWithConsent = async (
  tx: Tx,
  subscription: SubscriptionTable,
  consent: NewConsent | null,
): Promise<void> => {
  await tx.trx.insertInto('subscription').values(subscription).execute();
  if (consent) await tx.trx.insertInto('subscription_consent').values(consent).execute();
};

/** A request with the subscription it asks about. */
export interface ConsentWithSubscription {
  consent: ConsentRow;
  subscription: SubscriptionTable;
}

export const findConsentByTokenHash = async (
  database: Database,
  hash: string,
): Promise<ConsentWithSubscription | undefined> => {
  const consent = await database.db
    .selectFrom('subscription_consent')
    .selectAll()
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  if (!consent) return undefined;
  const subscription = await database.db
    .selectFrom('subscription')
    .selectAll()
    .where('id', '=', consent.subscription_id)
    .executeTakeFirst();
  return subscription ? { consent, subscription } : undefined;
};

/** Marks an unanswered request confirmed and its pending subscription active. False when it was answered meanwhile. */
export const confirmConsent = async (database: Database, consent: ConsentRow, at: string): Promise<boolean> =>
  withTransaction(database, async (tx) => {
    const answered = await tx.trx
      .updateTable('subscription_consent')
      .set({ answer: 'confirmed', answered_at: at })
      .where('id', '=', consent.id)
      .where('answer', 'is', null)
      .executeTakeFirst();
    if (Number(answered.numUpdatedRows) === 0) return false;
    await tx.trx
      .updateTable('subscription')
      .set({ consent: 'confirmed' })
      .where('id', '=', consent.subscription_id)
      .where('consent', '=', 'pending')
      .where('unsubscribed_at', 'is', null)
      .execute();
    return true;
  });

/** Ends subscriptions (recording why) and skips what they had not sent. */
const endWithConsent = async (tx: Tx, ids: readonly string[], consent: string, at: string): Promise<void> => {
  for (const part of chunks(ids)) {
    await tx.trx
      .updateTable('subscription')
      .set({ consent, unsubscribed_at: at })
      .where('id', 'in', part)
      .where('unsubscribed_at', 'is', null)
      .execute();
    await tx.trx
      .updateTable('notification_delivery')
      .set({ status: 'skipped', last_error: `the address ${consent}`, next_attempt_at: null })
      .where('subscription_id', 'in', part)
      .where('status', 'in', ['pending', 'failed'])
      .execute();
  }
};

/**
 * The address says no: this request and every other unanswered one to the
 * address are declined and their subscriptions ended; this request's
 * subscription ends even when it had been confirmed.
 */
export const declineConsent = async (database: Database, consent: ConsentRow, at: string): Promise<void> =>
  withTransaction(database, async (tx) => {
    const others = await tx.trx
      .selectFrom('subscription_consent')
      .select(['id', 'subscription_id'])
      .where('address', '=', consent.address)
      .where('answer', 'is', null)
      .execute();
    const ids = [...new Set([consent.id, ...others.map((o) => o.id)])];
    for (const part of chunks(ids)) {
      await tx.trx
        .updateTable('subscription_consent')
        .set({ answer: 'declined', answered_at: at, claimed_by: null })
        .where('id', 'in', part)
        .execute();
    }
    await endWithConsent(tx, [consent.subscription_id, ...others.map((o) => o.subscription_id)], 'declined', at);
  });

/** Unanswered requests whose time ran out become expired, and their pending subscriptions end. Returns how many. */
export const expireConsents = async (database: Database, now: string): Promise<number> =>
  withTransaction(database, async (tx) => {
    const rows = await tx.trx
      .selectFrom('subscription_consent')
      .select(['id', 'subscription_id'])
      .where('answer', 'is', null)
      .where('expires_at', '<=', now)
      .limit(1000)
      .$if(tx.engine === 'postgres', (qb) => qb.forUpdate().skipLocked())
      .execute();
    if (rows.length === 0) return 0;
    for (const part of chunks(rows.map((r) => r.id))) {
      await tx.trx
        .updateTable('subscription_consent')
        .set({ answer: 'expired', answered_at: now })
        .where('id', 'in', part)
        .where('answer', 'is', null)
        .execute();
    }
    const pendingSubscriptions = await tx.trx
      .selectFrom('subscription')
      .select('id')
      .where(
        'id',
        'in',
        rows.map((r) => r.subscription_id),
      )
      .where('consent', '=', 'pending')
      .execute();
    await endWithConsent(
      tx,
      pendingSubscriptions.map((s) => s.id),
      'expired',
      now,
    );
    return rows.length;
  });

/** The outbox lease. */
export interface ConsentClaim {
  now: string;
  until: string;
  by: string;
}

const sendable = (now: string) => (eb: ExpressionBuilder<DB, 'subscription_consent'>) =>
  eb.and([
    eb('sent_at', 'is', null),
    eb('answer', 'is', null),
    eb('expires_at', '>', now),
    eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]),
  ]);

/** Claims unsent, unanswered requests whose time has come; counts the attempt. */
export const claimConsentsToSend = async (
  database: Database,
  claim: ConsentClaim,
  limit: number,
): Promise<ConsentRow[]> =>
  database.db
    .updateTable('subscription_consent')
    .set((eb) => ({ claimed_until: claim.until, claimed_by: claim.by, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('subscription_consent')
        .select('id')
        .where(sendable(claim.now))
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit)
        .$if(database.engine === 'postgres', (qb) => qb.forUpdate().skipLocked()),
    )
    .where(sendable(claim.now))
    .returningAll()
    .execute();

export const getSubscriptions = async (database: Database, ids: readonly string[]): Promise<SubscriptionTable[]> => {
  const out: SubscriptionTable[] = [];
  for (const part of chunks([...new Set(ids)])) {
    out.push(...(await database.db.selectFrom('subscription').selectAll().where('id', 'in', part).execute()));
  }
  return out;
};

/** Requests e-mailed to the address since `since`. */
export const sentToAddressSince = async (database: Database, address: string, since: string): Promise<WindowCount> =>
  windowOf(
    await database.db
      .selectFrom('subscription_consent')
      .select((eb) => [eb.fn.countAll().as('count'), eb.fn.min('sent_at').as('oldest')])
      .where('address', '=', address)
      .where('sent_at', '>', since)
      .executeTakeFirst(),
  );

/** Whether a component appears on any item of the portal (so Lanes may name it). */
export const componentKnown = async (database: Database, component: string): Promise<boolean> =>
  (await database.db
    .selectFrom('portal_item')
    .select('key')
    .where('component', '=', component)
    .limit(1)
    .executeTakeFirst()) !== undefined;

/** Writes what happened to a claimed request, only while this claimant holds it. */
export const finishConsent = async (
  database: Database,
  id: string,
  by: string,
  outcome:
    | { kind: 'token'; tokenHash: string }
    | { kind: 'sent'; at: string; expiresAt: string }
    | { kind: 'later'; at: string; error: string | null; uncount?: boolean },
): Promise<boolean> => {
  const set =
    outcome.kind === 'token'
      ? { token_hash: outcome.tokenHash }
      : outcome.kind === 'sent'
        ? {
            sent_at: outcome.at,
            expires_at: outcome.expiresAt,
            claimed_by: null,
            claimed_until: null,
            last_error: null,
          }
        : { claimed_by: null, claimed_until: outcome.at, last_error: outcome.error };
  const result = await database.db
    .updateTable('subscription_consent')
    .set((eb) => ({
      ...set,
      ...(outcome.kind === 'later' && outcome.uncount ? { attempts: eb('attempts', '-', 1) } : {}),
    }))
    .where('id', '=', id)
    .where('claimed_by', '=', by)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
};
