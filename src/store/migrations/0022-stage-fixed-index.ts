import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// A bug closed as fixed whose release is not tracked (stage `fixed`) has left the open bugs as surely as one that went
// live: the bug flow counts moves into fixed, live or verified. The partial index of 0016 held live and verified only;
// this one holds all three, with the same columns, so the count stays one index range on both engines.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX item_stage_change_done_index ON item_stage_change (to_stage, occurred_at, item_key, from_stage) WHERE to_stage IN ('fixed', 'live', 'verified')`.execute(
    db,
  );
  await sql`DROP INDEX item_stage_change_fixed_index`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX item_stage_change_fixed_index ON item_stage_change (to_stage, occurred_at, item_key, from_stage) WHERE to_stage IN ('live', 'verified')`.execute(
    db,
  );
  await sql`DROP INDEX item_stage_change_done_index`.execute(db);
}
