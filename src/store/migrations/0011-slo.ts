import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// SLOs (docs/slo.md): the definitions, good/total samples per minute, the sample ids already counted, and alert episodes.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('slo')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('component', 'text')
    .addColumn('service', 'text', (c) => c.notNull())
    .addColumn('target', 'double precision', (c) => c.notNull())
    .addColumn('window_days', 'integer', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('events_checkpoint', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('slo_service_index').on('slo').column('service').execute();
  await db.schema
    .createTable('slo_sample')
    .addColumn('slo', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('good', 'double precision', (c) => c.notNull())
    .addColumn('total', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('slo_sample_pk', ['slo', 'bucket'])
    .execute();
  await db.schema
    .createTable('slo_sample_seen')
    .addColumn('slo', 'text', (c) => c.notNull())
    .addColumn('sample_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('slo_sample_seen_pk', ['slo', 'sample_id'])
    .execute();
  await db.schema
    .createTable('slo_alert')
    .addColumn('slo', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('fired_at', 'text', (c) => c.notNull())
    .addColumn('resolved_at', 'text')
    .addColumn('burn_long', 'double precision', (c) => c.notNull())
    .addColumn('burn_short', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('slo_alert_pk', ['slo', 'rule', 'fired_at'])
    .execute();
  // sli_sample events in the log are read incrementally by the time they were received.
  await db.schema.createIndex('event_kind_received_at_index').on('event').columns(['kind', 'received_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('event_kind_received_at_index').execute();
  await db.schema.dropTable('slo_alert').execute();
  await db.schema.dropTable('slo_sample_seen').execute();
  await db.schema.dropTable('slo_sample').execute();
  await db.schema.dropTable('slo').execute();
}
