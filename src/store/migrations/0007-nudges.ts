import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Boundary nudges: one row per crossing considered for a nudge, whatever became
// of it (sent, dry run, failed, skipped with a reason). A decision is considered
// once (decision_event_id is unique); the indexes serve the 7-day rule per item
// and domain and the daily cap per team.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('boundary_nudge')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('item_key', 'text')
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('decision_event_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('body', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .addColumn('error', 'text')
    .addUniqueConstraint('boundary_nudge_decision_event_id_unique', ['decision_event_id'])
    .execute();
  await db.schema
    .createIndex('boundary_nudge_item_key_domain_created_at_index')
    .on('boundary_nudge')
    .columns(['item_key', 'domain', 'created_at'])
    .execute();
  await db.schema
    .createIndex('boundary_nudge_team_created_at_index')
    .on('boundary_nudge')
    .columns(['team', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('boundary_nudge').execute();
}
