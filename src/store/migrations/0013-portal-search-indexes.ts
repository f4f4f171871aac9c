import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Portal search compares reporter and customer without case: index those expressions, with the visibility and
// recency the search filters and orders by, so "items I reported" and a customer's items never scan every item.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX portal_item_reporter_folded_index ON portal_item (lower(reporter), visible, updated_at)`.execute(
    db,
  );
  await sql`CREATE INDEX portal_item_customer_folded_index ON portal_item (lower(customer), visible, updated_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX portal_item_customer_folded_index`.execute(db);
  await sql`DROP INDEX portal_item_reporter_folded_index`.execute(db);
}
