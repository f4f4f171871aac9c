import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Quality facts: one row per pull request (its times, review outcome and size, merged from every PR event) and one
// row per successful production deployment event (its service or repository, commits and named PRs). They are kept
// in the append transaction, so DORA and review rigor read a few compact indexed rows instead of the event log's
// JSON. Which team a row belongs to comes from the charter at read time, so a charter change needs no rewrite.

export async function up(db: Kysely<unknown>): Promise<void> {
  // Each weekly signal row gets a summary beside its details: the few fields a chart shows (JSON), so the Quality
  // API reads small rows and never parses the lists of ids and timings behind a figure.
  await db.schema.alterTable('quality_signal_week').addColumn('summary', 'text').execute();

  await db.schema
    .createTable('quality_pr')
    .addColumn('pr_key', 'text', (c) => c.primaryKey())
    .addColumn('repo', 'text')
    .addColumn('number', 'text', (c) => c.notNull())
    .addColumn('item_key', 'text')
    .addColumn('opened_at', 'text')
    .addColumn('first_commit_at', 'text')
    .addColumn('first_review_at', 'text')
    .addColumn('merged_at', 'text')
    .addColumn('merge_sha', 'text')
    .addColumn('approved', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('discussed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('size', 'integer')
    .execute();
  await db.schema.createIndex('quality_pr_merged_at_index').on('quality_pr').columns(['merged_at']).execute();
  await db.schema
    .createIndex('quality_pr_repo_merged_at_index')
    .on('quality_pr')
    .columns(['repo', 'merged_at'])
    .execute();
  await db.schema.createIndex('quality_pr_merge_sha_index').on('quality_pr').columns(['merge_sha']).execute();

  await db.schema
    .createTable('quality_deployment')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('repo', 'text')
    .addColumn('service', 'text')
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    // JSON arrays: the commits it names (lower case) and the PRs it names as given (`12` or `owner/name#12`).
    .addColumn('shas', 'text', (c) => c.notNull())
    .addColumn('prs', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('quality_deployment_at_index').on('quality_deployment').columns(['at']).execute();
  await db.schema
    .createIndex('quality_deployment_repo_at_index')
    .on('quality_deployment')
    .columns(['repo', 'at'])
    .execute();
  await db.schema
    .createIndex('quality_deployment_service_at_index')
    .on('quality_deployment')
    .columns(['service', 'at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('quality_signal_week').dropColumn('summary').execute();
  await db.schema.dropTable('quality_deployment').execute();
  await db.schema.dropTable('quality_pr').execute();
}
