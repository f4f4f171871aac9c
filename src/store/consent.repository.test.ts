import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.js';
import { testEngines } from './engines.test-helper.js';
import * as m0019 from './migrations/0019-subscription-consent.js';

const AT = '2026-05-01T00:00:00.000Z';

const subscription = (id: string, userId: string, channel: string, address: string | null) => ({
  id,
  user_id: userId,
  target_kind: 'item',
  target: 'PAY-231',
  search: null,
  channel,
  address,
  secret: null,
  cadence: 'immediate',
  feed_token_hash: null,
  created_at: AT,
  unsubscribed_at: null,
});

describe.each(testEngines())('migration 0019 on $engine', ({ open }) => {
  let database: Database;
  beforeEach(async () => {
    database = await open();
  });
  afterEach(async () => {
    await database.close();
  });

  it('makes e-mail subscriptions to someone else’s address pending, with a request each, and skips their deliveries', async () => {
    const raw = database.db as unknown as Kysely<unknown>;
    await m0019.down(raw);
    const db = database.db;
    await db
      .insertInto('app_user')
      .values({
        id: 'u1',
        email: 'ana@acme.example',
        name: 'Ana',
        role: 'stakeholder',
        password_hash: 'x',
        created_at: AT,
      })
      .execute();
    // Without the consent column, as a database before 0019 has them.
    const rows = [
      subscription('own', 'u1', 'email', 'Ana@Acme.example'),
      subscription('other', 'u1', 'email', 'Bob@Elsewhere.example'),
      subscription('gone-user', 'u-deleted', 'email', 'carol@elsewhere.example'),
      subscription('slack', 'u1', 'slack', 'C0RELEASES'),
    ];
    for (const row of rows) await db.insertInto('subscription').values(row).execute();
    await db
      .insertInto('notification_delivery')
      .values([
        { id: 'd-own', subscription_id: 'own', stage_change_id: 'sc', status: 'pending', created_at: AT },
        { id: 'd-other', subscription_id: 'other', stage_change_id: 'sc', status: 'failed', created_at: AT },
      ])
      .execute();

    await m0019.up(raw);

    const consent = Object.fromEntries(
      (await db.selectFrom('subscription').select(['id', 'consent']).execute()).map((r) => [r.id, r.consent]),
    );
    expect(consent).toEqual({ own: null, other: 'pending', 'gone-user': 'pending', slack: null });
    const requests = await db.selectFrom('subscription_consent').selectAll().orderBy('subscription_id').execute();
    expect(requests.map((r) => [r.subscription_id, r.address, r.requested_by_email, r.answer, r.sent_at])).toEqual([
      ['gone-user', 'carol@elsewhere.example', '', null, null],
      ['other', 'bob@elsewhere.example', 'ana@acme.example', null, null],
    ]);
    expect(requests.every((r) => r.token_hash === null && r.expires_at > new Date().toISOString())).toBe(true);
    const statuses = Object.fromEntries(
      (await db.selectFrom('notification_delivery').select(['id', 'status']).execute()).map((r) => [r.id, r.status]),
    );
    expect(statuses).toEqual({ 'd-own': 'pending', 'd-other': 'skipped' });
  });
});
