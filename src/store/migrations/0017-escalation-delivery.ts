import { sql, type Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// The escalation e-mail outbox gets claim columns of its own, so `sent_at` is only ever the send time:
// `claimed_until` (ISO) is the claim's end while `claimed_by` holds the row, or the retry time of a failed send
// (`claimed_by` empty); `attempts` counts sends tried; `last_error` is the last failure. The claim query takes
// unsent rows oldest first: a partial index over exactly those rows replaces the `(sent_at, created_at)` one.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('escalation_notification').addColumn('claimed_until', 'text').execute();
  await db.schema.alterTable('escalation_notification').addColumn('claimed_by', 'text').execute();
  await db.schema
    .alterTable('escalation_notification')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('escalation_notification').addColumn('last_error', 'text').execute();

  // Claims an earlier build kept in `sent_at` as `lease:<until ISO>:<holder>` (`retry` for a failed send waiting).
  await sql`
    UPDATE escalation_notification
    SET claimed_until = substr(sent_at, 7, 24),
        claimed_by = CASE WHEN sent_at LIKE '%:retry' THEN NULL ELSE substr(sent_at, 32) END,
        sent_at = NULL
    WHERE sent_at LIKE 'lease:%'`.execute(db);

  await sql`DROP INDEX escalation_notification_sent_at_index`.execute(db);
  await sql`CREATE INDEX escalation_notification_unsent_index ON escalation_notification (created_at, id) WHERE sent_at IS NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP INDEX escalation_notification_unsent_index`.execute(db);
  await sql`CREATE INDEX escalation_notification_sent_at_index ON escalation_notification (sent_at, created_at)`.execute(
    db,
  );
  for (const column of ['last_error', 'attempts', 'claimed_by', 'claimed_until']) {
    await db.schema.alterTable('escalation_notification').dropColumn(column).execute();
  }
}
