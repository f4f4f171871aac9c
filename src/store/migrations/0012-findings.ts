import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Findings of the quality catalog (one row per rule and scope, id = rule:team:component),
// their escalations to the team's engineering-leadership contact (one per finding,
// same id), and the notifications of those escalations (an outbox: recorded here,
// sent by whoever delivers e-mail).

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('quality_finding')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('team', 'text', (c) => c.notNull())
    // '' for a team-level finding.
    .addColumn('component', 'text', (c) => c.notNull())
    // low | medium | high
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('pattern', 'text', (c) => c.notNull())
    .addColumn('guardrail', 'text', (c) => c.notNull())
    // JSON: { figures, trend, links }
    .addColumn('evidence', 'text', (c) => c.notNull())
    // JSON: [{ category, weight, reason }]
    .addColumn('causes', 'text', (c) => c.notNull())
    .addColumn('first_seen', 'text', (c) => c.notNull())
    .addColumn('last_seen', 'text', (c) => c.notNull())
    // The newest signal week that showed the pattern.
    .addColumn('data_week', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('quality_finding_team_active_index')
    .on('quality_finding')
    .columns(['team', 'active'])
    .execute();

  await db.schema
    .createTable('escalation')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // open | acknowledged | action_planned | resolved | dismissed
    .addColumn('state', 'text', (c) => c.notNull())
    // Person id of the engineering-leadership contact; null when the charter names none.
    .addColumn('addressed_to', 'text')
    .addColumn('plan_url', 'text')
    .addColumn('reason', 'text')
    // JSON: [{ at, from, to, by, planUrl?, reason? }]
    .addColumn('history', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('reopened_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('escalation_state_index').on('escalation').columns(['state', 'updated_at']).execute();

  await db.schema
    .createTable('escalation_notification')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('escalation_id', 'text', (c) => c.notNull())
    .addColumn('person_id', 'text')
    .addColumn('address', 'text')
    // opened | reopened
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema
    .createIndex('escalation_notification_sent_at_index')
    .on('escalation_notification')
    .columns(['sent_at', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('escalation_notification').execute();
  await db.schema.dropTable('escalation').execute();
  await db.schema.dropTable('quality_finding').execute();
}
