import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// The portal: each item's stage changes with their evidence (what notifications
// fan out from), a search index of what stakeholders may see (FTS5 on SQLite,
// a tsvector with a GIN index on PostgreSQL), and revocable share links.

export async function up(db: Kysely<unknown>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('item_stage_change')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('item_key', 'text', (c) => c.notNull())
    .addColumn('from_stage', 'text')
    .addColumn('to_stage', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('evidence_event_id', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'text', (c) => c.notNull())
    // Set once notifications have been planned for it (deliveries created); null until then.
    .addColumn('fanned_out_at', 'text')
    .execute();
  await db.schema
    .createIndex('item_stage_change_item_index')
    .on('item_stage_change')
    .columns(['item_key', 'occurred_at'])
    .execute();
  await db.schema
    .createIndex('item_stage_change_fanout_index')
    .on('item_stage_change')
    .columns(['fanned_out_at', 'recorded_at'])
    .execute();

  await db.schema
    .createTable('portal_item')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('team', 'text')
    .addColumn('component', 'text')
    .addColumn('customer', 'text')
    .addColumn('reporter', 'text')
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('url', 'text')
    .addColumn('visible', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    // Key, title, component and customer, lower-cased and without diacritics, for full-text search.
    .addColumn('search_text', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .createIndex('portal_item_visible_updated_index')
    .on('portal_item')
    .columns(['visible', 'updated_at', 'key'])
    .execute();
  await db.schema
    .createIndex('portal_item_reporter_index')
    .on('portal_item')
    .columns(['reporter', 'updated_at'])
    .execute();
  await db.schema
    .createIndex('portal_item_customer_index')
    .on('portal_item')
    .columns(['customer', 'updated_at'])
    .execute();
  await db.schema.createIndex('portal_item_url_index').on('portal_item').column('url').execute();
  if (postgres) {
    await sql`ALTER TABLE portal_item ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED`.execute(
      db,
    );
    await sql`CREATE INDEX portal_item_search_index ON portal_item USING GIN (search)`.execute(db);
  } else {
    // Kept in step with portal_item by the repository (rowid = portal_item's rowid).
    await sql`CREATE VIRTUAL TABLE portal_item_fts USING fts5(search_text, tokenize = 'unicode61 remove_diacritics 2')`.execute(
      db,
    );
  }

  // Links between items (duplicates, caused by, relates), kept both ways: related items and a linked incident.
  await db.schema
    .createTable('item_link')
    .addColumn('item_key', 'text', (c) => c.notNull())
    .addColumn('other_key', 'text', (c) => c.notNull())
    .addColumn('relation', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('item_link_pk', ['item_key', 'other_key'])
    .execute();

  // Merged is not deployed: an item is Live once a successful production deployment carries its fix.
  await db.schema
    .createTable('item_fix_commit')
    .addColumn('item_key', 'text', (c) => c.notNull())
    .addColumn('sha', 'text', (c) => c.notNull())
    .addColumn('merged_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('item_fix_commit_pk', ['item_key', 'sha'])
    .execute();
  await db.schema.createIndex('item_fix_commit_sha_index').on('item_fix_commit').column('sha').execute();
  await db.schema
    .createTable('deployment_commit')
    .addColumn('sha', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_event_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('deployment_id', 'text')
    .addColumn('deployed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('deployment_commit_pk', ['sha', 'event_id'])
    .execute();

  await db.schema
    .createTable('share_link')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('item_key', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .execute();
  await db.schema.createIndex('share_link_item_index').on('share_link').column('item_key').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('share_link').execute();
  await db.schema.dropTable('deployment_commit').execute();
  await db.schema.dropTable('item_link').execute();
  await db.schema.dropTable('item_fix_commit').execute();
  await sql`DROP TABLE IF EXISTS portal_item_fts`.execute(db);
  await db.schema.dropTable('portal_item').execute();
  await db.schema.dropTable('item_stage_change').execute();
}
