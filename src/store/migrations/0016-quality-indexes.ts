import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Quality signals recomputed for one team and the current week must not read the whole history. Partial indexes
// hold only the stage changes a signal reads, so appending pays for few entries:
//  - moves into being fixed, in review or ready, per item in time order: an item's first start is one seek, and all
//    of them are read in item order;
//  - moves into live or verified (a bug's fix going live) by time, with what the count reads;
//  - a team's items by kind and closed time, with component and updated time: its open bugs, its components with
//    bugs and its work still open at a week's start, read from the index alone.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX item_stage_change_started_index ON item_stage_change (item_key, occurred_at, to_stage) WHERE to_stage IN ('being_fixed', 'fix_in_review', 'fix_ready')`.execute(
    db,
  );
  await sql`CREATE INDEX item_stage_change_fixed_index ON item_stage_change (to_stage, occurred_at, item_key, from_stage) WHERE to_stage IN ('live', 'verified')`.execute(
    db,
  );
  await sql`CREATE INDEX item_team_kind_closed_at_index ON item (team, kind, closed_at, component, updated_at, key)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX item_team_kind_closed_at_index`.execute(db);
  await sql`DROP INDEX item_stage_change_fixed_index`.execute(db);
  await sql`DROP INDEX item_stage_change_started_index`.execute(db);
}
