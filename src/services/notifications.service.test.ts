import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { startFakeApi, type FakeApi, type FakeRequest } from '../../test/support/fake-api.js';
import {
  insertPortalItem,
  insertStageChange,
  setPortalVisible,
  startLocalSmtp,
  type LocalSmtp,
} from '../connectors/notify/notify.test-helper.js';
import type { NotificationSenders } from '../connectors/notify/notify.types.js';
import { WEBHOOK_FAILURE_FOR_MEMBERS } from '../connectors/notify/webhook.sender.js';
import { parseOutboundAllow } from '../connectors/outbound.address.js';
import type { User, UserRole } from '../domain/access.js';
import { verifyWebhookSignature } from '../domain/notification.js';
import { openDatabase, type Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import * as repo from '../store/notification.repository.js';
import type { ServiceContext } from './context.js';
import {
  buildNotificationSenders,
  createNotifier,
  deliveryIdOf,
  dispatch,
  fanOut,
  listDeadLetters,
  listMySubscriptions,
  listSubscriptionDeliveries,
  renderFeed,
  retryDead,
  subscribe,
  unsubscribeById,
  unsubscribeByToken,
  type NotifierOptions,
} from './notifications.service.js';

const PUBLIC = 'https://lanes.acme.example';
/** The test receivers listen on 127.0.0.1, which webhooks may reach only when allowed (LANES_OUTBOUND_ALLOW). */
const RECEIVERS_ON_LOOPBACK = parseOutboundAllow('127.0.0.1');
const START = Date.parse('2026-06-01T10:00:00.000Z');
const FROM = 'Lanes <lanes@acme.example>';

const person = (id: string, role: UserRole = 'stakeholder'): User => ({
  id,
  email: `${id}@acme.example`,
  name: id,
  role,
  createdAt: new Date(START).toISOString(),
});
const ana = person('ana');
const mo = person('mo', 'member');
const admin = person('root', 'admin');

interface Clock {
  now: number;
}

const contextOf = (database: Database, clock: Clock): ServiceContext => ({
  database,
  logger: pino({ level: 'silent' }),
  clock: () => new Date(clock.now),
  newId: randomUUID,
  charter: () => undefined,
});

const options = (extra: Partial<NotifierOptions> = {}): NotifierOptions => ({
  publicUrl: PUBLIC,
  random: () => 0.5,
  ...extra,
});

const iso = (ms: number) => new Date(ms).toISOString();

/** The raw header, unfolded. */
const header = (raw: Buffer, name: string): string | undefined => {
  const text = raw
    .toString('utf8')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n[ \t]+/g, ' ');
  return new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(text)?.[1]?.trim();
};

describe.each(testEngines())('notifications on $engine', ({ open }) => {
  let database: Database;
  let clock: Clock;
  let ctx: ServiceContext;
  let smtp: LocalSmtp;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    database = await open();
    clock = { now: START };
    ctx = contextOf(database, clock);
    smtp = await startLocalSmtp();
    await insertPortalItem(database, { key: 'PAY-231', title: 'Checkout fails for EU cards' }, iso(START));
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await smtp.close();
    await database.close();
  });

  const emailSenders = (url = smtp.url): NotificationSenders => {
    const senders = buildNotificationSenders({ LANES_SMTP_URL: url, LANES_MAIL_FROM: FROM }, { publicUrl: PUBLIC });
    closers.push(async () => senders.close?.());
    return senders;
  };

  const fakeApi = async (answer: Parameters<typeof startFakeApi>[0]): Promise<FakeApi> => {
    const api = await startFakeApi(answer);
    closers.push(() => api.close());
    return api;
  };

  it('e-mails a stage change once, with one-click unsubscribe headers, a stable Message-ID and plain words', async () => {
    const login = await startLocalSmtp({ auth: { user: 'lanes', pass: 'p@ss word' } });
    closers.push(() => login.close());
    const { subscription, created } = await subscribe(
      ctx,
      ana,
      { target: { kind: 'item', key: 'PAY-231' } },
      {
        publicUrl: PUBLIC,
      },
    );
    expect(created).toBe(true);
    expect(subscription).toMatchObject({ channel: 'email', address: 'ana@acme.example', cadence: 'immediate' });
    // Following again returns the same subscription.
    const again = await subscribe(ctx, ana, { target: { kind: 'item', key: 'PAY-231' } }, { publicUrl: PUBLIC });
    expect(again).toMatchObject({ created: false, subscription: { id: subscription.id } });

    await insertStageChange(database, {
      id: 'sc-1',
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: iso(START),
    });
    const notifier = createNotifier(ctx, emailSenders(login.url), options());
    const first = await notifier.runOnce();
    expect(first.fanOut).toMatchObject({ changes: 1, deliveries: 1 });
    expect(first.dispatch).toMatchObject({ sent: 1, retrying: 0, dead: 0 });
    const second = await notifier.runOnce();
    expect(second.fanOut.changes).toBe(0);
    expect(second.dispatch.sent).toBe(0);
    await notifier.close();

    expect(login.raw).toHaveLength(1);
    const raw = login.raw[0]!;
    const [mail] = await login.parsed();
    expect(mail!.subject).toBe('PAY-231 is now Live');
    expect(mail!.from?.value[0]).toMatchObject({ name: 'Lanes', address: 'lanes@acme.example' });
    expect(mail!.to && !Array.isArray(mail!.to) ? mail!.to.text : '').toBe('ana@acme.example');
    expect(mail!.messageId).toBe(`<${deliveryIdOf(subscription.id, 'sc-1')}@lanes.acme.example>`);
    expect(header(raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(header(raw, 'Auto-Submitted')).toBe('auto-generated');
    const listUnsubscribe = header(raw, 'List-Unsubscribe')!;
    expect(listUnsubscribe).toMatch(/^<https:\/\/lanes\.acme\.example\/unsubscribe\?token=[^>]+>/);
    expect(mail!.text).toContain('It moved from Fix ready (awaiting release) to Live on 1 June 2026, 10:00 UTC.');
    expect(mail!.text).toContain('What changed it: Deployed to production (deploy-8812)');
    expect(mail!.text).toContain(`${PUBLIC}/portal/items/PAY-231`);
    expect(mail!.html).toContain('Unsubscribe</a>');

    const log = await listSubscriptionDeliveries(ctx, ana, subscription.id);
    expect(log).toEqual([
      expect.objectContaining({ itemKey: 'PAY-231', toStage: 'live', status: 'sent', attempts: 1, lastError: null }),
    ]);
    await expect(listSubscriptionDeliveries(ctx, mo, subscription.id)).rejects.toMatchObject({
      code: 'LANES_NOT_FOUND',
    });
    expect(await listSubscriptionDeliveries(ctx, admin, subscription.id)).toHaveLength(1);

    // The link in the header unsubscribes.
    const token = decodeURIComponent(/token=([^>]+)>/.exec(listUnsubscribe)![1]!);
    expect(await unsubscribeByToken(ctx, token)).toMatchObject({ subscriptionId: subscription.id, active: false });
    expect(await listMySubscriptions(ctx, ana)).toEqual([]);
  });

  it('never notifies about items stakeholders may not see, nor about ones hidden before sending', async () => {
    await subscribe(ctx, ana, { target: { kind: 'team', team: 'payments' } }, { publicUrl: PUBLIC });
    await insertPortalItem(database, { key: 'SEC-1', title: 'Token leak', visible: false }, iso(START));
    await insertPortalItem(database, { key: 'PAY-2', title: 'Refunds slow' }, iso(START));
    await expect(
      subscribe(ctx, ana, { target: { kind: 'item', key: 'SEC-1' } }, { publicUrl: PUBLIC }),
    ).rejects.toMatchObject({ code: 'LANES_NOT_FOUND', message: 'no item SEC-1' });
    await expect(
      subscribe(ctx, ana, { target: { kind: 'item', key: 'NOPE-1' } }, { publicUrl: PUBLIC }),
    ).rejects.toMatchObject({ code: 'LANES_NOT_FOUND', message: 'no item NOPE-1' });

    await insertStageChange(database, {
      id: 'sc-sec',
      itemKey: 'SEC-1',
      from: 'reported',
      to: 'being_fixed',
      at: iso(START),
    });
    await insertStageChange(database, {
      id: 'sc-pay',
      itemKey: 'PAY-231',
      from: 'reported',
      to: 'acknowledged',
      at: iso(START),
    });
    await insertStageChange(database, {
      id: 'sc-2',
      itemKey: 'PAY-2',
      from: 'reported',
      to: 'scheduled',
      at: iso(START),
    });
    expect(await fanOut(ctx)).toEqual({ changes: 3, deliveries: 2, invisible: 1, old: 0 });
    await setPortalVisible(database, 'PAY-2', false);
    const sent = await dispatch(ctx, emailSenders(), options());
    expect(sent).toMatchObject({ sent: 1, skipped: 1 });
    const subjects = (await smtp.parsed()).map((m) => m.subject);
    expect(subjects).toEqual(['PAY-231 is now Acknowledged']);
    expect(JSON.stringify(await smtp.parsed())).not.toContain('SEC-1');
  });

  it('does not notify history that arrives late (a backfill), only recent changes', async () => {
    await subscribe(ctx, ana, { target: { kind: 'item', key: 'PAY-231' } }, { publicUrl: PUBLIC });
    await insertStageChange(database, {
      id: 'old',
      itemKey: 'PAY-231',
      from: 'reported',
      to: 'acknowledged',
      at: '2025-01-01T00:00:00.000Z',
    });
    await insertStageChange(database, {
      id: 'new',
      itemKey: 'PAY-231',
      from: 'acknowledged',
      to: 'scheduled',
      at: iso(START),
    });
    expect(await fanOut(ctx)).toMatchObject({ changes: 2, deliveries: 1, old: 1 });
  });

  it('makes a refused mailbox (SMTP 5xx) a dead letter at once and retries a temporary refusal (4xx)', async () => {
    const picky = await startLocalSmtp({
      refuse: (to) =>
        to.startsWith('gone@')
          ? { code: 550, message: 'No such user' }
          : to.startsWith('busy@')
            ? { code: 451, message: 'Try again later' }
            : undefined,
    });
    closers.push(() => picky.close());
    // Each their own address: another's would wait for its confirmation (subscription.consent.test.ts).
    for (const name of ['gone', 'busy', 'fine']) {
      await subscribe(ctx, person(name), { target: { kind: 'item', key: 'PAY-231' } }, { publicUrl: PUBLIC });
    }
    await insertStageChange(database, {
      id: 'sc-1',
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: iso(START),
    });
    await fanOut(ctx);
    expect(await dispatch(ctx, emailSenders(picky.url), options())).toMatchObject({ sent: 1, dead: 1, retrying: 1 });
    const [dead] = await listDeadLetters(ctx);
    expect(dead!.lastError).toContain('SMTP 550');
    expect((await picky.parsed()).map((m) => m.to && !Array.isArray(m.to) && m.to.text)).toEqual(['fine@acme.example']);
  });

  it('posts to Slack with the bot token; a channel that does not exist is a dead letter at once', async () => {
    const slack = await fakeApi((req: FakeRequest) =>
      (JSON.parse(req.body) as { channel: string }).channel === 'C0GONE'
        ? { body: { ok: false, error: 'channel_not_found' } }
        : { body: { ok: true, ts: '1.2' } },
    );
    const senders = buildNotificationSenders(
      { LANES_SLACK_BOT_TOKEN: 'xoxb-test', LANES_SLACK_API_URL: `${slack.url}/api/` },
      { publicUrl: PUBLIC },
    );
    await subscribe(
      ctx,
      mo,
      { target: { kind: 'item', key: 'PAY-231' }, channel: 'slack', address: 'C0RELEASES' },
      {
        publicUrl: PUBLIC,
      },
    );
    await subscribe(
      ctx,
      mo,
      { target: { kind: 'item', key: 'PAY-231' }, channel: 'slack', address: 'C0GONE' },
      {
        publicUrl: PUBLIC,
      },
    );
    await expect(
      subscribe(ctx, mo, { target: { kind: 'item', key: 'PAY-231' }, channel: 'slack' }, { publicUrl: PUBLIC }),
    ).rejects.toMatchObject({ code: 'LANES_VALIDATION' });
    await insertStageChange(database, {
      id: 'sc-1',
      itemKey: 'PAY-231',
      from: 'fix_in_review',
      to: 'fix_ready',
      at: iso(START),
    });
    await fanOut(ctx);
    expect(await dispatch(ctx, senders, options())).toMatchObject({ sent: 1, dead: 1, retrying: 0 });

    expect(slack.requests).toHaveLength(2);
    const ok = slack.requests.find((r) => r.body.includes('C0RELEASES'))!;
    expect(ok.path).toBe('/api/chat.postMessage');
    expect(ok.headers.authorization).toBe('Bearer xoxb-test');
    const body = JSON.parse(ok.body) as { text: string; unfurl_links: boolean };
    expect(body.text).toContain('PAY-231 is now Fix ready (awaiting release)');
    expect(body.text).toContain(`${PUBLIC}/unsubscribe?token=`);
    expect(body.unfurl_links).toBe(false);
    const dead = await listDeadLetters(ctx);
    expect(dead).toEqual([expect.objectContaining({ itemKey: 'PAY-231', status: 'dead', attempts: 1 })]);
    expect(dead[0]!.lastError).toContain('channel_not_found');
  });

  it('signs webhooks, retries a 500 with backoff, and delivers once with the same delivery id', async () => {
    let secret = '';
    const verified: boolean[] = [];
    const hook = await fakeApi((req: FakeRequest) => {
      verified.push(
        verifyWebhookSignature({
          secret,
          signature: req.headers['x-lanes-signature'] as string,
          timestamp: req.headers['x-lanes-timestamp'] as string,
          body: req.body,
          nowSeconds: Math.floor(Date.now() / 1000),
        }),
      );
      return { status: verified.length === 1 ? 500 : 204 };
    });
    await expect(
      subscribe(
        ctx,
        ana,
        { target: { kind: 'item', key: 'PAY-231' }, channel: 'webhook', address: `${hook.url}/in` },
        {
          publicUrl: PUBLIC,
        },
      ),
    ).rejects.toMatchObject({ code: 'LANES_FORBIDDEN' });
    await expect(
      subscribe(
        ctx,
        mo,
        { target: { kind: 'item', key: 'PAY-231' }, channel: 'webhook', address: 'ftp://x.example/' },
        {
          publicUrl: PUBLIC,
        },
      ),
    ).rejects.toMatchObject({ code: 'LANES_VALIDATION' });
    const { subscription } = await subscribe(
      ctx,
      mo,
      { target: { kind: 'item', key: 'PAY-231' }, channel: 'webhook', address: `${hook.url}/in` },
      { publicUrl: PUBLIC, outboundAllow: RECEIVERS_ON_LOOPBACK },
    );
    secret = subscription.webhookSecret!;
    expect(secret).toMatch(/^whsec_/);

    await insertStageChange(database, {
      id: 'sc-1',
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: iso(START),
    });
    const notifier = createNotifier(
      ctx,
      buildNotificationSenders({}, { publicUrl: PUBLIC, outboundAllow: RECEIVERS_ON_LOOPBACK }),
      options({
        retry: { baseMs: 60_000, capMs: 600_000, maxAttempts: 5 },
      }),
    );
    expect((await notifier.runOnce()).dispatch).toMatchObject({ sent: 0, retrying: 1 });
    const [failed] = await listSubscriptionDeliveries(ctx, mo, subscription.id);
    // 60 s × (0.5 + 0.5 / 2) with the test's fixed jitter.
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, nextAttemptAt: iso(START + 45_000) });
    // The member reads one sentence for every webhook failure; an admin reads why.
    expect(failed!.lastError).toBe(WEBHOOK_FAILURE_FOR_MEMBERS);
    expect((await listSubscriptionDeliveries(ctx, admin, subscription.id))[0]!.lastError).toContain('HTTP 500');
    expect((await notifier.runOnce()).dispatch.sent).toBe(0);
    clock.now = START + 44_000;
    expect((await notifier.runOnce()).dispatch.sent).toBe(0);
    clock.now = START + 46_000;
    expect((await notifier.runOnce()).dispatch.sent).toBe(1);
    clock.now = START + 3_600_000;
    expect((await notifier.runOnce()).dispatch.sent).toBe(0);
    await notifier.close();

    expect(hook.requests).toHaveLength(2);
    expect(verified).toEqual([true, true]);
    const ids = hook.requests.map((r) => r.headers['x-lanes-delivery']);
    expect(ids[0]).toBe(deliveryIdOf(subscription.id, 'sc-1'));
    expect(ids[1]).toBe(ids[0]);
    expect(hook.requests[0]!.headers['x-lanes-event']).toBe('item.stage_changed');
    expect(JSON.parse(hook.requests[1]!.body)).toMatchObject({
      id: ids[0],
      type: 'item.stage_changed',
      item: { key: 'PAY-231', url: `${PUBLIC}/portal/items/PAY-231` },
      to: 'live',
    });
    expect(await listSubscriptionDeliveries(ctx, mo, subscription.id)).toEqual([
      expect.objectContaining({ status: 'sent', attempts: 2, lastError: null }),
    ]);
  });

  it('gives up after the last attempt (a dead letter) and sends it when an admin retries', async () => {
    let healthy = false;
    const hook = await fakeApi(() => ({ status: healthy ? 200 : 503 }));
    await subscribe(
      ctx,
      mo,
      { target: { kind: 'item', key: 'PAY-231' }, channel: 'webhook', address: hook.url },
      { publicUrl: PUBLIC, outboundAllow: RECEIVERS_ON_LOOPBACK },
    );
    await insertStageChange(database, {
      id: 'sc-1',
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: iso(START),
    });
    const notifier = createNotifier(
      ctx,
      buildNotificationSenders({}, { publicUrl: PUBLIC, outboundAllow: RECEIVERS_ON_LOOPBACK }),
      options({
        retry: { baseMs: 1000, capMs: 1000, maxAttempts: 2 },
      }),
    );
    expect((await notifier.runOnce()).dispatch).toMatchObject({ retrying: 1 });
    clock.now += 2000;
    expect((await notifier.runOnce()).dispatch).toMatchObject({ dead: 1 });
    clock.now += 3_600_000;
    expect((await notifier.runOnce()).dispatch).toMatchObject({ sent: 0, retrying: 0, dead: 0 });
    const [dead] = await listDeadLetters(ctx);
    expect(dead).toMatchObject({ status: 'dead', attempts: 2 });
    expect(dead!.lastError).toContain('gave up after 2 attempts');
    expect(hook.requests).toHaveLength(2);

    healthy = true;
    expect(await retryDead(ctx, dead!.id)).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await notifier.runOnce()).dispatch).toMatchObject({ sent: 1 });
    expect(await listDeadLetters(ctx)).toEqual([]);
    await expect(retryDead(ctx, dead!.id)).rejects.toMatchObject({ code: 'LANES_CONFLICT' });
    await expect(retryDead(ctx, 'nope')).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
    expect(hook.requests).toHaveLength(3);
    await notifier.close();
  });

  it('stops at once when unsubscribed (by link or by owner); forged links and strangers get "not found"', async () => {
    const { subscription: byLink } = await subscribe(
      ctx,
      ana,
      { target: { kind: 'item', key: 'PAY-231' } },
      {
        publicUrl: PUBLIC,
      },
    );
    const { subscription: byOwner } = await subscribe(
      ctx,
      ana,
      { target: { kind: 'component', component: 'checkout' }, address: 'ANA@acme.example' },
      { publicUrl: PUBLIC },
    );
    await insertStageChange(database, {
      id: 'sc-1',
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: iso(START),
    });
    expect((await fanOut(ctx)).deliveries).toBe(2);

    const { unsubscribeLink } = await import('./notifications.service.js');
    const link = await unsubscribeLink(ctx, PUBLIC, byLink.id);
    const token = new URL(link).searchParams.get('token')!;
    await expect(unsubscribeByToken(ctx, `${token.slice(0, -2)}xx`)).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
    await unsubscribeByToken(ctx, token);
    // A second click is harmless.
    expect(await unsubscribeByToken(ctx, token)).toMatchObject({ active: false });
    await expect(unsubscribeById(ctx, mo, byOwner.id)).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
    await unsubscribeById(ctx, ana, byOwner.id);
    await expect(unsubscribeById(ctx, ana, byOwner.id)).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });

    expect(await dispatch(ctx, emailSenders(), options())).toMatchObject({ sent: 0 });
    expect(smtp.raw).toHaveLength(0);
    expect((await listSubscriptionDeliveries(ctx, ana, byLink.id))[0]).toMatchObject({
      status: 'skipped',
      lastError: 'unsubscribed',
    });
    await insertStageChange(database, { id: 'sc-2', itemKey: 'PAY-231', from: 'live', to: 'verified', at: iso(START) });
    expect((await fanOut(ctx)).deliveries).toBe(0);
  });

  it('collects daily and weekly digests and sends each as one message at the digest time', async () => {
    await insertPortalItem(database, { key: 'PAY-2', title: 'Refunds slow' }, iso(START));
    await subscribe(
      ctx,
      ana,
      { target: { kind: 'component', component: 'checkout' }, cadence: 'daily' },
      {
        publicUrl: PUBLIC,
      },
    );
    await subscribe(ctx, ana, { target: { kind: 'team', team: 'payments' }, cadence: 'weekly' }, { publicUrl: PUBLIC });
    await insertStageChange(database, {
      id: 'sc-a',
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: iso(START),
    });
    await insertStageChange(database, {
      id: 'sc-b',
      itemKey: 'PAY-2',
      from: 'scheduled',
      to: 'being_fixed',
      at: iso(START),
    });
    const notifier = createNotifier(ctx, emailSenders(), options());
    expect((await notifier.runOnce()).fanOut.deliveries).toBe(4);
    expect(smtp.raw).toHaveLength(0);

    clock.now = Date.parse('2026-06-02T08:59:00.000Z');
    expect((await notifier.runOnce()).dispatch.sent).toBe(0);
    clock.now = Date.parse('2026-06-02T09:00:01.000Z');
    expect((await notifier.runOnce()).dispatch).toMatchObject({ digests: 1, sent: 2 });
    expect((await notifier.runOnce()).dispatch.sent).toBe(0);
    let mails = await smtp.parsed();
    expect(mails.map((m) => m.subject)).toEqual(['Daily digest: 2 stage changes on 2 items']);
    expect(mails[0]!.text).toContain('PAY-231 is now Live');
    expect(mails[0]!.text).toContain('PAY-2 is now Being fixed');
    expect(mails[0]!.text).toContain('because you follow the component checkout');

    // 2026-06-08 is the Monday after.
    clock.now = Date.parse('2026-06-08T09:00:01.000Z');
    expect((await notifier.runOnce()).dispatch).toMatchObject({ digests: 1, sent: 2 });
    mails = await smtp.parsed();
    expect(mails.map((m) => m.subject)).toEqual([
      'Daily digest: 2 stage changes on 2 items',
      'Weekly digest: 2 stage changes on 2 items',
    ]);
    expect(header(smtp.raw[1]!, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    await notifier.close();
  });

  it('sends a delivery claimed by a crashed instance once, after its lease runs out', async () => {
    const { subscription } = await subscribe(
      ctx,
      ana,
      { target: { kind: 'item', key: 'PAY-231' } },
      {
        publicUrl: PUBLIC,
      },
    );
    await insertStageChange(database, {
      id: 'sc-1',
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: iso(START),
    });
    await fanOut(ctx);
    // An instance claims it and dies before sending.
    const claimed = await repo.claimDueDeliveries(
      database,
      { now: iso(clock.now), until: iso(clock.now + 120_000), by: 'crashed' },
      10,
    );
    expect(claimed).toHaveLength(1);

    // A restarted instance (a new notifier) leaves it alone while the lease holds...
    const restarted = createNotifier(ctx, emailSenders(), options());
    expect((await restarted.runOnce()).dispatch.sent).toBe(0);
    clock.now += 119_000;
    expect((await restarted.runOnce()).dispatch.sent).toBe(0);
    // ...and sends it once the lease has run out.
    clock.now += 2000;
    expect((await restarted.runOnce()).dispatch.sent).toBe(1);
    expect((await restarted.runOnce()).dispatch.sent).toBe(0);
    await restarted.close();
    expect(smtp.raw).toHaveLength(1);
    // The crashed instance cannot write an outcome over it any more.
    expect(await repo.finishDeliveries(database, [claimed[0]!.id], 'crashed', { status: 'dead', error: 'x' })).toBe(0);
    expect(await listSubscriptionDeliveries(ctx, ana, subscription.id)).toEqual([
      expect.objectContaining({ status: 'sent', attempts: 2 }),
    ]);
  });

  it('matches saved searches in the new stage, and serves their Atom feed with only visible items', async () => {
    await insertPortalItem(database, { key: 'PAY-1', title: 'EU cards <declined> & "retried"' }, iso(START));
    await insertPortalItem(database, { key: 'SEC-9', title: 'EU cards secret', visible: false }, iso(START));
    await insertPortalItem(database, { key: 'PAY-3', title: 'US cards' }, iso(START));
    await subscribe(
      ctx,
      ana,
      { target: { kind: 'search', name: 'EU going live', search: { q: 'EU cards', stage: 'live' } } },
      { publicUrl: PUBLIC },
    );
    const { subscription: feed } = await subscribe(
      ctx,
      ana,
      { target: { kind: 'search', name: 'EU <cards>', search: { q: 'EU cards' } }, channel: 'feed' },
      { publicUrl: PUBLIC },
    );
    expect(feed.feedUrl).toMatch(/^https:\/\/lanes\.acme\.example\/feeds\/[A-Za-z0-9_-]{32}\.atom$/);
    await expect(
      subscribe(
        ctx,
        ana,
        { target: { kind: 'item', key: 'PAY-1' }, channel: 'feed', address: 'x@y.z' },
        {
          publicUrl: PUBLIC,
        },
      ),
    ).rejects.toMatchObject({ code: 'LANES_VALIDATION' });

    await insertStageChange(database, {
      id: 'sc-1',
      itemKey: 'PAY-1',
      from: 'reported',
      to: 'being_fixed',
      at: iso(START),
    });
    await insertStageChange(database, {
      id: 'sc-2',
      itemKey: 'PAY-1',
      from: 'fix_ready',
      to: 'live',
      at: iso(START + 1000),
    });
    await insertStageChange(database, { id: 'sc-3', itemKey: 'SEC-9', from: 'fix_ready', to: 'live', at: iso(START) });
    await insertStageChange(database, { id: 'sc-4', itemKey: 'PAY-3', from: 'fix_ready', to: 'live', at: iso(START) });
    clock.now = START + 2000;
    // Only the EU item going live reaches the e-mail search; the feed gets no deliveries.
    expect(await fanOut(ctx)).toMatchObject({ changes: 4, deliveries: 1, invisible: 1 });

    const token = /feeds\/(.+)\.atom$/.exec(feed.feedUrl!)![1]!;
    const xml = await renderFeed(ctx, token, { publicUrl: PUBLIC });
    expect(xml).toContain('<feed xmlns="http://www.w3.org/2005/Atom">');
    expect(xml).toContain('PAY-1 is now Live');
    expect(xml).toContain('PAY-1 is now Being fixed');
    // Atom titles and summaries are type="html": text from a source is escaped HTML inside them.
    expect(xml).toContain('EU cards &lt;declined&gt; &amp; &quot;retried&quot;');
    expect(xml).not.toContain('<declined>');
    expect(xml).toContain('<title>Lanes: stage changes — the saved search “EU &lt;cards&gt;”</title>');
    expect(xml).not.toContain('SEC-9');
    expect(xml).not.toContain('PAY-3');
    expect(xml).toContain(`${PUBLIC}/portal/items/PAY-1`);
    expect(xml.indexOf('is now Live')).toBeLessThan(xml.indexOf('is now Being fixed'));
    await expect(renderFeed(ctx, 'x'.repeat(32), { publicUrl: PUBLIC })).rejects.toMatchObject({
      code: 'LANES_NOT_FOUND',
    });
    await unsubscribeById(ctx, ana, feed.id);
    await expect(renderFeed(ctx, token, { publicUrl: PUBLIC })).rejects.toMatchObject({ code: 'LANES_NOT_FOUND' });
  });

  it('refuses bad addresses', async () => {
    for (const input of [
      { target: { kind: 'item', key: 'PAY-231' }, address: 'not-an-address' },
      { target: { kind: 'item', key: 'PAY-231' }, channel: 'slack', address: '<!channel>' },
      { target: { kind: 'item', key: 'PAY-231' }, channel: 'webhook', address: 'http://user:pw@127.0.0.1/' },
      { target: { kind: 'item', key: 'PAY-231' }, channel: 'pigeon' },
      { target: { kind: 'nope' } },
    ]) {
      await expect(subscribe(ctx, mo, input, { publicUrl: PUBLIC }), JSON.stringify(input)).rejects.toMatchObject({
        code: 'LANES_VALIDATION',
      });
    }
  });
});

/** Two instances (two processes' worth of pools, senders and claims) on one PostgreSQL. */
describe.runIf(inject('pgUrl'))('two notifiers on one PostgreSQL', () => {
  it('deliver each (subscription, stage change) exactly once to the SMTP server', { timeout: 60_000 }, async () => {
    const pgUrl = inject('pgUrl')!;
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const a = await openDatabase({ url: pgUrl, pgSchema: schema, poolSize: 4 });
    const b = await openDatabase({ url: pgUrl, pgSchema: schema, poolSize: 4 });
    const smtp = await startLocalSmtp({ headersOnly: true });
    const realClock = () => new Date();
    const ctxA: ServiceContext = { ...contextOf(a, { now: 0 }), clock: realClock };
    const ctxB: ServiceContext = { ...contextOf(b, { now: 0 }), clock: realClock };
    try {
      const now = new Date().toISOString();
      const SUBSCRIBERS = 150;
      const CHANGES = 8;
      for (let i = 0; i < 4; i++) await insertPortalItem(a, { key: `PAY-${i}` }, now);
      for (let i = 0; i < SUBSCRIBERS; i++) {
        await subscribe(ctxA, person(`u${i}`), { target: { kind: 'team', team: 'payments' } }, { publicUrl: PUBLIC });
      }
      for (let i = 0; i < CHANGES; i++) {
        await insertStageChange(a, {
          id: `sc-${i}`,
          itemKey: `PAY-${i % 4}`,
          from: 'reported',
          to: 'acknowledged',
          at: now,
        });
      }
      const sentBy = { a: 0, b: 0 };
      const senders = (instance: 'a' | 'b'): NotificationSenders => {
        const real = buildNotificationSenders(
          { LANES_SMTP_URL: smtp.url, LANES_MAIL_FROM: FROM },
          { publicUrl: PUBLIC },
        );
        return {
          ...real,
          email: async (n) => {
            await real.email!(n);
            sentBy[instance] += 1;
          },
        };
      };
      const common = { publicUrl: PUBLIC, intervalMs: 20, batchSize: 50, concurrency: 8 };
      const one = createNotifier(ctxA, senders('a'), { ...common, instanceId: 'a' });
      const two = createNotifier(ctxB, senders('b'), { ...common, instanceId: 'b' });
      one.start();
      two.start();
      const expected = SUBSCRIBERS * CHANGES;
      const deadline = Date.now() + 45_000;
      while (smtp.raw.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // A little longer, so a duplicate would have time to arrive.
      await new Promise((r) => setTimeout(r, 500));
      await Promise.all([one.close(), two.close()]);

      const ids = smtp.messageIds();
      expect(ids).toHaveLength(expected);
      expect(new Set(ids).size).toBe(expected);
      // Both instances did part of the work.
      expect(sentBy.a + sentBy.b).toBe(expected);
      expect(sentBy.a).toBeGreaterThan(0);
      expect(sentBy.b).toBeGreaterThan(0);
      const statuses = await a.db
        .selectFrom('notification_delivery')
        .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
        .groupBy('status')
        .execute();
      expect(statuses.map((s) => [s.status, Number(s.n)])).toEqual([['sent', expected]]);
      const handledBy = await a.db.selectFrom('item_stage_change').select('fanned_out_at').execute();
      expect(handledBy.every((r) => r.fanned_out_at !== null)).toBe(true);
    } finally {
      await smtp.close();
      await a.close();
      await b.close();
    }
  });
});
