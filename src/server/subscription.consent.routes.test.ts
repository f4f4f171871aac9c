import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertPortalItem,
  insertStageChange,
  startLocalSmtp,
  type LocalSmtp,
} from '../connectors/notify/notify.test-helper.js';
import type { NotificationSenders } from '../connectors/notify/notify.types.js';
import { buildNotificationSenders, createNotifier } from '../services/notifications.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

const PUBLIC = 'https://lanes.acme.example';
const SEARCH_NAME = 'Urgent: your account is locked, sign in at http://evil.example';

/** The raw header, unfolded. */
const header = (raw: Buffer, name: string): string | undefined =>
  new RegExp(`^${name}:\\s*(.*)$`, 'im')
    .exec(
      raw
        .toString('utf8')
        .split('\r\n\r\n')[0]!
        .replace(/\r\n[ \t]+/g, ' '),
    )?.[1]
    ?.trim();

describe.each(testEngines())('confirmation links on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  let smtp: LocalSmtp;
  let senders: NotificationSenders;
  let changes = 0;

  beforeAll(async () => {
    database = await open();
    t = await buildTestServer(database, { server: { publicUrl: PUBLIC } });
    smtp = await startLocalSmtp();
    senders = buildNotificationSenders(
      { LANES_SMTP_URL: smtp.url, LANES_MAIL_FROM: 'Lanes <lanes@acme.example>' },
      { publicUrl: PUBLIC },
    );
    await insertPortalItem(database, { key: 'PAY-231', title: 'Checkout fails' }, t.ctx.clock().toISOString());
  });
  afterAll(async () => {
    await senders.close?.();
    await smtp.close();
    await t.server.app.close();
    await database.close();
  });

  const follow = (role: 'stakeholder' | 'member', payload: Record<string, unknown>) =>
    t.as(role, { method: 'POST', url: '/api/v1/subscriptions', payload });
  const round = async () => {
    await insertStageChange(database, {
      id: `sc-${++changes}`,
      itemKey: 'PAY-231',
      from: 'fix_ready',
      to: 'live',
      at: t.ctx.clock().toISOString(),
    });
    return createNotifier(t.ctx, senders, { publicUrl: PUBLIC }).runOnce();
  };
  const mine = async (role: 'stakeholder' | 'member') =>
    (await t.as(role, { method: 'GET', url: '/api/v1/subscriptions' })).json().subscriptions as Array<{
      id: string;
      confirmation: string;
    }>;
  /** Every e-mail to an address, in arrival order. */
  const mailTo = async (address: string) =>
    (await smtp.parsed()).flatMap((m, i) =>
      m.to && !Array.isArray(m.to) && m.to.text === address ? [{ mail: m, raw: smtp.raw[i]! }] : [],
    );

  it('asks first, confirms nothing on a GET of the link, and lets the page’s button confirm', async () => {
    const created = await follow('stakeholder', {
      target: { kind: 'search', name: SEARCH_NAME, search: { component: 'checkout' } },
      address: 'carol@elsewhere.example',
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ address: 'carol@elsewhere.example', confirmation: 'pending' });
    const id = created.json().id as string;

    expect((await round()).fanOut.deliveries).toBe(0);
    const [request, ...rest] = await mailTo('carol@elsewhere.example');
    expect(rest).toEqual([]);
    expect(request!.mail.subject).toBe('Confirm e-mails from Lanes');
    expect(request!.raw.toString('utf8')).not.toContain('evil.example');
    const link = /https:\/\/\S+confirm-subscription\?token=[A-Za-z0-9_%-]+/.exec(request!.mail.text!)![0];
    const path = link.slice(PUBLIC.length);

    // Opening the link (a mail scanner does) changes nothing.
    const page = await t.as('anonymous', { method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('stakeholder (stakeholder@acme.example) asked Lanes to e-mail carol@elsewhere.example');
    expect(page.body).not.toContain('evil.example');
    const action = /<form method="post" action="([^"]+answer=confirm)"/.exec(page.body)![1]!.replaceAll('&amp;', '&');
    expect((await mine('stakeholder')).find((s) => s.id === id)?.confirmation).toBe('pending');
    expect((await round()).fanOut.deliveries).toBe(0);

    const confirmed = await t.as('anonymous', {
      method: 'POST',
      url: action,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('Subscription confirmed');
    expect((await mine('stakeholder')).find((s) => s.id === id)?.confirmation).toBe('confirmed');
    expect((await round()).dispatch.sent).toBe(1);
    expect((await mailTo('carol@elsewhere.example')).map((m) => m.mail.subject)).toEqual([
      'Confirm e-mails from Lanes',
      'PAY-231 is now Live',
    ]);
  });

  it('declines with the mail client’s one-click button, then refuses new requests to that address', async () => {
    const created = await follow('member', {
      target: { kind: 'item', key: 'PAY-231' },
      address: 'dan@elsewhere.example',
    });
    expect(created.json().confirmation).toBe('pending');
    await round();
    const [request] = await mailTo('dan@elsewhere.example');
    expect(header(request!.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    const decline = /^<([^>]+)>/.exec(header(request!.raw, 'List-Unsubscribe')!)![1]!;
    expect(decline).toContain('answer=decline');

    const declined = await t.as('anonymous', {
      method: 'POST',
      url: decline.slice(PUBLIC.length),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(declined.statusCode).toBe(200);
    expect(declined.body).toContain('Declined');
    expect((await mine('member')).map((s) => s.id)).not.toContain(created.json().id);
    await round();
    expect(await mailTo('dan@elsewhere.example')).toHaveLength(1);

    const again = await follow('member', {
      target: { kind: 'team', team: 'payments' },
      address: 'dan@elsewhere.example',
    });
    expect(again.statusCode).toBe(429);
    expect(again.json().error).toMatchObject({ code: 'LANES_RATE_LIMITED' });
    expect(again.json().error.message).toContain('no new request can be sent to it before 1 July 2026');
  });

  it('answers a forged or cut link with a page that says so', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const forged = await t.as('anonymous', {
        method,
        url: '/confirm-subscription?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&answer=confirm',
      });
      expect(forged.statusCode).toBe(404);
      expect(forged.body).toContain('This confirmation link is not valid');
    }
  });

  it('answers 429 with when to try again once a user started 20 subscriptions in a day', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 30 && answers.at(-1) !== 429; i++) {
      answers.push(
        (await follow('member', { target: { kind: 'component', component: `c${i}` }, channel: 'feed' })).statusCode,
      );
    }
    const limited = await follow('member', { target: { kind: 'component', component: 'one-more' }, channel: 'feed' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.message).toBe(
      'you started 20 subscriptions in the last 24 hours, the most allowed; try again after 2 June 2026, 00:00 UTC',
    );
    // The follow that dan@ declined counts: ending a subscription does not give it back.
    expect(answers.filter((s) => s === 201)).toHaveLength(19);
  });
});
