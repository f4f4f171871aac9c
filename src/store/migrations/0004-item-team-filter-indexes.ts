import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// The items page is mostly filtered by team and then by kind or stage; with
// one-column indexes such a page walked every item of that kind in every team.

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const column of ['kind', 'stage']) {
    await db.schema
      .createIndex(`item_team_${column}_updated_at_index`)
      .on('item')
      .columns(['team', column, 'updated_at', 'key'])
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['kind', 'stage']) await db.schema.dropIndex(`item_team_${column}_updated_at_index`).execute();
}
