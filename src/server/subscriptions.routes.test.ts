import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertPortalItem, insertStageChange } from '../connectors/notify/notify.test-helper.js';
import { deliveryIdOf, fanOut, unsubscribeLink } from '../services/notifications.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

const PUBLIC = 'https://lanes.acme.example';

describe.each(testEngines())('subscription routes on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  beforeAll(async () => {
    database = await open();
    t = await buildTestServer(database, { server: { publicUrl: PUBLIC } });
    const at = t.ctx.clock().toISOString();
    await insertPortalItem(database, { key: 'PAY-231', title: 'Checkout fails' }, at);
    await insertPortalItem(database, { key: 'SEC-1', title: 'Token leak', visible: false }, at);
  });
  afterAll(async () => {
    await t.server.app.close();
    await database.close();
  });

  const follow = (role: 'stakeholder' | 'member' | 'admin', payload: unknown) =>
    t.as(role, { method: 'POST', url: '/api/v1/subscriptions', payload: payload as Record<string, unknown> });

  it('follows a visible item with the caller’s e-mail; following again returns the same subscription', async () => {
    const created = await follow('stakeholder', { target: { kind: 'item', key: 'PAY-231' } });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      target: { kind: 'item', value: 'PAY-231', search: null },
      channel: 'email',
      address: 'stakeholder@acme.example',
      cadence: 'immediate',
      feedUrl: null,
      webhookSecret: null,
    });
    const again = await follow('stakeholder', { target: { kind: 'item', key: 'PAY-231' } });
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(created.json().id);
    const mine = await t.as('stakeholder', { method: 'GET', url: '/api/v1/subscriptions' });
    expect(mine.json().subscriptions.map((s: { id: string }) => s.id)).toContain(created.json().id);
    const others = await t.as('member', { method: 'GET', url: '/api/v1/subscriptions' });
    expect(others.json().subscriptions.map((s: { id: string }) => s.id)).not.toContain(created.json().id);
  });

  it('answers "not found" for hidden items exactly as for missing ones, and validates addresses', async () => {
    const hidden = await follow('stakeholder', { target: { kind: 'item', key: 'SEC-1' } });
    const missing = await follow('stakeholder', { target: { kind: 'item', key: 'SEC-2' } });
    expect(hidden.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(hidden.json().error.message).toBe(missing.json().error.message.replace('SEC-2', 'SEC-1'));
    expect(JSON.stringify(hidden.json())).not.toContain('Token leak');

    const item = { kind: 'item', key: 'PAY-231' };
    expect((await follow('stakeholder', { target: item, address: 'nope' })).statusCode).toBe(400);
    expect((await follow('member', { target: item, channel: 'webhook', address: 'ftp://x.example/' })).statusCode).toBe(
      400,
    );
    expect(
      (await follow('member', { target: item, channel: 'webhook', address: 'javascript:alert(1)' })).statusCode,
    ).toBe(400);
    expect(
      (await follow('stakeholder', { target: item, channel: 'webhook', address: 'https://x.example/' })).statusCode,
    ).toBe(403);
    expect((await follow('stakeholder', { target: item, unknown: 1 })).statusCode).toBe(400);
    const hook = await follow('member', {
      target: item,
      channel: 'webhook',
      address: 'https://hooks.acme.example/lanes',
    });
    expect(hook.statusCode).toBe(201);
    expect(hook.json().webhookSecret).toMatch(/^whsec_/);
    // The secret is shown once.
    const listed = await t.as('member', { method: 'GET', url: '/api/v1/subscriptions' });
    expect(JSON.stringify(listed.json())).not.toContain(hook.json().webhookSecret);
  });

  it('shows the delivery log to the owner and admins only, and lets only them unsubscribe', async () => {
    const sub = (await follow('stakeholder', { target: { kind: 'component', component: 'checkout' } })).json();
    await insertStageChange(database, {
      id: 'sc-log',
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: t.ctx.clock().toISOString(),
    });
    await fanOut(t.ctx);
    const url = `/api/v1/subscriptions/${sub.id}/deliveries`;
    const log = await t.as('stakeholder', { method: 'GET', url });
    expect(log.statusCode).toBe(200);
    expect(log.json().deliveries).toEqual([
      expect.objectContaining({
        id: deliveryIdOf(sub.id, 'sc-log'),
        itemKey: 'PAY-231',
        toStage: 'live',
        status: 'pending',
      }),
    ]);
    expect((await t.as('member', { method: 'GET', url })).statusCode).toBe(404);
    expect((await t.as('admin', { method: 'GET', url })).statusCode).toBe(200);

    const del = `/api/v1/subscriptions/${sub.id}`;
    expect((await t.as('member', { method: 'DELETE', url: del })).statusCode).toBe(404);
    expect((await t.as('stakeholder', { method: 'DELETE', url: del })).statusCode).toBe(204);
    expect((await t.as('stakeholder', { method: 'DELETE', url: del })).statusCode).toBe(404);
    expect((await t.as('stakeholder', { method: 'GET', url })).json().deliveries[0].status).toBe('skipped');
  });

  it('lists dead letters and retries one for admins only, with an audit entry', async () => {
    const sub = (await follow('admin', { target: { kind: 'item', key: 'PAY-231' } })).json();
    await insertStageChange(database, {
      id: 'sc-dead',
      itemKey: 'PAY-231',
      from: 'live',
      to: 'verified',
      at: t.ctx.clock().toISOString(),
    });
    await fanOut(t.ctx);
    const id = deliveryIdOf(sub.id, 'sc-dead');
    await database.db
      .updateTable('notification_delivery')
      .set({ status: 'dead', attempts: 8, last_error: 'SMTP 550: no such user' })
      .where('id', '=', id)
      .execute();

    expect((await t.as('member', { method: 'GET', url: '/api/v1/notifications/dead' })).statusCode).toBe(403);
    const dead = await t.as('admin', { method: 'GET', url: '/api/v1/notifications/dead' });
    expect(dead.json().deliveries).toEqual([
      expect.objectContaining({ id, status: 'dead', attempts: 8, lastError: 'SMTP 550: no such user' }),
    ]);
    const retryUrl = `/api/v1/notifications/deliveries/${id}/retry`;
    expect((await t.as('member', { method: 'POST', url: retryUrl })).statusCode).toBe(403);
    const retried = await t.as('admin', { method: 'POST', url: retryUrl });
    expect(retried.statusCode).toBe(200);
    expect(retried.json()).toMatchObject({ id, status: 'pending', attempts: 0 });
    expect((await t.as('admin', { method: 'POST', url: retryUrl })).statusCode).toBe(409);
    expect(
      (await t.as('admin', { method: 'POST', url: '/api/v1/notifications/deliveries/nope/retry' })).statusCode,
    ).toBe(404);
    const audit = await database.db
      .selectFrom('audit_entry')
      .selectAll()
      .where('action', '=', 'notification.retry')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.target).toBe(id);
  });

  it('unsubscribes anonymously: the link shows a confirmation, the button or a one-click POST ends it', async () => {
    const sub = (await follow('stakeholder', { target: { kind: 'team', team: 'payments' }, cadence: 'daily' })).json();
    const link = await unsubscribeLink(t.ctx, PUBLIC, sub.id);
    const path = link.slice(PUBLIC.length);

    const page = await t.as('anonymous', { method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('because you follow the team payments');
    expect(page.body).toContain('<form method="post" action="/unsubscribe?token=');
    // Opening the link (a mail scanner does) ends nothing.
    const mine = async () =>
      (await t.as('stakeholder', { method: 'GET', url: '/api/v1/subscriptions' }))
        .json()
        .subscriptions.map((s: { id: string }) => s.id);
    expect(await mine()).toContain(sub.id);

    const oneClick = await t.as('anonymous', {
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.statusCode).toBe(200);
    expect(oneClick.body).toContain('You are unsubscribed');
    expect(await mine()).not.toContain(sub.id);
    expect((await t.as('anonymous', { method: 'GET', url: path })).body).toContain('You are unsubscribed');

    const multipart = await t.as('anonymous', {
      method: 'POST',
      url: path,
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      payload: '--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--x--\r\n',
    });
    expect(multipart.statusCode).toBe(200);

    const forged = await t.as('anonymous', { method: 'POST', url: `${path.slice(0, -3)}AAA` });
    expect(forged.statusCode).toBe(404);
    expect(forged.body).toContain('not valid');
    // Form bodies stay refused everywhere else.
    const form = await t.as('stakeholder', {
      method: 'POST',
      url: '/api/v1/subscriptions',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'a=b',
    });
    expect(form.statusCode).toBe(415);
  });

  it('serves a feed at its secret URL only', async () => {
    const created = await follow('stakeholder', {
      target: { kind: 'search', name: 'Checkout', search: { component: 'checkout' } },
      channel: 'feed',
    });
    expect(created.statusCode).toBe(201);
    const feedUrl: string = created.json().feedUrl;
    expect(feedUrl.startsWith(`${PUBLIC}/feeds/`)).toBe(true);
    const feed = await t.as('anonymous', { method: 'GET', url: feedUrl.slice(PUBLIC.length) });
    expect(feed.statusCode).toBe(200);
    expect(feed.headers['content-type']).toContain('application/atom+xml');
    expect(feed.body).toContain('PAY-231 is now Live');
    expect(feed.body).not.toContain('SEC-1');
    expect((await t.as('anonymous', { method: 'GET', url: '/feeds/AAAAAAAAAAAAAAAAAAAAAAAA.atom' })).statusCode).toBe(
      404,
    );
    expect((await t.as('anonymous', { method: 'GET', url: '/feeds/short.atom' })).statusCode).toBe(404);
  });
});
