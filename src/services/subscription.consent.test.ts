import { createHash, randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  insertPortalItem,
  insertStageChange,
  startLocalSmtp,
  type LocalSmtp,
} from '../connectors/notify/notify.test-helper.js';
import type { NotificationSenders } from '../connectors/notify/notify.types.js';
import type { User, UserRole } from '../domain/access.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import type { ServiceContext } from './context.js';
import { buildNotificationSenders, createNotifier, listMySubscriptions, subscribe } from './notifications.service.js';
import { answerConsent, describeConsent } from './subscription.consent.js';

const PUBLIC = 'https://lanes.acme.example';
const START = Date.parse('2026-06-01T10:00:00.000Z');
const DAY = 86_400_000;
const BOB = 'bob@elsewhere.example';
/** What a subscriber might type to turn Lanes into a phishing relay. */
const BAIT = 'You won a prize: log in at http://evil.example';

const person = (id: string, role: UserRole = 'stakeholder'): User => ({
  id,
  email: `${id}@acme.example`,
  name: `${id[0]!.toUpperCase()}${id.slice(1)} Doe`,
  role,
  createdAt: new Date(START).toISOString(),
});
const ana = person('ana');
const mo = person('mo', 'member');

const iso = (ms: number) => new Date(ms).toISOString();
const to = (mail: { to?: unknown }) => (mail.to as { text: string } | undefined)?.text;

describe.each(testEngines())('consent for e-mail to another address on $engine', ({ open }) => {
  let database: Database;
  let clock: { now: number };
  let ctx: ServiceContext;
  let smtp: LocalSmtp;
  let senders: NotificationSenders;

  beforeEach(async () => {
    database = await open();
    clock = { now: START };
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => new Date(clock.now),
      newId: randomUUID,
      charter: () => undefined,
    };
    smtp = await startLocalSmtp();
    senders = buildNotificationSenders(
      { LANES_SMTP_URL: smtp.url, LANES_MAIL_FROM: 'Lanes <lanes@acme.example>' },
      { publicUrl: PUBLIC },
    );
    await insertPortalItem(database, { key: 'PAY-231', title: 'Checkout fails for EU cards' }, iso(START));
  });
  afterEach(async () => {
    await senders.close?.();
    await smtp.close();
    await database.close();
  });

  const notifier = () => createNotifier(ctx, senders, { publicUrl: PUBLIC, random: () => 0.5 });
  const follow = (user: User, input: Record<string, unknown>, limits = {}) =>
    subscribe(ctx, user, input, { publicUrl: PUBLIC, limits });
  const stageChange = (id: string) =>
    insertStageChange(database, { id, itemKey: 'PAY-231', from: 'fix_ready', to: 'live', at: iso(clock.now) });
  /** The confirm and decline tokens of every confirmation e-mail, in order. */
  const tokensOf = async () =>
    (await smtp.parsed())
      .filter((m) => m.subject === 'Confirm e-mails from Lanes')
      .map((m) =>
        new URL(/https:\/\/\S+confirm-subscription\?token=\S+/.exec(m.text ?? '')![0]).searchParams.get('token')!,
      );

  it('asks another address once, sends nothing else until it confirms, and prints nothing the subscriber typed', async () => {
    const { subscription } = await follow(ana, {
      target: { kind: 'search', name: BAIT, search: { component: 'checkout', q: 'EU cards' } },
      address: 'Bob@Elsewhere.example',
    });
    expect(subscription).toMatchObject({ address: BOB, confirmation: 'pending' });
    await stageChange('sc-before');
    const n = notifier();
    const first = await n.runOnce();
    expect(first.fanOut).toMatchObject({ changes: 1, deliveries: 0 });
    expect(first.consent).toMatchObject({ sent: 1 });
    expect((await n.runOnce()).consent.sent).toBe(0);

    const mails = await smtp.parsed();
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(to(mail!)).toBe(BOB);
    expect(mail!.subject).toBe('Confirm e-mails from Lanes');
    const raw = smtp.raw[0]!.toString('utf8');
    for (const typed of ['prize', 'evil.example', 'won', 'EU cards']) expect(raw).not.toContain(typed);
    expect(mail!.text).toContain('Ana Doe (ana@acme.example) asked Lanes to e-mail bob@elsewhere.example about');
    expect(mail!.text).toContain('component checkout, other filters');
    expect(mail!.text).toContain('The confirm link works until 8 June 2026, 10:00 UTC.');
    expect(mail!.html).toContain('>Decline</a>');

    // Only the token's hash is kept.
    const [token] = await tokensOf();
    const stored = await database.db.selectFrom('subscription_consent').selectAll().executeTakeFirstOrThrow();
    expect(stored.token_hash).toBe(createHash('sha256').update(token!).digest('base64url'));
    expect(JSON.stringify(stored)).not.toContain(token);

    expect(await describeConsent(ctx, token!)).toMatchObject({ state: 'pending', address: BOB });
    expect(await answerConsent(ctx, token!, 'confirm')).toMatchObject({ state: 'confirmed' });
    expect(await answerConsent(ctx, token!, 'confirm')).toMatchObject({ state: 'confirmed' });
    expect((await listMySubscriptions(ctx, ana))[0]).toMatchObject({ id: subscription.id, confirmation: 'confirmed' });

    // Only changes after the confirmation reach the address.
    await stageChange('sc-after');
    expect((await n.runOnce()).dispatch).toMatchObject({ sent: 1 });
    const after = (await smtp.parsed()).slice(1);
    expect(after.map((m) => [to(m), m.subject])).toEqual([[BOB, 'PAY-231 is now Live']]);
    await n.close();
  });

  it('keeps one’s own address (any case) active at once, with no request', async () => {
    const { subscription } = await follow(ana, {
      target: { kind: 'item', key: 'PAY-231' },
      address: 'ANA@Acme.Example',
    });
    expect(subscription.confirmation).toBe('not_needed');
    await stageChange('sc-1');
    const round = await notifier().runOnce();
    expect(round.consent.sent).toBe(0);
    expect((await smtp.parsed()).map((m) => [to(m), m.subject])).toEqual([['ana@acme.example', 'PAY-231 is now Live']]);
  });

  it('ends everything asked of an address that declines, and sends it no new request for 30 days', async () => {
    const item = await follow(ana, { target: { kind: 'item', key: 'PAY-231' }, address: BOB });
    await follow(mo, { target: { kind: 'team', team: 'payments' }, address: BOB });
    const n = notifier();
    expect((await n.runOnce()).consent.sent).toBe(2);
    const [anaToken, moToken] = await tokensOf();
    expect(await answerConsent(ctx, anaToken!, 'decline')).toMatchObject({ state: 'declined' });
    // The other request to the address is declined with it.
    expect(await describeConsent(ctx, moToken!)).toMatchObject({ state: 'declined' });
    expect(await answerConsent(ctx, moToken!, 'confirm')).toMatchObject({ state: 'declined' });
    expect(await listMySubscriptions(ctx, ana)).toEqual([]);
    expect(await listMySubscriptions(ctx, mo)).toEqual([]);

    await stageChange('sc-1');
    const round = await n.runOnce();
    expect(round.fanOut.deliveries).toBe(0);
    expect(round.consent.sent).toBe(0);
    expect(smtp.raw).toHaveLength(2);

    clock.now = START + 29 * DAY;
    await expect(follow(ana, { target: { kind: 'item', key: 'PAY-231' }, address: BOB })).rejects.toMatchObject({
      code: 'LANES_RATE_LIMITED',
      message: `${BOB} declined e-mails from Lanes on 1 June 2026, 10:00 UTC; no new request can be sent to it before 1 July 2026, 10:00 UTC`,
    });
    clock.now = START + 30 * DAY + 1;
    const again = await follow(ana, { target: { kind: 'item', key: 'PAY-231' }, address: BOB });
    expect(again.subscription.id).not.toBe(item.subscription.id);
    expect(again.subscription.confirmation).toBe('pending');
    await n.close();
  });

  it('sends an address at most three requests a day, whoever asks', async () => {
    for (const target of [
      { kind: 'item', key: 'PAY-231' },
      { kind: 'team', team: 'payments' },
      { kind: 'component', component: 'checkout' },
    ]) {
      await follow(ana, { target, address: BOB });
    }
    clock.now = START + 3_600_000;
    const refused = follow(mo, { target: { kind: 'item', key: 'PAY-231' }, address: BOB });
    await expect(refused).rejects.toMatchObject({
      code: 'LANES_RATE_LIMITED',
      message: `${BOB} was sent 3 confirmation requests in the last 24 hours, the most allowed; try again after 2 June 2026, 10:00 UTC`,
      details: { retryAt: '2026-06-02T10:00:00.000Z' },
    });
    expect((await notifier().runOnce()).consent.sent).toBe(3);
    clock.now = START + DAY + 1;
    await follow(mo, { target: { kind: 'item', key: 'PAY-231' }, address: BOB });
    // The three went out an hour after they were asked: the sending side counts 24 hours from then.
    expect((await notifier().runOnce()).consent).toMatchObject({ sent: 0, deferred: 1 });
    clock.now = START + 3_600_000 + DAY + 1;
    expect((await notifier().runOnce()).consent).toMatchObject({ sent: 1 });
    expect(smtp.raw).toHaveLength(4);
    expect(new Set((await smtp.parsed()).map(to))).toEqual(new Set([BOB]));
  });

  it('limits the new subscriptions a user starts in a day and the ones they hold', async () => {
    const limits = { newPerDay: 3, activePerUser: 4 };
    const targets = ['checkout', 'refunds', 'ledger', 'payouts', 'fx'].map((c) => ({
      kind: 'component',
      component: c,
    }));
    for (const target of targets.slice(0, 3)) await follow(ana, { target }, limits);
    clock.now = START + 7_200_000;
    await expect(follow(ana, { target: targets[3] }, limits)).rejects.toMatchObject({
      code: 'LANES_RATE_LIMITED',
      message:
        'you started 3 subscriptions in the last 24 hours, the most allowed; try again after 2 June 2026, 10:00 UTC',
    });
    // Following the same thing again is not a new subscription.
    expect((await follow(ana, { target: targets[0] }, limits)).created).toBe(false);
    clock.now = START + DAY + 1;
    await follow(ana, { target: targets[3] }, limits);
    await expect(follow(ana, { target: targets[4] }, limits)).rejects.toMatchObject({
      code: 'LANES_RATE_LIMITED',
      message:
        'you have 4 subscriptions, the most one person may have; unsubscribe from some you no longer need, then try again',
    });
  });

  it('lets the confirm link lapse after a week: the subscription ends and nothing is sent', async () => {
    const { subscription } = await follow(ana, { target: { kind: 'item', key: 'PAY-231' }, address: BOB });
    const n = notifier();
    await n.runOnce();
    const [token] = await tokensOf();
    clock.now = START + 7 * DAY + 1;
    expect(await answerConsent(ctx, token!, 'confirm')).toMatchObject({ state: 'expired' });
    expect((await n.runOnce()).consent.expired).toBe(1);
    expect((await listMySubscriptions(ctx, ana)).map((s) => s.id)).not.toContain(subscription.id);
    await stageChange('sc-1');
    expect((await n.runOnce()).fanOut.deliveries).toBe(0);
    expect(smtp.raw).toHaveLength(1);
    await n.close();
  });
});
