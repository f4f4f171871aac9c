import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { SignalRow } from '../api/quality.contract.js';
import { startLocalSmtp, type LocalSmtp } from '../connectors/notify/notify.test-helper.js';
import type { NotificationSenders } from '../connectors/notify/notify.types.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { charterSchema, type CharterInput } from '../domain/charter.schema.js';
import { findingIdOf } from '../domain/findings.js';
import { addWeeks, weekOf } from '../domain/week.js';
import { openDatabase, type Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { withTransaction } from '../store/event.repository.js';
import { upsertSignals } from '../store/quality.repository.js';
import type { LoadedCharter, ServiceContext } from './context.js';
import { createEscalationMailer, sendEscalationNotifications } from './escalation.notify.js';
import { escalationBrief, evaluateFindings, transitionEscalation } from './findings.service.js';
import { buildNotificationSenders } from './notifications.service.js';

const NOW = new Date('2026-03-04T10:00:00.000Z');
const WEEK = weekOf(NOW);
const PUBLIC = 'https://lanes.acme.example';
const FROM = 'Lanes <lanes@acme.example>';
const BUG_ID = findingIdOf('bug-inflow-exceeds-outflow', 'payments', 'checkout');

const charterOf = (leaderEmail: string | undefined): LoadedCharter => {
  const input: CharterInput = {
    version: 1,
    workspace: { id: 'acme', name: 'Acme' },
    people: [
      { id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead', email: 'sam@acme.example' },
      { id: 'ana.diaz', name: 'Ana Diaz', role: 'engineer', email: 'ana@acme.example' },
      { id: 'dana.ross', name: 'Dana Ross', role: 'product-manager' },
      { id: 'dee.kim', name: 'Dee Kim', role: 'designer' },
      {
        id: 'vic.tor',
        name: 'Vic Tor',
        role: 'engineering-leadership',
        ...(leaderEmail ? { email: leaderEmail } : {}),
      },
    ],
    teams: [
      {
        id: 'payments',
        name: 'Payments',
        members: ['sam.lee', 'ana.diaz', 'dana.ross', 'dee.kim'],
        trio: { product: 'dana.ross', design: 'dee.kim', tech: 'sam.lee' },
        components: ['checkout', 'ledger'],
        escalation: 'vic.tor',
      },
    ],
  };
  const charter = charterSchema.parse(input);
  return { charter, index: buildCharterIndex(charter), path: 'test', loadedAt: NOW.toISOString() };
};

const row = (signal: string, week: string, value: number): SignalRow => ({
  signal,
  team: 'payments',
  component: 'checkout',
  week,
  value,
  numerator: null,
  denominator: null,
  details: null,
});

/** Checkout: five weeks of more bugs in than out — the bug-inflow finding. */
const bugFlow = (last: string): SignalRow[] =>
  Array.from({ length: 5 }, (_, i) => addWeeks(last, i - 4)).flatMap((w) => [
    row('bugs.inflow', w, 8),
    row('bugs.outflow', w, 2),
  ]);

const contextOf = (database: Database, clock: { now: Date }, charter: LoadedCharter): ServiceContext => {
  let n = 0;
  return {
    database,
    logger: pino({ level: 'silent' }),
    clock: () => clock.now,
    newId: () => `id-${randomBytes(4).toString('hex')}-${++n}`,
    charter: () => charter,
  };
};

const openEscalation = async (ctx: ServiceContext): Promise<void> => {
  await withTransaction(ctx.database, (tx) => upsertSignals(tx, bugFlow(WEEK)));
  expect((await evaluateFindings(ctx, NOW)).opened).toEqual([BUG_ID]);
};

describe.each(testEngines())('escalation e-mail on $engine', ({ open }) => {
  let database: Database;
  let clock: { now: Date };
  let ctx: ServiceContext;
  let smtp: LocalSmtp;
  /** The local SMTP server refuses recipients (451, temporary) while set. */
  let refusing = false;
  const closers: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    database = await open();
    clock = { now: NOW };
    ctx = contextOf(database, clock, charterOf('vic@acme.example'));
    refusing = false;
    smtp = await startLocalSmtp({
      refuse: () => (refusing ? { code: 451, message: 'Try again later' } : undefined),
    });
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await smtp.close();
    await database.close();
  });

  const emailSenders = (): NotificationSenders => {
    const senders = buildNotificationSenders(
      { LANES_SMTP_URL: smtp.url, LANES_MAIL_FROM: FROM },
      { publicUrl: PUBLIC },
    );
    closers.push(async () => senders.close?.());
    return senders;
  };

  it('e-mails a new escalation once to the leadership contact, with the pattern and an absolute brief link', async () => {
    await openEscalation(ctx);
    const senders = emailSenders();
    const first = await sendEscalationNotifications(ctx, senders, { publicUrl: PUBLIC });
    expect(first).toEqual({ configured: true, sent: 1, failed: 0, waiting: 0, unaddressed: 0 });

    const [mail, ...more] = await smtp.parsed();
    expect(more).toEqual([]);
    const pattern = (await escalationBrief(ctx, BUG_ID)).finding.pattern;
    expect(mail!.to).toMatchObject({ text: 'vic@acme.example' });
    expect(mail!.from?.value[0]?.address).toBe('lanes@acme.example');
    expect(mail!.subject).toBe('[Lanes] New systemic finding for Payments: bug-inflow-exceeds-outflow');
    expect(mail!.text).toContain(pattern);
    expect(mail!.text).toContain(`Open the brief: ${PUBLIC}/escalations/${encodeURIComponent(BUG_ID)}`);
    expect(mail!.html).toContain(`href="${PUBLIC}/escalations/${encodeURIComponent(BUG_ID)}"`);
    expect(mail!.messageId).toMatch(/^<escalation-id-[0-9a-f]+-\d+@lanes\.acme\.example>$/);
    // Addressed by the charter, not a subscription: no unsubscribe link.
    expect(mail!.headers.has('list-unsubscribe')).toBe(false);
    expect(mail!.headers.has('list-unsubscribe-post')).toBe(false);
    expect(mail!.headers.get('auto-submitted')).toBe('auto-generated');

    const [stored] = await database.db.selectFrom('escalation_notification').selectAll().execute();
    expect(stored).toMatchObject({
      sent_at: NOW.toISOString(),
      attempts: 1,
      claimed_until: null,
      claimed_by: null,
      last_error: null,
    });

    // Nobody sends it again: not a second run, not a second mailer, not the next evaluation.
    clock.now = new Date(NOW.getTime() + 3_600_000);
    await evaluateFindings(ctx, clock.now);
    expect(await sendEscalationNotifications(ctx, senders, { publicUrl: PUBLIC, retryWaiting: true })).toMatchObject({
      sent: 0,
      failed: 0,
    });
    const mailer = createEscalationMailer(ctx, senders, { publicUrl: PUBLIC });
    expect((await mailer.runOnce()).sent).toBe(0);
    await mailer.close();
    expect(smtp.raw).toHaveLength(1);
  });

  it('leaves a failed send pending, logs it, and sends it on a later round', async () => {
    await openEscalation(ctx);
    const errors: unknown[] = [];
    ctx = { ...ctx, logger: pino({ level: 'error' }, { write: (line: string) => errors.push(JSON.parse(line)) }) };
    const senders = emailSenders();
    refusing = true;
    const failed = await sendEscalationNotifications(ctx, senders, { publicUrl: PUBLIC, retryDelayMs: 60_000 });
    expect(failed).toMatchObject({ sent: 0, failed: 1, waiting: 1 });
    expect(smtp.raw).toHaveLength(0);
    expect(JSON.stringify(errors)).toContain('SMTP 451');
    const [stored] = await database.db.selectFrom('escalation_notification').selectAll().execute();
    expect(stored).toMatchObject({
      sent_at: null,
      attempts: 1,
      claimed_by: null,
      claimed_until: new Date(NOW.getTime() + 60_000).toISOString(),
    });
    expect(stored!.last_error).toContain('SMTP 451');

    // The mail server is back, but the retry time has not come: the loop does not hammer it.
    refusing = false;
    expect(await sendEscalationNotifications(ctx, senders, { publicUrl: PUBLIC })).toMatchObject({
      sent: 0,
      waiting: 1,
    });
    clock.now = new Date(NOW.getTime() + 61_000);
    expect(await sendEscalationNotifications(ctx, senders, { publicUrl: PUBLIC })).toMatchObject({
      sent: 1,
      failed: 0,
      waiting: 0,
    });
    expect((await smtp.parsed()).map((m) => m.to)).toMatchObject([{ text: 'vic@acme.example' }]);
    expect(await sendEscalationNotifications(ctx, senders, { publicUrl: PUBLIC })).toMatchObject({ sent: 0 });
    expect(smtp.raw).toHaveLength(1);
    const [sent] = await database.db.selectFrom('escalation_notification').selectAll().execute();
    expect(sent).toMatchObject({
      sent_at: clock.now.toISOString(),
      attempts: 2,
      claimed_until: null,
      last_error: null,
    });
  });

  it('sends a waiting retry at once when asked (lanes escalations notify)', async () => {
    await openEscalation(ctx);
    const senders = emailSenders();
    refusing = true;
    expect((await sendEscalationNotifications(ctx, senders, {})).failed).toBe(1);
    refusing = false;
    expect((await sendEscalationNotifications(ctx, senders, { retryWaiting: true })).sent).toBe(1);
    expect(smtp.raw).toHaveLength(1);
  });

  it('skips a notification without an address and does not loop on it', async () => {
    ctx = contextOf(database, clock, charterOf(undefined));
    await openEscalation(ctx);
    const result = await sendEscalationNotifications(ctx, emailSenders(), { batchSize: 1 });
    expect(result).toEqual({ configured: true, sent: 0, failed: 0, waiting: 0, unaddressed: 1 });
    expect(smtp.raw).toHaveLength(0);
    const [stored] = await database.db.selectFrom('escalation_notification').selectAll().execute();
    expect(stored).toMatchObject({ address: null, sent_at: null, attempts: 0, claimed_until: null });
  });

  it('does nothing when e-mail is not configured', async () => {
    await openEscalation(ctx);
    expect(await sendEscalationNotifications(ctx, {}, {})).toEqual({
      configured: false,
      sent: 0,
      failed: 0,
      waiting: 0,
      unaddressed: 0,
    });
    const [stored] = await database.db.selectFrom('escalation_notification').selectAll().execute();
    expect(stored).toMatchObject({ sent_at: null, attempts: 0, claimed_until: null, claimed_by: null });
  });

  it('leaves a row another instance holds alone, and takes it over when that claim runs out', async () => {
    await openEscalation(ctx);
    const held = new Date(NOW.getTime() + 60_000).toISOString();
    await database.db
      .updateTable('escalation_notification')
      .set({ claimed_until: held, claimed_by: 'other-instance', attempts: 1 })
      .execute();
    const senders = emailSenders();
    expect(await sendEscalationNotifications(ctx, senders, { retryWaiting: true })).toMatchObject({
      sent: 0,
      waiting: 0,
    });
    const [still] = await database.db.selectFrom('escalation_notification').selectAll().execute();
    expect(still).toMatchObject({ sent_at: null, claimed_until: held, claimed_by: 'other-instance', attempts: 1 });
    // The other instance crashed: its claim runs out and the e-mail goes (once).
    clock.now = new Date(NOW.getTime() + 61_000);
    expect((await sendEscalationNotifications(ctx, senders, {})).sent).toBe(1);
    expect(smtp.raw).toHaveLength(1);
    const [taken] = await database.db.selectFrom('escalation_notification').selectAll().execute();
    expect(taken).toMatchObject({ sent_at: clock.now.toISOString(), claimed_by: null, attempts: 2 });
  });

  it('e-mails a reopened escalation again, once', async () => {
    await openEscalation(ctx);
    const senders = emailSenders();
    await sendEscalationNotifications(ctx, senders, { publicUrl: PUBLIC });
    await transitionEscalation(ctx, BUG_ID, { to: 'acknowledged' }, { id: 'u1' });
    await transitionEscalation(ctx, BUG_ID, { to: 'resolved' }, { id: 'u1' });
    // The pattern goes, then comes back five weeks later.
    const next = addWeeks(WEEK, 1);
    clock.now = new Date(`${next}T10:00:00.000Z`);
    await withTransaction(database, (tx) =>
      upsertSignals(tx, [row('bugs.inflow', next, 1), row('bugs.outflow', next, 9)]),
    );
    await evaluateFindings(ctx, clock.now);
    const later = addWeeks(next, 5);
    clock.now = new Date(`${later}T10:00:00.000Z`);
    await withTransaction(database, (tx) => upsertSignals(tx, bugFlow(later)));
    expect((await evaluateFindings(ctx, clock.now)).reopened).toEqual([BUG_ID]);
    expect((await sendEscalationNotifications(ctx, senders, { publicUrl: PUBLIC })).sent).toBe(1);
    expect((await sendEscalationNotifications(ctx, senders, { publicUrl: PUBLIC })).sent).toBe(0);
    expect((await smtp.parsed()).map((m) => m.subject)).toEqual([
      '[Lanes] New systemic finding for Payments: bug-inflow-exceeds-outflow',
      '[Lanes] Reopened systemic finding for Payments: bug-inflow-exceeds-outflow',
    ]);
  });
});

/** Two processes' worth of connections on one database (PostgreSQL schema, or SQLite file). */
const sharedDatabases = (): Array<{ engine: string; open: () => Promise<[Database, Database, () => void]> }> => {
  const out: Array<{ engine: string; open: () => Promise<[Database, Database, () => void]> }> = [
    {
      engine: 'sqlite',
      open: async () => {
        const dir = mkdtempSync(join(tmpdir(), 'lanes-escalation-'));
        const url = join(dir, 'lanes.db');
        const a = await openDatabase({ url });
        const b = await openDatabase({ url });
        return [a, b, () => rmSync(dir, { recursive: true, force: true })];
      },
    },
  ];
  const pgUrl = inject('pgUrl');
  if (pgUrl) {
    out.push({
      engine: 'postgres',
      open: async () => {
        const pgSchema = `t_${randomBytes(6).toString('hex')}`;
        const a = await openDatabase({ url: pgUrl, pgSchema, poolSize: 4 });
        const b = await openDatabase({ url: pgUrl, pgSchema, poolSize: 4 });
        return [a, b, () => undefined];
      },
    });
  }
  return out;
};

describe.each(sharedDatabases())('two escalation mailers on one $engine database', ({ open }) => {
  it('send each escalation e-mail exactly once', { timeout: 30_000 }, async () => {
    const [a, b, cleanUp] = await open();
    const smtp = await startLocalSmtp();
    const charter = charterOf('vic@acme.example');
    const clock = { now: NOW };
    const ctxA = contextOf(a, clock, charter);
    const ctxB = contextOf(b, clock, charter);
    const built: NotificationSenders[] = [];
    try {
      // Many findings' worth of rows: one real one, and copies of it.
      await openEscalation(ctxA);
      const [note] = await a.db.selectFrom('escalation_notification').selectAll().execute();
      const COPIES = 40;
      await a.db
        .insertInto('escalation_notification')
        .values(Array.from({ length: COPIES }, (_, i) => ({ ...note!, id: `copy-${String(i).padStart(3, '0')}` })))
        .execute();
      const senders = () => {
        const s = buildNotificationSenders({ LANES_SMTP_URL: smtp.url, LANES_MAIL_FROM: FROM }, { publicUrl: PUBLIC });
        built.push(s);
        return s;
      };
      const [one, two] = await Promise.all([
        sendEscalationNotifications(ctxA, senders(), { batchSize: 3, instanceId: 'a' }),
        sendEscalationNotifications(ctxB, senders(), { batchSize: 3, instanceId: 'b' }),
      ]);
      expect(one.sent + two.sent).toBe(COPIES + 1);
      const ids = smtp.messageIds();
      expect(ids).toHaveLength(COPIES + 1);
      expect(new Set(ids).size).toBe(COPIES + 1);
      // Every row sent, each with one attempt, and no claim left behind.
      const rows = await a.db
        .selectFrom('escalation_notification')
        .select(['sent_at', 'attempts', 'claimed_until', 'claimed_by', 'last_error'])
        .execute();
      expect(rows).toHaveLength(COPIES + 1);
      for (const r of rows) {
        expect(r).toMatchObject({ attempts: 1, claimed_until: null, claimed_by: null, last_error: null });
        expect(r.sent_at).toBe(NOW.toISOString());
      }
    } finally {
      for (const s of built) await s.close?.();
      await smtp.close();
      await a.close();
      await b.close();
      cleanUp();
    }
  });
});
