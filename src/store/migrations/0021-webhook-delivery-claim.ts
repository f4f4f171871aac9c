import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Pending webhook deliveries are claimed before they are mapped (issue 14), with a lease like the other outboxes:
// `claimed_until` (ISO-8601 UTC) and `claimed_by` (the intake that holds it). Several instances draining one database
// then map different deliveries instead of the same ones, and a lease left by a process that died runs out.
// Adding nullable columns rewrites no rows on either engine; the (status, received_at, id) index still serves the claim.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webhook_delivery').addColumn('claimed_until', 'text').execute();
  await db.schema.alterTable('webhook_delivery').addColumn('claimed_by', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('webhook_delivery').dropColumn('claimed_by').execute();
  await db.schema.alterTable('webhook_delivery').dropColumn('claimed_until').execute();
}
