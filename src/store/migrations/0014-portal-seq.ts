import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Word searches list items newest first by when Lanes first saw them. On SQLite that order is the row's rowid, which
// the full-text table shares; PostgreSQL gets a sequence column for the same order.

export async function up(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`ALTER TABLE portal_item ADD COLUMN seq bigserial`.execute(db);
  await sql`CREATE INDEX portal_item_seq_index ON portal_item (seq)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!(db.getExecutor().adapter instanceof PostgresAdapter)) return;
  await sql`ALTER TABLE portal_item DROP COLUMN seq`.execute(db);
}
