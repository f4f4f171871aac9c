import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Follows and notifications: a subscription per user, target and channel; one
// delivery per subscription and stage change (the unique pair makes fan-out
// idempotent), claimed with a lease (claimed_until, claimed_by) so that two
// instances never send the same one. Digest cadences keep their deliveries
// pending until the digest time (digest_at), then send them together.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('subscription')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    // item | component | team | search
    .addColumn('target_kind', 'text', (c) => c.notNull())
    // The item key, component, team id, or the saved search's name.
    .addColumn('target', 'text', (c) => c.notNull())
    // JSON filters of a saved search; null for the other kinds.
    .addColumn('search', 'text')
    // email | slack | webhook | feed
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('address', 'text')
    // The webhook signing secret (sent back once, when created).
    .addColumn('secret', 'text')
    // immediate | daily | weekly
    .addColumn('cadence', 'text', (c) => c.notNull())
    .addColumn('feed_token_hash', 'text', (c) => c.unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('unsubscribed_at', 'text')
    .execute();
  await db.schema
    .createIndex('subscription_target_kind_target_index')
    .on('subscription')
    .columns(['target_kind', 'target'])
    .execute();
  await db.schema
    .createIndex('subscription_user_id_created_at_index')
    .on('subscription')
    .columns(['user_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('notification_delivery')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('subscription_id', 'text', (c) => c.notNull())
    .addColumn('stage_change_id', 'text', (c) => c.notNull())
    // pending | sending | sent | failed | dead | skipped
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text')
    // The digest slot this delivery waits for; null when sent on its own.
    .addColumn('digest_at', 'text')
    .addColumn('claimed_until', 'text')
    .addColumn('claimed_by', 'text')
    .addColumn('last_error', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('notification_delivery_subscription_id_stage_change_id_unique', [
      'subscription_id',
      'stage_change_id',
    ])
    .execute();
  await db.schema
    .createIndex('notification_delivery_status_next_attempt_at_index')
    .on('notification_delivery')
    .columns(['status', 'next_attempt_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notification_delivery').execute();
  await db.schema.dropTable('subscription').execute();
}
