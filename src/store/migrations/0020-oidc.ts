import type { Kysely } from 'kysely';

// Frozen in time: this migration must never import application code.
// Sign-in through an identity provider (OIDC) and a sign-in rate limit shared by every instance:
// - `oidc_flow`: one row per sign-in started (state, nonce and PKCE verifier), claimed once by whichever instance
//   receives the callback; `state_hash` and `browser_hash` are SHA-256 of the state and of the browser's cookie.
// - `rate_limit_window`: a fixed window per limiter key (client and e-mail), counted with one atomic upsert.
// - `session.oidc_id_token`: the ID token of a session opened through the identity provider, for its logout.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('oidc_flow')
    .addColumn('state_hash', 'text', (c) => c.primaryKey())
    .addColumn('browser_hash', 'text', (c) => c.notNull())
    .addColumn('nonce', 'text', (c) => c.notNull())
    .addColumn('code_verifier', 'text', (c) => c.notNull())
    .addColumn('return_to', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oidc_flow_expires_at_index').on('oidc_flow').column('expires_at').execute();

  await db.schema
    .createTable('rate_limit_window')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('rate_limit_window_window_start_index')
    .on('rate_limit_window')
    .column('window_start')
    .execute();

  await db.schema.alterTable('session').addColumn('oidc_id_token', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('session').dropColumn('oidc_id_token').execute();
  await db.schema.dropTable('rate_limit_window').execute();
  await db.schema.dropTable('oidc_flow').execute();
}
