import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from '../../test/support/fake-api.js';
import { loadConfig } from '../config.js';
import { insertPortalItem, insertStageChange } from '../connectors/notify/notify.test-helper.js';
import { WEBHOOK_FAILURE_FOR_MEMBERS } from '../connectors/notify/webhook.sender.js';
import { parseOutboundAllow } from '../connectors/outbound.address.js';
import { buildNotificationSenders, dispatch, fanOut } from '../services/notifications.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

const PUBLIC = 'https://lanes.acme.example';
const item = { kind: 'item', key: 'PAY-231' };

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe.each(testEngines())('webhook subscriptions and the outbound guard on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  const receivers: FakeApi[] = [];
  beforeAll(async () => {
    database = await open();
    // The admin lets webhooks reach receivers on this machine: 127.0.0.1 and ::1.
    t = await buildTestServer(database, {
      server: { publicUrl: PUBLIC, outboundAllow: parseOutboundAllow('127.0.0.1, ::1') },
    });
    await insertPortalItem(database, { key: 'PAY-231', title: 'Checkout fails' }, t.ctx.clock().toISOString());
  });
  afterAll(async () => {
    for (const r of receivers) await r.close();
    await t.server.app.close();
    await database.close();
  });

  const follow = (address: string) =>
    t.as('member', {
      method: 'POST',
      url: '/api/v1/subscriptions',
      payload: { target: item, channel: 'webhook', address },
    });

  it('answers 400 LANES_URL_FORBIDDEN for inside addresses in any notation, and stores nothing', async () => {
    for (const address of [
      'http://169.254.169.254/latest/meta-data/',
      'http://2852039166/latest/meta-data/',
      'http://127.0.0.2:8080/',
      'http://2130706434/',
      'http://[::ffff:10.0.0.1]/',
      'http://[fd00::1]/',
      'http://10.1.2.3/',
      'http://0x0a.1/',
      'http://localhost:9000/',
    ]) {
      const answer = await follow(address);
      expect(answer.statusCode, address).toBe(400);
      expect(answer.json().error.code, address).toBe('LANES_URL_FORBIDDEN');
    }
    expect((await follow('gopher://example.com/')).json().error.code).toBe('LANES_VALIDATION');
    const mine = await t.as('member', { method: 'GET', url: '/api/v1/subscriptions' });
    expect(mine.json().subscriptions).toEqual([]);
    // A public name is accepted at once; it is judged again, on what it resolves to, at every send.
    const accepted = await follow('https://hooks.acme.example/lanes');
    expect(accepted.statusCode).toBe(201);
    await t.as('member', { method: 'DELETE', url: `/api/v1/subscriptions/${accepted.json().id}` });
  });

  it('shows a member one sentence for a closed port, a 500, a timeout and a refused address; admins see why', async () => {
    const failing = await startFakeApi(() => ({ status: 500 }));
    const hanging = await startFakeApi(() => ({ hang: true }));
    receivers.push(failing, hanging);
    const closedPort = await freePort();
    const ids: Record<string, string> = {};
    for (const [name, address] of Object.entries({
      closed: `http://127.0.0.1:${closedPort}/in`,
      error500: `${failing.url}/in`,
      timeout: `${hanging.url}/in`,
      refused: `http://[::1]:${closedPort}/in`,
    })) {
      const created = await follow(address);
      expect(created.statusCode, name).toBe(201);
      ids[name] = created.json().id as string;
    }
    await insertStageChange(database, {
      id: 'sc-1',
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: t.ctx.clock().toISOString(),
    });
    await fanOut(t.ctx);
    // Since then the admin narrowed LANES_OUTBOUND_ALLOW to 127.0.0.1: the [::1] subscription is refused when sent.
    const { outboundAllow } = loadConfig({ LANES_OUTBOUND_ALLOW: '127.0.0.1' }, '/tmp');
    const senders = buildNotificationSenders({}, { publicUrl: PUBLIC, outboundAllow, webhookTimeoutMs: 300 });
    // A clock that moves: how long a send took (the timeout) must not show in when it is tried again.
    const base = t.ctx.clock().getTime() - Date.now();
    const moving = { ...t.ctx, clock: () => new Date(base + Date.now()) };
    const result = await dispatch(moving, senders, { publicUrl: PUBLIC, random: () => 0.5 });
    await senders.close?.();
    expect(result).toMatchObject({ sent: 0, retrying: 3, dead: 1 });
    expect(failing.requests).toHaveLength(1);
    expect(hanging.requests).toHaveLength(1);

    const logAs = async (role: 'member' | 'admin', name: string) => {
      const answer = await t.as(role, { method: 'GET', url: `/api/v1/subscriptions/${ids[name]}/deliveries` });
      expect(answer.statusCode).toBe(200);
      const [delivery] = answer.json().deliveries as Array<Record<string, unknown>>;
      return delivery!;
    };
    const seen = async (role: 'member' | 'admin', name: string) => {
      const { id: _id, subscriptionId: _sub, ...rest } = await logAs(role, name);
      return rest;
    };
    // The member: the same row for a closed port, a 500 and a timeout (nothing tells ports apart).
    const closed = await seen('member', 'closed');
    expect(closed).toMatchObject({ status: 'failed', attempts: 1, lastError: WEBHOOK_FAILURE_FOR_MEMBERS });
    expect(await seen('member', 'error500')).toEqual(closed);
    expect(await seen('member', 'timeout')).toEqual(closed);
    expect(await seen('member', 'refused')).toMatchObject({ status: 'dead', lastError: WEBHOOK_FAILURE_FOR_MEMBERS });
    expect(JSON.stringify(closed)).not.toContain(String(closedPort));

    // The admin sees the detail, in the log and in the dead letters.
    expect((await logAs('admin', 'closed')).lastError).toContain('ECONNREFUSED');
    expect((await logAs('admin', 'error500')).lastError).toBe('webhook answered HTTP 500');
    expect((await logAs('admin', 'timeout')).lastError).toBe('webhook failed: timed out after 300 ms');
    const dead = await t.as('admin', { method: 'GET', url: '/api/v1/notifications/dead' });
    expect(dead.json().deliveries).toEqual([
      expect.objectContaining({
        subscriptionId: ids['refused'],
        lastError: 'webhook refused: ::1 is a loopback address',
      }),
    ]);
    expect((await t.as('member', { method: 'GET', url: '/api/v1/notifications/dead' })).statusCode).toBe(403);
  });
});
