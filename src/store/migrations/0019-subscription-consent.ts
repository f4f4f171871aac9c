import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Consent for e-mail to someone else's address (issue 13, finding 5). `subscription.consent` is NULL when none is
// needed (the subscriber's own address, Slack, webhooks, feeds), else pending | confirmed | declined | expired; only
// NULL and confirmed subscriptions are fanned out. `subscription_consent` is both the request and its outbox: one row
// per confirmation e-mail, claimed with a lease like the other outboxes (`claimed_until`, `claimed_by`, `attempts`),
// with the SHA-256 of the link's token (made when it is sent, so only the e-mail ever holds the token), when the
// confirmation expires, and the answer (confirmed | declined | expired). The rows of an address, newest first, give
// the per-address limits: three requests a day, none for 30 days after a decline.
//
// E-mail subscriptions that already go to an address other than their owner's become pending, with a request each
// that the notifier sends (three a day per address at most); their unsent deliveries are skipped.

const WEEK_MS = 7 * 86_400_000;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('subscription').addColumn('consent', 'text').execute();
  await db.schema
    .createTable('subscription_consent')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    // Lower case, as the subscription stores it.
    .addColumn('address', 'text', (c) => c.notNull())
    // Who asked, as Lanes knew them when they asked: the only names the e-mail prints.
    .addColumn('requested_by_name', 'text', (c) => c.notNull())
    .addColumn('requested_by_email', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('claimed_until', 'text')
    .addColumn('claimed_by', 'text')
    .addColumn('last_error', 'text')
    .addColumn('answer', 'text')
    .addColumn('answered_at', 'text')
    .execute();
  await db.schema
    .createIndex('subscription_consent_address_created_at_index')
    .on('subscription_consent')
    .columns(['address', 'created_at'])
    .execute();
  await db.schema
    .createIndex('subscription_consent_subscription_id_index')
    .on('subscription_consent')
    .column('subscription_id')
    .execute();
  await sql`CREATE INDEX subscription_consent_unanswered_index ON subscription_consent (expires_at) WHERE answer IS NULL`.execute(
    db,
  );

  await sql`
    UPDATE subscription SET consent = 'pending'
    WHERE channel = 'email' AND unsubscribed_at IS NULL AND address IS NOT NULL
      AND lower(address) <> coalesce((SELECT lower(u.email) FROM app_user u WHERE u.id = subscription.user_id), '')`.execute(
    db,
  );
  const now = new Date();
  await sql`
    INSERT INTO subscription_consent
      (id, subscription_id, address, requested_by_name, requested_by_email, created_at, expires_at, attempts)
    SELECT 'legacy-' || s.id, s.id, lower(s.address), coalesce(u.name, ''), coalesce(u.email, ''),
           ${now.toISOString()}, ${new Date(now.getTime() + WEEK_MS).toISOString()}, 0
    FROM subscription s LEFT JOIN app_user u ON u.id = s.user_id
    WHERE s.consent = 'pending'`.execute(db);
  await sql`
    UPDATE notification_delivery
    SET status = 'skipped', last_error = 'waiting for the address to confirm', next_attempt_at = NULL
    WHERE status IN ('pending', 'failed')
      AND subscription_id IN (SELECT id FROM subscription WHERE consent = 'pending')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('subscription_consent').execute();
  await db.schema.alterTable('subscription').dropColumn('consent').execute();
}
