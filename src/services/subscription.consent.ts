import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { savedSearchSchema } from '../api/subscriptions.contract.js';
import type { NotificationSenders } from '../connectors/notify/notify.types.js';
import type { User } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import {
  DEFAULT_RETRY_POLICY,
  DeliveryFailure,
  formatWhen,
  planRetry,
  type RetryPolicy,
} from '../domain/notification.js';
import { STAGES, type Stage } from '../domain/stage.js';
import {
  composeConsentRequest,
  CONSENT_REQUESTS_PER_DAY,
  CONSENT_TTL_MS,
  consentUrl,
  DAY_MS,
  DECLINE_QUIET_MS,
  describeConsentSubject,
  oneLine,
  windowReopensAt,
  type ConsentAnswer,
  type ConsentSubject,
} from '../domain/subscription.consent.js';
import * as repo from '../store/consent.repository.js';
import { withTransaction, type Tx } from '../store/event.repository.js';
import type { SubscriptionTable } from '../store/schema.js';
import type { ServiceContext } from './context.js';

/**
 * Consent for e-mail to someone else's address (issue 13, finding 5), and the
 * per-user limits on new subscriptions. `storeSubscription` keeps a new
 * subscription to another address pending and queues one confirmation
 * request; the notifier's round sends the requests (`sendConsentRequests`)
 * and fan-out passes pending subscriptions by, so nothing else reaches the
 * address before its owner confirms through the link (`answerConsent`).
 */

/** Per-user limits on subscriptions. */
export interface SubscriptionLimits {
  /** New subscriptions a user may start in any 24 hours (default 20). */
  newPerDay: number;
  /** Subscriptions a user may have at once, pending ones included (default 200). */
  activePerUser: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = { newPerDay: 20, activePerUser: 200 };

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');
const isoAt = (ms: number): string => new Date(ms).toISOString();

/** Whether an e-mail subscription needs its address's consent: any address but the subscriber's own (any case). */
export const needsConsent = (user: User, channel: string, address: string | null): boolean =>
  channel === 'email' && address !== null && address.trim().toLowerCase() !== user.email.trim().toLowerCase();

/** What the subscriber sees of a subscription's consent. */
export const confirmationOf = (row: Pick<SubscriptionTable, 'consent'>): 'not_needed' | 'pending' | 'confirmed' =>
  row.consent === 'pending' ? 'pending' : row.consent === 'confirmed' ? 'confirmed' : 'not_needed';

const rateLimited = (message: string, details: Record<string, unknown>): AppError =>
  new AppError('LANES_RATE_LIMITED', message, details);

/** Throws 429 when the user may not start one more subscription now. */
const checkUserLimits = async (ctx: ServiceContext, tx: Tx, user: User, limits: SubscriptionLimits) => {
  const now = ctx.clock().getTime();
  const active = await repo.activeSubscriptionCount(tx, user.id);
  if (active >= limits.activePerUser) {
    throw rateLimited(
      `you have ${active} subscriptions, the most one person may have; unsubscribe from some you no longer need, then try again`,
      { limit: limits.activePerUser, active },
    );
  }
  const recent = await repo.newSubscriptionsSince(tx, user.id, isoAt(now - DAY_MS));
  if (recent.count >= limits.newPerDay && recent.oldest) {
    const retryAt = windowReopensAt(recent.oldest, DAY_MS);
    throw rateLimited(
      `you started ${recent.count} subscriptions in the last 24 hours, the most allowed; try again after ${formatWhen(retryAt)}`,
      { limit: limits.newPerDay, retryAt },
    );
  }
};

/** Throws 429 when no confirmation request may go to the address now. */
const checkAddressLimits = async (ctx: ServiceContext, tx: Tx, address: string) => {
  const now = ctx.clock().getTime();
  const declined = await repo.lastDeclineSince(tx, address, isoAt(now - DECLINE_QUIET_MS));
  if (declined) {
    const retryAt = windowReopensAt(declined, DECLINE_QUIET_MS);
    throw rateLimited(
      `${address} declined e-mails from Lanes on ${formatWhen(declined)}; no new request can be sent to it before ${formatWhen(retryAt)}`,
      { address, retryAt },
    );
  }
  const requests = await repo.requestsToAddressSince(tx, address, isoAt(now - DAY_MS));
  if (requests.count >= CONSENT_REQUESTS_PER_DAY && requests.oldest) {
    const retryAt = windowReopensAt(requests.oldest, DAY_MS);
    throw rateLimited(
      `${address} was sent ${requests.count} confirmation requests in the last 24 hours, the most allowed; try again after ${formatWhen(retryAt)}`,
      { address, limit: CONSENT_REQUESTS_PER_DAY, retryAt },
    );
  }
};

/**
 * Stores a new subscription once the user's limits allow it (429
 * `LANES_RATE_LIMITED` with when to try again otherwise). An e-mail
 * subscription to another address is stored pending, with a confirmation
 * request for the notifier to send, once the address's limits allow it too
 * (three requests a day; none for 30 days after a decline). Returns the row
 * as stored.
 */
export const storeSubscription = async (
  ctx: ServiceContext,
  user: User,
  row: Omit<SubscriptionTable, 'consent'>,
  limits: Partial<SubscriptionLimits> = {},
): Promise<SubscriptionTable> => {
  const pending = needsConsent(user, row.channel, row.address);
  const stored: SubscriptionTable = { ...row, consent: pending ? 'pending' : null };
  const address = row.address?.trim().toLowerCase() ?? '';
  await withTransaction(ctx.database, async (tx) => {
    await repo.lockLimitNames(tx, [`subscription-user:${user.id}`, ...(pending ? [`consent-address:${address}`] : [])]);
    await checkUserLimits(ctx, tx, user, { ...DEFAULT_SUBSCRIPTION_LIMITS, ...limits });
    if (pending) await checkAddressLimits(ctx, tx, address);
    const now = ctx.clock().getTime();
    await repo.insertSubscriptionWithConsent(
      tx,
      stored,
      pending
        ? {
            id: ctx.newId(),
            subscription_id: row.id,
            address,
            requested_by_name: oneLine(user.name),
            requested_by_email: user.email.trim().toLowerCase(),
            token_hash: null,
            created_at: isoAt(now),
            expires_at: isoAt(now + CONSENT_TTL_MS),
            sent_at: null,
            claimed_until: null,
            claimed_by: null,
            last_error: null,
            answer: null,
            answered_at: null,
          }
        : null,
    );
  });
  return stored;
};

// ---------------------------------------------------------------------------
// What a request describes

const knownTeamName = (ctx: ServiceContext, id: string | undefined): string | null => {
  const team = id === undefined ? undefined : ctx.charter()?.charter.teams.find((t) => t.id === id);
  return team ? oneLine(team.name) : null;
};

const knownComponent = async (ctx: ServiceContext, component: string | undefined): Promise<string | null> => {
  if (component === undefined) return null;
  const inCharter = ctx.charter()?.charter.teams.some((t) => t.components.includes(component)) ?? false;
  return inCharter || (await repo.componentKnown(ctx.database, component)) ? oneLine(component) : null;
};

/** What a subscription follows, named only with what Lanes knows: never its saved-search name or words. */
export const consentSubjectOf = async (
  ctx: ServiceContext,
  row: Pick<SubscriptionTable, 'target_kind' | 'target' | 'search'>,
): Promise<ConsentSubject> => {
  switch (row.target_kind) {
    case 'item':
      return { kind: 'item', key: oneLine(row.target, 120) };
    case 'team':
      return { kind: 'team', name: knownTeamName(ctx, row.target) };
    case 'component':
      return { kind: 'component', name: await knownComponent(ctx, row.target) };
    default: {
      let filters: Record<string, unknown> = {};
      try {
        const parsed = savedSearchSchema.safeParse(JSON.parse(row.search ?? '{}'));
        if (parsed.success) filters = parsed.data;
      } catch {
        // Described without filters.
      }
      const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
      const stage = str(filters['stage']);
      return {
        kind: 'search',
        team: knownTeamName(ctx, str(filters['team'])),
        component: await knownComponent(ctx, str(filters['component'])),
        stage: stage && (STAGES as readonly string[]).includes(stage) ? (stage as Stage) : null,
        otherFilters: ['q', 'reporter', 'customer'].some((k) => str(filters[k]) !== undefined),
      };
    }
  }
};

// ---------------------------------------------------------------------------
// The link's page and its answer

/** What a confirmation link shows. `cancelled`: the subscriber ended the subscription. */
export interface ConsentView {
  state: 'pending' | 'confirmed' | 'declined' | 'expired' | 'cancelled';
  address: string;
  /** "Ana Ruiz (ana@acme.example)". */
  requestedBy: string;
  /** "stage changes of the item PAY-231". */
  what: string;
  expiresAt: string;
}

const consentOfToken = async (ctx: ServiceContext, token: string): Promise<repo.ConsentWithSubscription> => {
  const found = token.length >= 16 ? await repo.findConsentByTokenHash(ctx.database, sha256(token)) : undefined;
  if (!found) throw new AppError('LANES_NOT_FOUND', 'this confirmation link is not valid');
  return found;
};

const viewOf = async (ctx: ServiceContext, found: repo.ConsentWithSubscription): Promise<ConsentView> => {
  const { consent, subscription } = found;
  const expired =
    consent.answer === 'expired' || (consent.answer === null && consent.expires_at <= ctx.clock().toISOString());
  const state: ConsentView['state'] =
    consent.answer === 'declined'
      ? 'declined'
      : expired
        ? 'expired'
        : subscription.unsubscribed_at !== null
          ? 'cancelled'
          : consent.answer === 'confirmed'
            ? 'confirmed'
            : 'pending';
  return {
    state,
    address: consent.address,
    requestedBy: `${oneLine(consent.requested_by_name)} (${consent.requested_by_email})`,
    what: describeConsentSubject(await consentSubjectOf(ctx, subscription)),
    expiresAt: consent.expires_at,
  };
};

/** What a confirmation link asks, for the page it opens (which changes nothing). */
export const describeConsent = async (ctx: ServiceContext, token: string): Promise<ConsentView> =>
  viewOf(ctx, await consentOfToken(ctx, token));

/**
 * The address's answer (anonymous, by the link's token). Confirming makes a
 * pending subscription active while the link is fresh; declining ends it (and
 * every other unanswered request to the address), even after a confirmation,
 * and keeps new requests away from the address for 30 days. Idempotent.
 */
export const answerConsent = async (
  ctx: ServiceContext,
  token: string,
  answer: ConsentAnswer,
): Promise<ConsentView> => {
  const found = await consentOfToken(ctx, token);
  const before = await viewOf(ctx, found);
  const at = ctx.clock().toISOString();
  if (answer === 'confirm' && before.state === 'pending') await repo.confirmConsent(ctx.database, found.consent, at);
  else if (answer === 'decline' && before.state !== 'declined')
    await repo.declineConsent(ctx.database, found.consent, at);
  else return before;
  return viewOf(ctx, await consentOfToken(ctx, token));
};

// ---------------------------------------------------------------------------
// Sending the requests

/** How the notifier's round sends confirmation requests. */
export interface ConsentMailOptions {
  /** `LANES_PUBLIC_URL`: where the links point. */
  publicUrl: string;
  retry?: RetryPolicy | undefined;
  /** How long a claimed request is held before another instance may take it (default 2 minutes). */
  leaseMs?: number | undefined;
  /** Requests claimed at once (default 20). */
  batchSize?: number | undefined;
  instanceId?: string | undefined;
  random?: (() => number) | undefined;
}

export interface ConsentRoundResult {
  sent: number;
  /** Sends that failed this round (retried with backoff until the request expires). */
  failed: number;
  /** Held back: the address had its three requests of the last 24 hours, or the subscription ended. */
  deferred: number;
  /** Unanswered requests that ran out of time; their subscriptions ended. */
  expired: number;
}

const PROCESS_INSTANCE = randomUUID();

type SendOutcome = 'sent' | 'failed' | 'deferred' | 'lost';

/** Sends one claimed request, or puts it back for later; the outcome is written only while the claim holds. */
const sendOne = async (
  ctx: ServiceContext,
  email: NonNullable<NotificationSenders['email']>,
  row: repo.ConsentRow,
  by: string,
  options: ConsentMailOptions,
): Promise<SendOutcome> => {
  const now = ctx.clock().getTime();
  const later = (at: string, error: string, uncount = true) =>
    repo.finishConsent(ctx.database, row.id, by, { kind: 'later', at, error, uncount });
  const [subscription] = await repo.getSubscriptions(ctx.database, [row.subscription_id]);
  if (!subscription || subscription.unsubscribed_at !== null || subscription.consent !== 'pending') {
    // Never sent; it expires with the request.
    await later(row.expires_at, 'the subscription ended before the request was sent');
    return 'deferred';
  }
  const sent = await repo.sentToAddressSince(ctx.database, row.address, isoAt(now - DAY_MS));
  if (sent.count >= CONSENT_REQUESTS_PER_DAY && sent.oldest) {
    await later(windowReopensAt(sent.oldest, DAY_MS), 'the address had its requests of the last 24 hours');
    return 'deferred';
  }
  const token = randomBytes(32).toString('base64url');
  if (!(await repo.finishConsent(ctx.database, row.id, by, { kind: 'token', tokenHash: sha256(token) }))) return 'lost';
  const expiresAt = isoAt(now + CONSENT_TTL_MS);
  const message = composeConsentRequest({
    subscriber: { name: row.requested_by_name, email: row.requested_by_email },
    address: row.address,
    subject: await consentSubjectOf(ctx, subscription),
    cadence: subscription.cadence,
    links: {
      confirm: consentUrl(options.publicUrl, token, 'confirm'),
      decline: consentUrl(options.publicUrl, token, 'decline'),
    },
    expiresAt,
  });
  try {
    await email({
      key: `consent-${row.id}`,
      address: row.address,
      secret: null,
      message,
      // Mail clients' own Unsubscribe button (RFC 8058) declines.
      unsubscribeUrl: consentUrl(options.publicUrl, token, 'decline'),
    });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const permanent = error instanceof DeliveryFailure && error.permanent;
    const plan = permanent
      ? ({ dead: true } as const)
      : planRetry(Number(row.attempts), (options.random ?? Math.random)(), options.retry ?? DEFAULT_RETRY_POLICY);
    // Given up: left alone until the request expires.
    await later(plan.dead ? row.expires_at : isoAt(ctx.clock().getTime() + plan.delayMs), text.slice(0, 1000), false);
    ctx.logger.warn({ consent: row.id, error: text }, 'a confirmation request could not be sent');
    return 'failed';
  }
  await repo.finishConsent(ctx.database, row.id, by, { kind: 'sent', at: isoAt(now), expiresAt });
  return 'sent';
};

/**
 * One round of the confirmation outbox, run by the notifier: expires
 * unanswered requests whose week is over (ending their subscriptions), then
 * claims unsent requests with a lease and e-mails each with fresh confirm and
 * decline links (only the token's hash is kept). At most three requests reach
 * one address in any 24 hours; failed sends are retried with backoff. Does
 * nothing but expire when no e-mail sender is configured.
 */
export const sendConsentRequests = async (
  ctx: ServiceContext,
  senders: Pick<NotificationSenders, 'email'>,
  options: ConsentMailOptions,
): Promise<ConsentRoundResult> => {
  const result: ConsentRoundResult = { sent: 0, failed: 0, deferred: 0, expired: 0 };
  result.expired = await repo.expireConsents(ctx.database, ctx.clock().toISOString());
  const email = senders.email;
  if (!email) return result;
  const leaseMs = options.leaseMs ?? 120_000;
  const batchSize = options.batchSize ?? 20;
  const by = `${options.instanceId ?? PROCESS_INSTANCE}:${randomUUID()}`;
  for (;;) {
    const now = ctx.clock();
    const claim = { now: now.toISOString(), until: isoAt(now.getTime() + leaseMs), by };
    const claimed = await repo.claimConsentsToSend(ctx.database, claim, batchSize);
    for (const row of claimed) {
      const outcome = await sendOne(ctx, email, row, by, options);
      if (outcome !== 'lost') result[outcome] += 1;
    }
    if (claimed.length < batchSize) return result;
  }
};
