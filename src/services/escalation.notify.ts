import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Selectable } from 'kysely';
import type { NotificationSenders } from '../connectors/notify/notify.types.js';
import { escapeHtml, type NotificationMessage } from '../domain/notification.js';
import type { DB, EscalationNotificationTable } from '../store/schema.js';
import type { ServiceContext } from './context.js';
import { createRoundFailures } from './round.failures.js';

/**
 * Delivers the outbox of escalation e-mails (issue 7): the rows
 * `evaluateFindings` records in `escalation_notification` when an escalation
 * opens or reopens, sent to the team's engineering-leadership contact with
 * the e-mail sender the subscription notifications use (`LANES_SMTP_URL`,
 * `LANES_MAIL_FROM`).
 *
 * `sent_at` is the send time (NULL while unsent). An unsent row is claimed
 * with one conditional UPDATE (on PostgreSQL `FOR UPDATE SKIP LOCKED`) that
 * sets `claimed_by` to the mailer round and `claimed_until` to the end of its
 * lease and counts the attempt in `attempts`, so two processes never send the
 * same e-mail; a lease left behind by a crash runs out and the row is sent
 * again, with the same Message-ID. A failed send keeps its error in
 * `last_error` and waits with `claimed_by` empty and `claimed_until` at its
 * retry time. Rows without an address (the charter names no leadership
 * contact with an e-mail) are never claimed.
 */

export interface EscalationMailOptions {
  /** `LANES_PUBLIC_URL`: the brief link in the body becomes absolute. */
  publicUrl?: string | undefined;
  /** How long a claimed row is held before another instance may take it (default 2 minutes). */
  leaseMs?: number | undefined;
  /** How long a failed send waits before its next attempt (default 5 minutes). */
  retryDelayMs?: number | undefined;
  /** Rows claimed at once (default 20). */
  batchSize?: number | undefined;
  /** Also take rows whose failed send is still waiting for its retry time (`lanes escalations notify`). */
  retryWaiting?: boolean | undefined;
  /** Names this instance's claims (default: random per process). */
  instanceId?: string | undefined;
}

export interface EscalationMailResult {
  /** False when no e-mail sender is configured: nothing was claimed or sent. */
  configured: boolean;
  sent: number;
  /** Sends that failed this round; each stays pending and is tried again after the retry delay. */
  failed: number;
  /** Failed earlier and waiting for their retry time. */
  waiting: number;
  /** Unsent rows without an address: never sent (the charter names no leadership contact with an e-mail). */
  unaddressed: number;
}

const DEFAULT_LEASE_MS = 120_000;
const DEFAULT_RETRY_DELAY_MS = 300_000;
/** A send is not started when less than this is left of the lease. */
const LEASE_MARGIN_MS = 15_000;
const PROCESS_INSTANCE = randomUUID();

const CLAIMED = ['id', 'escalation_id', 'person_id', 'address', 'reason', 'subject', 'body', 'created_at'] as const;
type NotificationRow = Pick<Selectable<EscalationNotificationTable>, (typeof CLAIMED)[number]>;
type Where = ExpressionBuilder<DB, 'escalation_notification'>;

/**
 * Rows to send now: unsent, with an address, and neither claimed nor waiting,
 * or whose lease or retry time has come (ISO timestamps compare as strings);
 * with `retryWaiting`, also failed sends still waiting for their retry time.
 */
const sendable = (now: string, retryWaiting: boolean) => (eb: Where) =>
  eb.and([
    eb('sent_at', 'is', null),
    eb('address', 'is not', null),
    eb('address', '<>', ''),
    eb.or([
      eb('claimed_until', 'is', null),
      eb('claimed_until', '<=', now),
      ...(retryWaiting ? [eb('claimed_by', 'is', null)] : []),
    ]),
  ]);

/** The stored body with its brief link made absolute, when there is a public URL. */
export const escalationMailText = (body: string, publicUrl: string | undefined): string =>
  publicUrl ? body.replace(/^(Open the brief: )(\/escalations\/\S+)$/m, `$1${publicUrl.replace(/\/+$/, '')}$2`) : body;

const messageOf = (row: NotificationRow, publicUrl: string | undefined): NotificationMessage => {
  const text = escalationMailText(row.body, publicUrl);
  const html = text
    .split(/\n{2,}/)
    .map(
      (block) =>
        `<p>${block
          .split('\n')
          .map((line) => {
            const link = /^(Open the brief: )(https?:\/\/\S+)$/.exec(line);
            return link
              ? `<a href="${escapeHtml(link[2]!)}">${escapeHtml(link[1]!.replace(/: $/, ''))}</a>`
              : escapeHtml(line);
          })
          .join('<br>')}</p>`,
    )
    .join('\n');
  return {
    subject: row.subject,
    text,
    html,
    slack: text,
    payload: { escalationId: row.escalation_id, reason: row.reason, subject: row.subject },
  };
};

/**
 * Sends the unsent escalation e-mails once: claims them in batches, sends
 * each, and marks it sent; a failed send is logged and left for a retry after
 * `retryDelayMs`. Safe to run in several processes at once. Does nothing when
 * no e-mail sender is configured.
 */
export const sendEscalationNotifications = async (
  ctx: ServiceContext,
  senders: Pick<NotificationSenders, 'email'>,
  options: EscalationMailOptions = {},
): Promise<EscalationMailResult> => {
  const result: EscalationMailResult = { configured: false, sent: 0, failed: 0, waiting: 0, unaddressed: 0 };
  const email = senders.email;
  if (!email) return result;
  result.configured = true;
  const db = ctx.database.db;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  const batchSize = options.batchSize ?? 20;
  const margin = Math.min(LEASE_MARGIN_MS, leaseMs / 4);
  const holder = `${options.instanceId ?? PROCESS_INSTANCE}:${randomUUID()}`;

  for (;;) {
    const now = ctx.clock();
    const until = new Date(now.getTime() + leaseMs);
    const pending = sendable(now.toISOString(), options.retryWaiting === true);
    const claimed: NotificationRow[] = await db
      .updateTable('escalation_notification')
      .set((eb) => ({ claimed_until: until.toISOString(), claimed_by: holder, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('escalation_notification')
          .select('id')
          .where(pending)
          .orderBy('created_at')
          .orderBy('id')
          .limit(batchSize)
          .$if(ctx.database.engine === 'postgres', (qb) => qb.forUpdate().skipLocked()),
      )
      // Checked again on the row itself: on PostgreSQL a row another instance claimed meanwhile is left alone.
      .where(pending)
      .returning([...CLAIMED])
      .execute();
    if (claimed.length === 0) break;
    claimed.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));

    /** Writes the outcome while this round still holds the row; false when its claim was taken over. */
    const finish = async (
      id: string,
      outcome:
        | { sentAt: string }
        | { retryAt: string; error: string }
        // Handed back unsent: the attempt is not counted.
        | { handBack: true },
    ) =>
      Number(
        (
          await db
            .updateTable('escalation_notification')
            .set((eb) =>
              'sentAt' in outcome
                ? { sent_at: outcome.sentAt, claimed_until: null, claimed_by: null, last_error: null }
                : 'retryAt' in outcome
                  ? { claimed_until: outcome.retryAt, claimed_by: null, last_error: outcome.error.slice(0, 1000) }
                  : { claimed_until: null, claimed_by: null, attempts: eb('attempts', '-', 1) },
            )
            .where('id', '=', id)
            .where('sent_at', 'is', null)
            .where('claimed_by', '=', holder)
            .executeTakeFirst()
        ).numUpdatedRows,
      ) === 1;

    for (const row of claimed) {
      // Too little of the lease left: hand it back rather than risk a second send by another instance.
      if (until.getTime() - ctx.clock().getTime() <= margin) {
        await finish(row.id, { handBack: true });
        continue;
      }
      try {
        await email({
          key: `escalation-${row.id}`,
          address: row.address!,
          secret: null,
          message: messageOf(row, options.publicUrl),
          // Leadership is addressed by the charter, not by a subscription: there is nothing to unsubscribe from.
          unsubscribeUrl: '',
        });
      } catch (error) {
        const retryAt = new Date(ctx.clock().getTime() + retryDelayMs).toISOString();
        await finish(row.id, { retryAt, error: error instanceof Error ? error.message : String(error) });
        result.failed += 1;
        ctx.logger.error(
          { err: error, notification: row.id, escalation: row.escalation_id, retryAt },
          'e-mailing an escalation to engineering leadership failed; it will be tried again',
        );
        continue;
      }
      if (await finish(row.id, { sentAt: ctx.clock().toISOString() })) result.sent += 1;
      else ctx.logger.warn({ notification: row.id }, 'an escalation e-mail was sent after its claim ran out');
    }
    if (claimed.length < batchSize) break;
  }

  const unsent = await db
    .selectFrom('escalation_notification')
    .select(['address', 'claimed_until', 'claimed_by'])
    .where('sent_at', 'is', null)
    .execute();
  for (const r of unsent) {
    if (r.address === null || r.address === '') result.unaddressed += 1;
    else if (r.claimed_until !== null && r.claimed_by === null) result.waiting += 1;
  }
  return result;
};

export interface EscalationMailer {
  /** Sends now and then every `intervalMs`, until closed. */
  start(): void;
  runOnce(): Promise<EscalationMailResult>;
  /** Stops the loop and waits for the round in flight; the senders are left to their owner to close. */
  close(): Promise<void>;
}

/**
 * The loop `lanes serve` runs beside the subscription notifier, with its
 * senders: every `intervalMs` (default 30 s) send the escalation e-mails that
 * are due. Safe on several instances at once.
 */
export const createEscalationMailer = (
  ctx: ServiceContext,
  senders: Pick<NotificationSenders, 'email'>,
  options: EscalationMailOptions & { intervalMs?: number | undefined } = {},
): EscalationMailer => {
  const intervalMs = options.intervalMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;
  let closed = false;
  const runOnce = () => sendEscalationNotifications(ctx, senders, options);
  // Retries start from a few seconds, not the 30 s interval, so a short outage costs little.
  const failures = createRoundFailures(ctx, 'the escalation e-mail round', {
    intervalMs: Math.min(intervalMs, 2000),
    maxDelayMs: Math.max(intervalMs, 60_000),
  });
  const loop = () => {
    if (closed) return;
    let wait = intervalMs;
    inFlight = runOnce()
      .then(() => void failures.succeeded())
      .catch((error: unknown) => void (wait = failures.failed(error)))
      .finally(() => {
        inFlight = undefined;
        if (!closed) timer = setTimeout(loop, wait);
      });
  };
  return {
    start: () => {
      if (timer === undefined && inFlight === undefined && !closed) loop();
    },
    runOnce,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await inFlight;
    },
  };
};
