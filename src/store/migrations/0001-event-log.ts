import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Portable subset: text ids made by the application, timestamps as ISO-8601 UTC
// text with milliseconds, JSON as text, integers for counts.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('event')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_event_id', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('actor_identity', 'text')
    .addColumn('actor_person_id', 'text')
    .addColumn('item_key', 'text')
    .addColumn('item_snapshot', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('field', 'text')
    .addColumn('from_value', 'text')
    .addColumn('to_value', 'text')
    .addColumn('body', 'text')
    .addColumn('target', 'text')
    .addColumn('data', 'text')
    .addColumn('payload', 'text')
    .addColumn('payload_ref', 'text')
    .addUniqueConstraint('event_source_source_event_id_unique', ['source', 'source_event_id'])
    .execute();
  await db.schema
    .createIndex('event_item_key_occurred_at_index')
    .on('event')
    .columns(['item_key', 'occurred_at'])
    .execute();
  await db.schema.createIndex('event_occurred_at_index').on('event').column('occurred_at').execute();

  await db.schema
    .createTable('item')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('team', 'text')
    .addColumn('component', 'text')
    .addColumn('severity', 'text')
    .addColumn('priority', 'text')
    .addColumn('assignee', 'text')
    .addColumn('reporter', 'text')
    .addColumn('customer', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('resolution', 'text')
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('url', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('closed_at', 'text')
    .addColumn('reopen_count', 'integer', (c) => c.notNull())
    .addColumn('comment_count', 'integer', (c) => c.notNull())
    .addColumn('event_count', 'integer', (c) => c.notNull())
    .addColumn('pr_open', 'integer', (c) => c.notNull())
    .addColumn('merged_at', 'text')
    .addColumn('deployed_at', 'text')
    .addColumn('verified_at', 'text')
    .addColumn('last_order_key', 'text', (c) => c.notNull())
    .execute();
  for (const column of ['team', 'kind', 'stage', 'component', 'severity']) {
    await db.schema
      .createIndex(`item_${column}_updated_at_index`)
      .on('item')
      .columns([column, 'updated_at', 'key'])
      .execute();
  }
  await db.schema.createIndex('item_updated_at_key_index').on('item').columns(['updated_at', 'key']).execute();

  await db.schema
    .createTable('source_state')
    .addColumn('source', 'text', (c) => c.primaryKey())
    .addColumn('event_count', 'integer', (c) => c.notNull())
    .addColumn('duplicate_count', 'integer', (c) => c.notNull())
    .addColumn('last_occurred_at', 'text')
    .addColumn('last_received_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['meta', 'source_state', 'item', 'event']) await db.schema.dropTable(table).execute();
}
