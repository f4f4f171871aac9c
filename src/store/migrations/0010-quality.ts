import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Quality signals: one row per signal, team, component ('' for team level) and week, whatever computed it.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('quality_signal_week')
    .addColumn('signal', 'text', (c) => c.notNull())
    .addColumn('team', 'text', (c) => c.notNull())
    .addColumn('component', 'text', (c) => c.notNull())
    .addColumn('week', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision')
    .addColumn('numerator', 'double precision')
    .addColumn('denominator', 'double precision')
    .addColumn('details', 'text')
    .addPrimaryKeyConstraint('quality_signal_week_pk', ['team', 'component', 'signal', 'week'])
    .execute();
  await db.schema
    .createIndex('quality_signal_week_signal_index')
    .on('quality_signal_week')
    .columns(['signal', 'week'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('quality_signal_week').execute();
}
