import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Webhook deliveries are stored raw before they are acknowledged and mapped
// afterwards; syncs keep a resume point per stream; conditional requests keep
// their ETags; values a mapping did not know are counted per source.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_delivery')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('body_encoding', 'text', (c) => c.notNull().defaultTo('identity'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('event_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('processed_at', 'text')
    .addUniqueConstraint('webhook_delivery_provider_delivery_id_unique', ['provider', 'delivery_id'])
    .execute();
  await db.schema
    .createIndex('webhook_delivery_status_received_at_index')
    .on('webhook_delivery')
    .columns(['status', 'received_at', 'id'])
    .execute();

  await db.schema
    .createTable('sync_checkpoint')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('cursor', 'text')
    .addColumn('since', 'text')
    .addColumn('run_started_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('completed_at', 'text')
    .addColumn('last_success_started_at', 'text')
    .addColumn('units', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('event_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addPrimaryKeyConstraint('sync_checkpoint_pk', ['source', 'scope', 'stream'])
    .execute();

  await db.schema
    .createTable('http_etag')
    .addColumn('url', 'text', (c) => c.primaryKey())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('unmapped_value')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('seen_count', 'integer', (c) => c.notNull())
    .addColumn('first_seen_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('unmapped_value_pk', ['source', 'category', 'value'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['unmapped_value', 'http_etag', 'sync_checkpoint', 'webhook_delivery']) {
    await db.schema.dropTable(table).execute();
  }
}
