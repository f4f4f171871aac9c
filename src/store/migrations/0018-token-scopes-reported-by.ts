import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// API tokens carry scopes (space-separated: read, write, events:write, events:write:<source>, admin). A token
// made before scopes existed gets what it could do then, by its user's role: stakeholders read and write,
// members also append events, admins also use admin routes. A row written without scopes can do nothing.
// Events posted through the API record who posted them: `reported_by` holds JSON {"user": e-mail, "token": id|null};
// connectors, syncs and Lanes' own events leave it null. Adding a nullable column rewrites no rows on either engine.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('api_token')
    .addColumn('scopes', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`
    UPDATE api_token
    SET scopes = CASE (SELECT role FROM app_user WHERE app_user.id = api_token.user_id)
      WHEN 'admin' THEN 'admin events:write read write'
      WHEN 'member' THEN 'events:write read write'
      ELSE 'read write'
    END`.execute(db);
  await db.schema.alterTable('event').addColumn('reported_by', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('event').dropColumn('reported_by').execute();
  await db.schema.alterTable('api_token').dropColumn('scopes').execute();
}
