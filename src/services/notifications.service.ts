// Over 500 lines, kept for now: subscriptions, fan-out and sending still share one service; issue 15 splits it by use case into the notifications feature.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Feed } from 'feed';
import { z } from 'zod';
import {
  savedSearchSchema,
  subscriptionInputSchema,
  type Delivery,
  type SavedSearch,
  type Subscription,
} from '../api/subscriptions.contract.js';
import type { Secrets } from '../config.js';
import { mapWithConcurrency } from '../connectors/concurrency.js';
import { createHttpClient } from '../connectors/http.client.js';
import { createEmailSender } from '../connectors/notify/email.sender.js';
import type { NotificationSenders, OutgoingNotification } from '../connectors/notify/notify.types.js';
import { slackNotificationSender } from '../connectors/notify/slack.sender.js';
import { WEBHOOK_FAILURE_FOR_MEMBERS, webhookSender } from '../connectors/notify/webhook.sender.js';
import type { OutboundAllow } from '../connectors/outbound.address.js';
import { checkOutboundUrl, createOutboundGuard } from '../connectors/outbound.guard.js';
import { roleAllows, type User } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import {
  composeDigest,
  composeNotification,
  DEFAULT_RETRY_POLICY,
  DeliveryFailure,
  escapeHtml,
  feedUrl,
  followReason,
  formatWhen,
  nextDigestAt,
  planRetry,
  portalItemUrl,
  signUnsubscribeToken,
  stageHeadline,
  unsubscribeUrl,
  verifyUnsubscribeToken,
  type DigestEntry,
  type NotifiableChange,
  type NotifiableItem,
  type NotificationCadence,
  type NotificationMessage,
  type NotificationTarget,
  type NotificationTargetKind,
  type RetryPolicy,
  type StageEvidence,
} from '../domain/notification.js';
import {
  itemMatchesSearch,
  portalSettingsOf,
  showsField,
  type PortalRow,
  type SearchFilters,
} from '../domain/portal.js';
import { STAGES, STAGE_LABELS, type Stage } from '../domain/stage.js';
import { withTransaction } from '../store/event.repository.js';
import * as repo from '../store/notification.repository.js';
import type { ServiceContext } from './context.js';
import { createRoundFailures } from './round.failures.js';
import {
  confirmationOf,
  sendConsentRequests,
  storeSubscription,
  type ConsentRoundResult,
  type SubscriptionLimits,
} from './subscription.consent.js';

/**
 * Follows and notifications (issue 6): subscribe to an item, a component, a
 * team or a saved search; each stage change of a visible item becomes one
 * delivery per matching subscription (`fanOut`), which `dispatch` sends by
 * e-mail, Slack or a signed webhook — at once, or collected into a daily or
 * weekly digest — with retries, backoff and dead letters. Feeds are read, not
 * pushed. Items stakeholders may not see are never notified about.
 */

/** Where links point and how hard the notifier works. */
export interface NotifierOptions {
  /** `LANES_PUBLIC_URL`: links in messages and feeds. */
  publicUrl: string;
  retry?: RetryPolicy | undefined;
  /** How long a claimed delivery is held before another instance may take it (default 2 minutes). */
  leaseMs?: number | undefined;
  /** Deliveries claimed per round (default 500). */
  batchSize?: number | undefined;
  /** Sends in flight at once (default 20). */
  concurrency?: number | undefined;
  /** Digests go out at this hour, UTC (default 9), weekly ones on `digestWeekday` (default 1, Monday). */
  digestHourUtc?: number | undefined;
  digestWeekday?: number | undefined;
  /**
   * Stage changes that had occurred longer ago than this when fan-out meets
   * them are not notified (history arriving through a backfill); default 3 days.
   */
  maxAgeMs?: number | undefined;
  /** Names this instance's claims (default: random per process). */
  instanceId?: string | undefined;
  /** For jitter; tests pass a fixed one. */
  random?: (() => number) | undefined;
}

const DEFAULT_LEASE_MS = 120_000;
const DEFAULT_MAX_AGE_MS = 3 * 86_400_000;
/** A send is not started when less than this is left of the lease. */
const LEASE_MARGIN_MS = 15_000;
const PROCESS_INSTANCE = randomUUID();

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

/** The id of the one delivery of a stage change to a subscription: the same whoever computes it. */
export const deliveryIdOf = (subscriptionId: string, stageChangeId: string): string =>
  createHash('sha256').update(`${subscriptionId}\n${stageChangeId}`).digest('hex').slice(0, 32);

// ---------------------------------------------------------------------------
// The workspace's notification key (signs unsubscribe links)

const keys = new WeakMap<object, Promise<string>>();

/** Made once per database and kept in `meta`, so every instance signs and verifies alike. */
export const notificationKey = (ctx: ServiceContext): Promise<string> => {
  let key = keys.get(ctx.database);
  if (!key) {
    key = repo.metaValueOrInsert(ctx.database, 'notification_signing_key', randomBytes(32).toString('base64url'));
    key.catch(() => keys.delete(ctx.database));
    keys.set(ctx.database, key);
  }
  return key;
};

// ---------------------------------------------------------------------------
// Subscriptions

const parseInput = <T extends z.ZodType>(schema: T, input: unknown): z.output<T> => {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new AppError('LANES_VALIDATION', `${issue.path.join('.') || 'input'}: ${issue.message}`, {
    issues: r.error.issues,
  });
};

const emailSchema = z.email().max(320);
const SLACK_ADDRESS = /^[#@]?[A-Za-z0-9._-]{1,80}$/;

/** The filters as stored: only the set ones, in a fixed order, so equal searches compare equal. */
const canonicalSearch = (search: SavedSearch): string =>
  JSON.stringify(
    Object.fromEntries(
      Object.entries(search)
        .filter(([, v]) => v !== undefined && v !== '')
        .sort(([a], [b]) => a.localeCompare(b)),
    ),
  );

const parseSearch = (json: string | null): SearchFilters | null => {
  if (json === null) return null;
  try {
    const parsed = savedSearchSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
};

const targetOf = (row: repo.SubscriptionRow): NotificationTarget => ({
  kind: row.target_kind as NotificationTargetKind,
  value: row.target,
});

const presentSubscription = (
  row: repo.SubscriptionRow,
  created?: { feedUrl: string | null; webhookSecret: string | null },
): Subscription => ({
  id: row.id,
  target: {
    kind: row.target_kind as Subscription['target']['kind'],
    value: row.target,
    search: (parseSearch(row.search) as SavedSearch | null) ?? null,
  },
  channel: row.channel as Subscription['channel'],
  address: row.address,
  cadence: row.cadence as Subscription['cadence'],
  createdAt: row.created_at,
  feedUrl: created?.feedUrl ?? null,
  webhookSecret: created?.webhookSecret ?? null,
  confirmation: confirmationOf(row),
});

const isVisibleItem = async (ctx: ServiceContext, key: string): Promise<boolean> =>
  (await repo.portalItemsByKey(ctx.database.db, [key])).get(key)?.visible === 1;

export interface SubscribeResult {
  subscription: Subscription;
  /** False when the same active subscription existed already (it is returned, without its secrets). */
  created: boolean;
}

/**
 * Follows something for `user`. An item must be one stakeholders may see (any
 * other answers "not found", so hidden items are not revealed). E-mail goes to
 * the user's address unless another is given; another address stays pending
 * until its owner confirms (`subscription.consent.ts`), and per-user limits
 * answer 429 `LANES_RATE_LIMITED`. Webhooks make this server send
 * requests to a URL of the caller's choosing, so they need the member role.
 * Following the same thing the same way twice returns the first subscription.
 */
export const subscribe = async (
  ctx: ServiceContext,
  user: User,
  input: unknown,
  options: {
    publicUrl: string;
    limits?: Partial<SubscriptionLimits> | undefined;
    /** `LANES_OUTBOUND_ALLOW`: internal hosts webhooks may call. */
    outboundAllow?: OutboundAllow | undefined;
  },
): Promise<SubscribeResult> => {
  const data = parseInput(subscriptionInputSchema, input);
  const t = data.target;
  const targetKind: NotificationTargetKind = t.kind;
  const target = t.kind === 'item' ? t.key : t.kind === 'component' ? t.component : t.kind === 'team' ? t.team : t.name;
  const search = t.kind === 'search' ? canonicalSearch(t.search) : null;
  if (t.kind === 'item' && !(await isVisibleItem(ctx, t.key))) {
    throw new AppError('LANES_NOT_FOUND', `no item ${t.key}`, { key: t.key });
  }

  let address: string | null = data.address?.trim() || null;
  let cadence: NotificationCadence = data.cadence;
  switch (data.channel) {
    case 'email':
      address = (address ?? user.email).toLowerCase();
      if (!emailSchema.safeParse(address).success) {
        throw new AppError('LANES_VALIDATION', 'address: not an e-mail address', { field: 'address' });
      }
      break;
    case 'slack':
      if (!address || !SLACK_ADDRESS.test(address)) {
        throw new AppError('LANES_VALIDATION', 'address: give a Slack channel or member id (C0123ABCD, #releases)', {
          field: 'address',
        });
      }
      break;
    case 'webhook':
      if (!roleAllows(user.role, 'member')) {
        throw new AppError('LANES_FORBIDDEN', 'webhook subscriptions need the member role');
      }
      if (!address) {
        throw new AppError('LANES_VALIDATION', 'address: give an http:// or https:// URL without credentials', {
          field: 'address',
        });
      }
      {
        // Judged again at every send, on the address actually connected to (src/connectors/outbound.guard.ts).
        const verdict = checkOutboundUrl(address, options.outboundAllow);
        if (!verdict.ok && verdict.reason === 'invalid') {
          throw new AppError('LANES_VALIDATION', `address: ${verdict.message}; give an http:// or https:// URL`, {
            field: 'address',
          });
        }
        if (!verdict.ok) {
          throw new AppError('LANES_URL_FORBIDDEN', `address: ${verdict.message}, so Lanes may not call it`, {
            field: 'address',
          });
        }
      }
      break;
    case 'feed':
      if (address !== null) {
        throw new AppError('LANES_VALIDATION', 'address: a feed has no address; its URL is returned', {
          field: 'address',
        });
      }
      // A feed is read when its reader wants; it has no cadence.
      cadence = 'immediate';
      break;
  }

  const existing = await repo.findActiveSubscription(ctx.database, {
    user_id: user.id,
    target_kind: targetKind,
    target,
    channel: data.channel,
    address,
    search,
    cadence,
  });
  if (existing) return { subscription: presentSubscription(existing), created: false };

  const feedToken = data.channel === 'feed' ? randomBytes(24).toString('base64url') : null;
  const secret = data.channel === 'webhook' ? `whsec_${randomBytes(24).toString('base64url')}` : null;
  const row = await storeSubscription(
    ctx,
    user,
    {
      id: ctx.newId(),
      user_id: user.id,
      target_kind: targetKind,
      target,
      search,
      channel: data.channel,
      address,
      secret,
      cadence,
      feed_token_hash: feedToken ? sha256(feedToken) : null,
      created_at: ctx.clock().toISOString(),
      unsubscribed_at: null,
    },
    options.limits,
  );
  return {
    subscription: presentSubscription(row, {
      feedUrl: feedToken ? feedUrl(options.publicUrl, feedToken) : null,
      webhookSecret: secret,
    }),
    created: true,
  };
};

export const listMySubscriptions = async (ctx: ServiceContext, user: User): Promise<Subscription[]> =>
  (await repo.listUserSubscriptions(ctx.database, user.id)).map((row) => presentSubscription(row));

/** The subscription if `user` owns it (or is an admin); "not found" otherwise, so ids do not leak. */
const ownedSubscription = async (ctx: ServiceContext, user: User, id: string): Promise<repo.SubscriptionRow> => {
  const row = await repo.getSubscription(ctx.database, id);
  if (!row || (row.user_id !== user.id && user.role !== 'admin')) {
    throw new AppError('LANES_NOT_FOUND', `no subscription ${id}`, { id });
  }
  return row;
};

/** Ends a subscription of the user's (admins: anyone's); what it had not sent is skipped. */
export const unsubscribeById = async (ctx: ServiceContext, user: User, id: string): Promise<void> => {
  const row = await ownedSubscription(ctx, user, id);
  if (row.unsubscribed_at !== null) throw new AppError('LANES_NOT_FOUND', `no subscription ${id}`, { id });
  await repo.endSubscription(ctx.database, id, ctx.clock().toISOString());
};

/** What an unsubscribe link names, for the page that confirms it. */
export interface UnsubscribeView {
  subscriptionId: string;
  /** "you follow PAY-231". */
  reason: string;
  channel: string;
  active: boolean;
}

const subscriptionOfToken = async (ctx: ServiceContext, token: string): Promise<repo.SubscriptionRow> => {
  const id = verifyUnsubscribeToken(token, await notificationKey(ctx));
  const row = id === null ? undefined : await repo.getSubscription(ctx.database, id);
  if (!row) throw new AppError('LANES_NOT_FOUND', 'this unsubscribe link is not valid');
  return row;
};

const unsubscribeViewOf = (row: repo.SubscriptionRow, active: boolean): UnsubscribeView => ({
  subscriptionId: row.id,
  reason: followReason(targetOf(row)),
  channel: row.channel,
  active,
});

export const describeUnsubscribeToken = async (ctx: ServiceContext, token: string): Promise<UnsubscribeView> => {
  const row = await subscriptionOfToken(ctx, token);
  return unsubscribeViewOf(row, row.unsubscribed_at === null);
};

/** One-click unsubscribe by a signed token (anonymous). Idempotent: a second click finds it ended. */
export const unsubscribeByToken = async (ctx: ServiceContext, token: string): Promise<UnsubscribeView> => {
  const row = await subscriptionOfToken(ctx, token);
  await repo.endSubscription(ctx.database, row.id, ctx.clock().toISOString());
  return unsubscribeViewOf(row, false);
};

/** The signed unsubscribe link of a subscription. */
export const unsubscribeLink = async (ctx: ServiceContext, publicUrl: string, subscriptionId: string) =>
  unsubscribeUrl(publicUrl, signUnsubscribeToken(subscriptionId, await notificationKey(ctx)));

const presentDelivery = (row: repo.DeliveryLogRow, options: { webhookForMember?: boolean } = {}): Delivery => ({
  id: row.id,
  subscriptionId: row.subscription_id,
  itemKey: row.item_key,
  toStage: row.to_stage,
  status: row.status as Delivery['status'],
  attempts: Number(row.attempts),
  nextAttemptAt: row.next_attempt_at,
  // A webhook's failure tells ports apart (closed, filtered, open): only admins read it.
  lastError:
    options.webhookForMember && row.last_error !== null && (row.status === 'failed' || row.status === 'dead')
      ? WEBHOOK_FAILURE_FOR_MEMBERS
      : row.last_error,
  sentAt: row.sent_at,
  createdAt: row.created_at,
});

/** The delivery log of a subscription (its owner or an admin); owners see only items still visible. */
export const listSubscriptionDeliveries = async (
  ctx: ServiceContext,
  user: User,
  subscriptionId: string,
  limit = 200,
): Promise<Delivery[]> => {
  const subscription = await ownedSubscription(ctx, user, subscriptionId);
  const rows = await repo.listDeliveries(ctx.database, subscriptionId, {
    visibleOnly: user.role !== 'admin',
    limit,
  });
  const webhookForMember = subscription.channel === 'webhook' && user.role !== 'admin';
  return rows.map((row) => presentDelivery(row, { webhookForMember }));
};

/** Dead letters: deliveries that ran out of attempts or failed for good, newest first (admins). */
export const listDeadLetters = async (ctx: ServiceContext, limit = 200): Promise<Delivery[]> =>
  (await repo.listDeadDeliveries(ctx.database, limit)).map((row) => presentDelivery(row));

/** Puts a dead delivery back in line (admins): it is tried again on the next round, with fresh attempts. */
export const retryDead = async (ctx: ServiceContext, id: string): Promise<Delivery> => {
  const revived = await repo.reviveDelivery(ctx.database, id, ctx.clock().toISOString());
  const row = await repo.getDeliveryLog(ctx.database, id);
  if (!row) throw new AppError('LANES_NOT_FOUND', `no delivery ${id}`, { id });
  if (!revived)
    throw new AppError('LANES_CONFLICT', `delivery ${id} is ${row.status}, not dead`, { status: row.status });
  return presentDelivery(row);
};

// ---------------------------------------------------------------------------
// Fan-out

const toStage = (value: string | null): Stage | null =>
  value !== null && (STAGES as readonly string[]).includes(value) ? (value as Stage) : null;

const portalRowOf = (row: repo.PortalItemRow, stage: Stage): PortalRow => ({
  key: row.key,
  kind: row.kind as PortalRow['kind'],
  title: row.title,
  team: row.team,
  component: row.component,
  customer: row.customer,
  reporter: row.reporter,
  stage,
  url: row.url,
  visible: row.visible === 1,
  updatedAt: row.updated_at,
});

export interface FanOutResult {
  /** Stage changes handled. */
  changes: number;
  /** Deliveries created. */
  deliveries: number;
  /** Changes of items stakeholders may not see (or that are not in the portal): nobody is told. */
  invisible: number;
  /** Changes that had occurred too long before (a backfill's history): nobody is told. */
  old: number;
}

const FAN_OUT_BATCH = 100;

/**
 * Plans the notifications of every stage change not handled yet: one delivery
 * per active pushed subscription that matches the item (the item itself, its
 * component, its team, or a saved search that matches it in its new stage).
 * Each batch is one transaction that claims its changes (on PostgreSQL with
 * `FOR UPDATE SKIP LOCKED`), inserts the deliveries (`ON CONFLICT DO NOTHING`
 * on the pair) and marks the changes fanned out, so a crash or a second
 * instance can never plan a delivery twice.
 */
export const fanOut = async (
  ctx: ServiceContext,
  options: Pick<NotifierOptions, 'maxAgeMs' | 'digestHourUtc' | 'digestWeekday'> = {},
): Promise<FanOutResult> => {
  const result: FanOutResult = { changes: 0, deliveries: 0, invisible: 0, old: 0 };
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  for (;;) {
    const now = ctx.clock();
    const nowIso = now.toISOString();
    const slots = {
      daily: nextDigestAt('daily', now, options.digestHourUtc, options.digestWeekday).toISOString(),
      weekly: nextDigestAt('weekly', now, options.digestHourUtc, options.digestWeekday).toISOString(),
    };
    const handled = await withTransaction(ctx.database, async (tx) => {
      const changes = await repo.claimStageChangesToFanOut(tx, FAN_OUT_BATCH);
      if (changes.length === 0) return 0;
      const items = await repo.portalItemsByKey(
        tx.trx,
        changes.map((c) => c.item_key),
      );
      let searches: Array<{ sub: repo.FanOutSubscription; filters: SearchFilters }> | undefined;
      const rows: repo.NewDelivery[] = [];
      for (const change of changes) {
        const item = items.get(change.item_key);
        const stage = toStage(change.to_stage);
        if (!item || item.visible !== 1 || stage === null) {
          result.invisible += 1;
          continue;
        }
        if (now.getTime() - Date.parse(change.occurred_at) > maxAgeMs) {
          result.old += 1;
          continue;
        }
        const subs = new Map<string, repo.FanOutSubscription>();
        for (const s of await repo.subscriptionsForItem(tx, item)) subs.set(s.id, s);
        searches ??= (await repo.activeSearchSubscriptions(tx)).flatMap((sub) => {
          const filters = parseSearch(sub.search);
          return filters ? [{ sub, filters }] : [];
        });
        const row = portalRowOf(item, stage);
        for (const { sub, filters } of searches) if (itemMatchesSearch(row, filters)) subs.set(sub.id, sub);
        for (const sub of subs.values()) {
          const digest = sub.cadence === 'daily' ? slots.daily : sub.cadence === 'weekly' ? slots.weekly : null;
          rows.push({
            id: deliveryIdOf(sub.id, change.id),
            subscription_id: sub.id,
            stage_change_id: change.id,
            next_attempt_at: digest ?? nowIso,
            digest_at: digest,
            created_at: nowIso,
          });
        }
      }
      result.deliveries += await repo.insertDeliveries(tx, rows);
      await repo.markFannedOut(
        tx,
        changes.map((c) => c.id),
        nowIso,
      );
      return changes.length;
    });
    result.changes += handled;
    if (handled < FAN_OUT_BATCH) return result;
  }
};

// ---------------------------------------------------------------------------
// Dispatch

export interface DispatchResult {
  sent: number;
  /** Failed and scheduled for another attempt. */
  retrying: number;
  dead: number;
  skipped: number;
  /** Digest messages sent (each counts its deliveries in `sent`). */
  digests: number;
}

const NOT_CONFIGURED: Record<'email' | 'slack' | 'webhook', string> = {
  email: 'e-mail is not configured: set LANES_SMTP_URL and LANES_MAIL_FROM',
  slack: 'Slack is not configured: set LANES_SLACK_BOT_TOKEN',
  webhook: 'webhooks are not configured',
};

const parseEvidence = (json: string): StageEvidence => {
  try {
    const v = JSON.parse(json) as Partial<StageEvidence>;
    return {
      summary: typeof v.summary === 'string' && v.summary ? v.summary : 'The item was updated',
      source: typeof v.source === 'string' ? v.source : 'lanes',
      url: typeof v.url === 'string' ? v.url : null,
    };
  } catch {
    return { summary: 'The item was updated', source: 'lanes', url: null };
  }
};

const notifiableChange = (c: repo.StageChangeRow): NotifiableChange => ({
  id: c.id,
  itemKey: c.item_key,
  fromStage: toStage(c.from_stage),
  toStage: toStage(c.to_stage) ?? 'reported',
  occurredAt: c.occurred_at,
  evidence: parseEvidence(c.evidence),
});

type Outcome = { kind: 'sent' } | { kind: 'skipped'; reason: string } | { kind: 'failed'; error: unknown } | null;

/**
 * Sends what is due: deliveries on their own, then digests whose time has
 * come (all due deliveries of a subscription in one message). Deliveries are
 * claimed with a lease first, so two instances never send the same one; the
 * outcome is written only by the lease holder. A failed send is retried with
 * exponential backoff and jitter and is dead after the policy's attempts (or
 * at once when the failure is permanent). Returns when nothing more is due.
 */
export const dispatch = async (
  ctx: ServiceContext,
  senders: NotificationSenders,
  options: NotifierOptions,
): Promise<DispatchResult> => {
  const result: DispatchResult = { sent: 0, retrying: 0, dead: 0, skipped: 0, digests: 0 };
  const policy = options.retry ?? DEFAULT_RETRY_POLICY;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const batchSize = options.batchSize ?? 500;
  const concurrency = options.concurrency ?? 20;
  const random = options.random ?? Math.random;
  const by = `${options.instanceId ?? PROCESS_INSTANCE}:${randomUUID()}`;
  const key = await notificationKey(ctx);
  const titles = showsField(portalSettingsOf(ctx.charter()?.charter), 'title');
  const links = (subscriptionId: string) => ({
    item: (itemKey: string) => portalItemUrl(options.publicUrl, itemKey),
    unsubscribe: unsubscribeUrl(options.publicUrl, signUnsubscribeToken(subscriptionId, key)),
  });
  const itemOf = (c: repo.DeliveryContext): NotifiableItem => ({
    key: c.change.item_key,
    title: titles ? (c.item?.title ?? null) : null,
  });
  const claimOf = () => {
    const now = ctx.clock();
    return { now: now.toISOString(), until: new Date(now.getTime() + leaseMs).toISOString(), by };
  };
  const margin = Math.min(LEASE_MARGIN_MS, leaseMs / 4);
  const leaseLeft = (claim: repo.Claim) => Date.parse(claim.until) - ctx.clock().getTime() > margin;

  /** Whether this delivery should not be sent at all, and why. */
  const skipReason = (c: repo.DeliveryContext): string | null => {
    if (c.subscription.unsubscribed_at !== null) return 'unsubscribed';
    if (!c.item || c.item.visible !== 1) return 'the item is no longer visible to stakeholders';
    if (c.subscription.channel === 'feed') return 'feeds are read, not sent';
    if (c.subscription.consent === 'pending') return 'waiting for the address to confirm';
    return null;
  };

  const send = async (row: repo.SubscriptionRow, notificationKey: string, message: NotificationMessage) => {
    const channel = row.channel as 'email' | 'slack' | 'webhook';
    const sender = senders[channel];
    if (!sender) throw new DeliveryFailure(NOT_CONFIGURED[channel]);
    const outgoing: OutgoingNotification = {
      key: notificationKey,
      address: row.address ?? '',
      secret: row.secret,
      message,
      unsubscribeUrl: links(row.id).unsubscribe,
    };
    await sender(outgoing);
  };

  /** Writes the outcome of a failed send for these deliveries (all share one attempt count per digest). */
  const recordFailure = async (ids: string[], attempts: number, error: unknown, claimedAt: string) => {
    const message = error instanceof Error ? error.message : String(error);
    const permanent = error instanceof DeliveryFailure && error.permanent;
    const plan = permanent ? { dead: true as const } : planRetry(attempts, random(), policy);
    if (plan.dead) {
      result.dead += await repo.finishDeliveries(ctx.database, ids, by, {
        status: 'dead',
        error: permanent ? message : `${message} (gave up after ${attempts} attempts)`,
      });
      ctx.logger.warn({ deliveries: ids.length, error: message }, 'notification delivery is dead');
    } else {
      // Counted from the claim, not from the failure, so how long a send took (a filtered port's timeout) does not show.
      const nextAttemptAt = new Date(Date.parse(claimedAt) + plan.delayMs).toISOString();
      result.retrying += await repo.finishDeliveries(ctx.database, ids, by, {
        status: 'failed',
        nextAttemptAt,
        error: message,
      });
    }
  };

  // Deliveries sent on their own.
  for (;;) {
    const claim = claimOf();
    const claimed = await repo.claimDueDeliveries(ctx.database, claim, batchSize);
    if (claimed.length === 0) break;
    const attempts = new Map(claimed.map((c) => [c.id, Number(c.attempts)]));
    const contexts = await repo.loadDeliveryContexts(ctx.database, claimed);
    const known = new Set(contexts.map((c) => c.id));
    const orphans = claimed.filter((c) => !known.has(c.id)).map((c) => c.id);
    if (orphans.length > 0) {
      result.skipped += await repo.finishDeliveries(ctx.database, orphans, by, {
        status: 'skipped',
        error: 'the subscription or the stage change is gone',
      });
    }
    const outcomes = await mapWithConcurrency(contexts, concurrency, async (c): Promise<Outcome> => {
      const reason = skipReason(c);
      if (reason !== null) return { kind: 'skipped', reason };
      // Too little of the lease left: leave it for the next claim rather than risk two sends.
      if (!leaseLeft(claim)) return null;
      try {
        const message = composeNotification({
          change: notifiableChange(c.change),
          item: itemOf(c),
          target: targetOf(c.subscription),
          links: links(c.subscription.id),
        });
        await send(c.subscription, c.id, message);
        return { kind: 'sent' };
      } catch (error) {
        return { kind: 'failed', error };
      }
    });
    const sent: string[] = [];
    const skipped = new Map<string, string[]>();
    for (const [i, outcome] of outcomes.entries()) {
      const id = contexts[i]!.id;
      if (outcome?.kind === 'sent') sent.push(id);
      else if (outcome?.kind === 'skipped') skipped.set(outcome.reason, [...(skipped.get(outcome.reason) ?? []), id]);
      else if (outcome?.kind === 'failed') await recordFailure([id], attempts.get(id) ?? 1, outcome.error, claim.now);
    }
    result.sent += await repo.finishDeliveries(ctx.database, sent, by, {
      status: 'sent',
      at: ctx.clock().toISOString(),
    });
    for (const [reason, ids] of skipped) {
      result.skipped += await repo.finishDeliveries(ctx.database, ids, by, { status: 'skipped', error: reason });
    }
    if (claimed.length < batchSize) break;
  }

  // Digests: every due delivery of a subscription in one message.
  for (;;) {
    const subscriptionIds = await repo.subscriptionsWithDueDigests(ctx.database, ctx.clock().toISOString(), 100);
    let claimedAny = false;
    for (const subscriptionId of subscriptionIds) {
      const claim = claimOf();
      const claimed = await repo.claimDigest(ctx.database, subscriptionId, claim);
      if (claimed.length === 0) continue;
      claimedAny = true;
      const contexts = await repo.loadDeliveryContexts(ctx.database, claimed);
      const sendable = contexts.filter((c) => skipReason(c) === null);
      const skippedIds = claimed.map((c) => c.id).filter((id) => !sendable.some((s) => s.id === id));
      if (skippedIds.length > 0) {
        const reason = contexts.find((c) => skipReason(c) !== null);
        result.skipped += await repo.finishDeliveries(ctx.database, skippedIds, by, {
          status: 'skipped',
          error: (reason && skipReason(reason)) ?? 'the subscription or the stage change is gone',
        });
      }
      if (sendable.length === 0) continue;
      const row = sendable[0]!.subscription;
      const ids = sendable.map((c) => c.id).sort();
      const attempts = Math.max(...claimed.filter((c) => ids.includes(c.id)).map((c) => Number(c.attempts)));
      try {
        const entries: DigestEntry[] = sendable.map((c) => ({ change: notifiableChange(c.change), item: itemOf(c) }));
        const message = composeDigest({
          cadence: row.cadence === 'weekly' ? 'weekly' : 'daily',
          entries,
          target: targetOf(row),
          links: links(row.id),
        });
        await send(row, `digest-${createHash('sha256').update(ids.join(',')).digest('hex').slice(0, 32)}`, message);
        result.sent += await repo.finishDeliveries(ctx.database, ids, by, {
          status: 'sent',
          at: ctx.clock().toISOString(),
        });
        result.digests += 1;
      } catch (error) {
        await recordFailure(ids, attempts, error, claim.now);
      }
    }
    if (!claimedAny || subscriptionIds.length < 100) break;
  }
  return result;
};

// ---------------------------------------------------------------------------
// Feeds

const FEED_ENTRIES = 50;

/**
 * The Atom feed behind a feed subscription's secret URL: the latest stage
 * changes of visible items it follows. Unknown or ended feeds are "not found".
 */
export const renderFeed = async (
  ctx: ServiceContext,
  token: string,
  options: { publicUrl: string },
): Promise<string> => {
  const row = token.length >= 16 ? await repo.findSubscriptionByFeedHash(ctx.database, sha256(token)) : undefined;
  if (!row || row.channel !== 'feed') throw new AppError('LANES_NOT_FOUND', 'no such feed');
  const search = row.target_kind === 'search' ? parseSearch(row.search) : null;
  const filter =
    row.target_kind === 'item'
      ? { itemKey: row.target }
      : row.target_kind === 'team'
        ? { team: row.target }
        : row.target_kind === 'component'
          ? { component: row.target }
          : { team: search?.team, component: search?.component };
  // A saved search that no longer parses shows nothing rather than everything.
  const rows =
    row.target_kind === 'search' && !search
      ? []
      : await repo.recentVisibleChanges(ctx.database, filter, search ? 1000 : FEED_ENTRIES);
  const entries = (
    search
      ? rows.filter((r) => {
          const stage = toStage(r.to_stage);
          return stage !== null && itemMatchesSearch(portalRowOf({ ...r, key: r.item_key, visible: 1 }, stage), search);
        })
      : rows
  ).slice(0, FEED_ENTRIES);
  const titles = showsField(portalSettingsOf(ctx.charter()?.charter), 'title');
  const self = feedUrl(options.publicUrl, token);
  const target = targetOf(row);
  const feed = new Feed({
    id: `urn:lanes:feed:${row.id}`,
    title: `Lanes: stage changes — ${followReason(target).replace(/^you follow /, '')}`,
    link: `${options.publicUrl}/portal`,
    updated: new Date(entries[0]?.occurred_at ?? row.created_at),
    generator: 'Lanes',
    feedLinks: { atom: self },
    copyright: '',
  });
  for (const e of entries) {
    const change = notifiableChange(e);
    const headline = stageHeadline(e.item_key, change.fromStage, change.toStage);
    const from = change.fromStage === null ? '' : ` from ${STAGE_LABELS[change.fromStage]}`;
    feed.addItem({
      id: `urn:lanes:stage-change:${e.id}`,
      // The feed library marks titles and summaries type="html": plain text goes in escaped.
      title: escapeHtml(titles ? `${headline}: ${e.title}` : headline),
      link: portalItemUrl(options.publicUrl, e.item_key),
      date: new Date(e.occurred_at),
      description: escapeHtml(
        `It moved${from} to ${STAGE_LABELS[change.toStage]} on ${formatWhen(e.occurred_at)}. ${change.evidence.summary}.`,
      ),
    });
  }
  return feed.atom1();
};

// ---------------------------------------------------------------------------
// Senders and the notifier loop

/**
 * The senders the secrets allow: e-mail with `LANES_SMTP_URL` and
 * `LANES_MAIL_FROM`, Slack with `LANES_SLACK_BOT_TOKEN` (`LANES_SLACK_API_URL`
 * to point elsewhere), webhooks always.
 */
export const buildNotificationSenders = (
  secrets: Readonly<Secrets>,
  options: { publicUrl: string; webhookTimeoutMs?: number; outboundAllow?: OutboundAllow | undefined },
): NotificationSenders => {
  // Webhooks go only where the outbound guard allows (LANES_OUTBOUND_ALLOW lets internal receivers through).
  const guard = createOutboundGuard({ allow: options.outboundAllow });
  const senders: NotificationSenders = {
    webhook: webhookSender({ timeoutMs: options.webhookTimeoutMs ?? 10_000, guard }),
    close: async () => guard.close(),
  };
  const smtpUrl = secrets.LANES_SMTP_URL;
  const from = secrets.LANES_MAIL_FROM;
  if (smtpUrl && from) {
    let email;
    try {
      email = createEmailSender({ smtpUrl, from, messageIdDomain: new URL(options.publicUrl).hostname || 'lanes' });
    } catch (error) {
      throw new AppError('LANES_CONFIG_INVALID', (error as Error).message);
    }
    senders.email = email.send;
    senders.close = async () => {
      guard.close();
      await email.close();
    };
  }
  const token = secrets.LANES_SLACK_BOT_TOKEN;
  if (token) {
    senders.slack = slackNotificationSender(
      createHttpClient({
        baseUrl: secrets.LANES_SLACK_API_URL ?? 'https://slack.com/api/',
        authorization: async () => `Bearer ${token}`,
        userAgent: 'lanes-notifications',
        maxAttempts: 1,
        maxWaitMs: 30_000,
        timeoutMs: 10_000,
      }),
    );
  }
  return senders;
};

export interface Notifier {
  /** Runs fan-out and dispatch now and then every `intervalMs`, until closed. */
  start(): void;
  /** One round of fan-out and dispatch (what the loop runs). */
  runOnce(): Promise<{ fanOut: FanOutResult; dispatch: DispatchResult; consent: ConsentRoundResult }>;
  /** Stops the loop, waits for the round in flight, and closes the senders' connections. */
  close(): Promise<void>;
}

/**
 * The notification loop `lanes serve` runs: every `intervalMs` (default 2 s)
 * plan deliveries for new stage changes, then send what is due. Safe to run
 * on several instances at once on one PostgreSQL.
 */
export const createNotifier = (
  ctx: ServiceContext,
  senders: NotificationSenders,
  options: NotifierOptions & { intervalMs?: number },
): Notifier => {
  const intervalMs = options.intervalMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> | undefined;
  let closed = false;
  const failures = createRoundFailures(ctx, 'the notification round', { intervalMs });
  const runOnce = async () => ({
    fanOut: await fanOut(ctx, options),
    dispatch: await dispatch(ctx, senders, options),
    // Confirmation requests for e-mail to someone else's address (src/services/subscription.consent.ts).
    consent: await sendConsentRequests(ctx, senders, options),
  });
  const loop = () => {
    if (closed) return;
    let wait = intervalMs;
    inFlight = runOnce()
      .then(() => void (wait = failures.succeeded()))
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
      await senders.close?.();
    },
  };
};
