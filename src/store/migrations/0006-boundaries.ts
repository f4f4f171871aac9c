import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// The boundary monitor keeps one row per decision held against the charter,
// weekly counts per team, domain, role, standing and direction (never per
// person), and the middleman signals (status pings and relays) with their
// weekly counts per team and product manager. Items keep their labels, which
// decision rules read. Events get an index in log order for full recomputes.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('item')
    .addColumn('labels', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  // Open incidents per component: the incident commander decides triage while one is active.
  await db.schema.createIndex('item_kind_closed_at_index').on('item').columns(['kind', 'closed_at']).execute();

  // Replaces the plain occurred_at index: the same prefix, plus the log's tie-breakers for keyset paging.
  await db.schema.dropIndex('event_occurred_at_index').execute();
  await db.schema
    .createIndex('event_log_order_index')
    .on('event')
    .columns(['occurred_at', 'source', 'source_event_id'])
    .execute();

  await db.schema
    .createTable('boundary_decision')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('item_key', 'text')
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('standing', 'text', (c) => c.notNull())
    .addColumn('via', 'text')
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('crossing', 'integer', (c) => c.notNull())
    .addColumn('sentence', 'text', (c) => c.notNull())
    .addColumn('owners', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('boundary_decision_team_crossing_index')
    .on('boundary_decision')
    .columns(['team', 'crossing', 'occurred_at'])
    .execute();
  await db.schema.createIndex('boundary_decision_item_index').on('boundary_decision').column('item_key').execute();

  await db.schema
    .createTable('boundary_week')
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('standing', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('decisions', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('boundary_week_pk', ['team', 'week', 'domain', 'actor_role', 'standing', 'direction'])
    .execute();

  await db.schema
    .createTable('middleman_signal')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('item_key', 'text')
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('middleman_signal_item_index').on('middleman_signal').column('item_key').execute();

  await db.schema
    .createTable('middleman_week')
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('signals', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('middleman_week_pk', ['team', 'week', 'person_id', 'kind'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('middleman_week').execute();
  await db.schema.dropTable('middleman_signal').execute();
  await db.schema.dropTable('boundary_week').execute();
  await db.schema.dropTable('boundary_decision').execute();
  await db.schema.dropIndex('event_log_order_index').execute();
  await db.schema.createIndex('event_occurred_at_index').on('event').column('occurred_at').execute();
  await db.schema.dropIndex('item_kind_closed_at_index').execute();
  await db.schema.alterTable('item').dropColumn('labels').execute();
}
