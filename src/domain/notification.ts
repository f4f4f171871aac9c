import { createHmac, timingSafeEqual } from 'node:crypto';
import { CLOSED_STAGES, STAGE_LABELS, type Stage } from './stage.js';

/**
 * Notifications of stage changes (PRODUCT.md C4): what a message says, how a
 * digest groups changes, how webhooks are signed, how failed sends back off,
 * and the signed unsubscribe token. Pure: time, randomness and keys are passed in.
 */

export const NOTIFICATION_TARGETS = ['item', 'component', 'team', 'search'] as const;
export type NotificationTargetKind = (typeof NOTIFICATION_TARGETS)[number];
export const NOTIFICATION_CHANNELS = ['email', 'slack', 'webhook', 'feed'] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
export const NOTIFICATION_CADENCES = ['immediate', 'daily', 'weekly'] as const;
export type NotificationCadence = (typeof NOTIFICATION_CADENCES)[number];
export const DELIVERY_STATUSES = ['pending', 'sending', 'sent', 'failed', 'dead', 'skipped'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** What caused a stage change, in plain words. */
export interface StageEvidence {
  summary: string;
  source: string;
  url: string | null;
}

/** One stage change of an item, as notifications tell it. */
export interface NotifiableChange {
  id: string;
  itemKey: string;
  fromStage: Stage | null;
  toStage: Stage;
  occurredAt: string;
  evidence: StageEvidence;
}

/** The item, with only what stakeholders may see (`title` null when the charter hides it). */
export interface NotifiableItem {
  key: string;
  title: string | null;
}

/** What a subscription follows, for the "why you get this" line. */
export interface NotificationTarget {
  kind: NotificationTargetKind;
  value: string;
}

/** One message, rendered for every channel. */
export interface NotificationMessage {
  subject: string;
  /** Plain text for e-mail. */
  text: string;
  /** HTML for e-mail; every value from a source is escaped. */
  html: string;
  /** Slack mrkdwn; every value from a source is escaped. */
  slack: string;
  /** The JSON body of a webhook. */
  payload: Record<string, unknown>;
}

/** The links a message carries. */
export interface MessageLinks {
  /** `${publicUrl}/portal/items/<key>` for each item key. */
  item: (key: string) => string;
  /** The signed one-click unsubscribe link. */
  unsubscribe: string;
}

/** The portal page of an item. */
export const portalItemUrl = (publicUrl: string, key: string): string =>
  `${publicUrl}/portal/items/${encodeURIComponent(key)}`;

export const unsubscribeUrl = (publicUrl: string, token: string): string =>
  `${publicUrl}/unsubscribe?token=${encodeURIComponent(token)}`;

export const feedUrl = (publicUrl: string, token: string): string => `${publicUrl}/feeds/${token}.atom`;

export const stageLabel = (stage: Stage | null): string => (stage === null ? 'new' : STAGE_LABELS[stage]);

/** "PAY-231 is now Live", "PAY-231 won't be fixed", "PAY-231 was reopened". */
export const stageHeadline = (key: string, from: Stage | null, to: Stage): string => {
  if (to === 'wont_fix') return `${key} won't be fixed`;
  if (to === 'duplicate') return `${key} was closed as a duplicate`;
  if (to === 'invalid') return `${key} was closed as not a bug`;
  if (to === 'cannot_reproduce') return `${key} was closed: the team could not reproduce it`;
  if (to === 'incomplete') return `${key} was closed for lack of information`;
  if (to === 'resolved') return `${key} is resolved`;
  if (to === 'reported' || (to === 'investigating' && from !== null && CLOSED_STAGES.has(from)))
    return from === null ? `${key} was reported` : `${key} was reopened`;
  return `${key} is now ${STAGE_LABELS[to]}`;
};

/** What the stage means for the person reading, in one sentence (an incident's in incident words). */
const STAGE_MEANING: Record<Stage, string> = {
  reported: 'It is waiting for the team to look at it.',
  acknowledged: 'The team has seen it and will decide what to do.',
  waiting: 'The team is waiting on someone outside the team before it can go on.',
  scheduled: 'The team has planned the work.',
  being_fixed: 'Someone is working on a fix.',
  fix_in_review: 'A fix is written and being reviewed.',
  fix_ready: 'The fix is merged; no production deployment carrying it is recorded yet.',
  fixed: 'The team closed it as fixed; its release is not recorded, so whether customers have it is not known.',
  live: 'The fix is released: customers have it.',
  verified: 'The fix is done and confirmed to work.',
  wont_fix: 'The team decided not to fix it.',
  duplicate: 'It is the same as another item, which carries on.',
  invalid: 'The team found it is not a bug.',
  cannot_reproduce: 'The team could not reproduce it.',
  incomplete: 'The report did not have enough information to act on.',
  investigating: 'The team is investigating the incident.',
  identified: 'The cause of the incident is identified; the team is working to mitigate it.',
  monitoring: 'A mitigation is in place; the team is monitoring the service.',
  resolved: 'The incident is over.',
};

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** "1 June 2026, 10:00 UTC". */
export const formatWhen = (iso: string): string => {
  const parts = Object.fromEntries(dateFormat.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts['day']} ${parts['month']} ${parts['year']}, ${parts['hour']}:${parts['minute']} UTC`;
};

/** Why the reader gets this, from what they follow. */
export const followReason = (target: NotificationTarget): string => {
  switch (target.kind) {
    case 'item':
      return `you follow ${target.value}`;
    case 'component':
      return `you follow the component ${target.value}`;
    case 'team':
      return `you follow the team ${target.value}`;
    case 'search':
      return `you follow the saved search “${target.value}”`;
  }
};

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Slack's three control characters; anything else is shown as typed. */
export const escapeSlack = (text: string): string =>
  text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);

/** Only http(s) links are ever rendered as links. */
const safeUrl = (url: string | null): string | null => (url && /^https?:\/\//i.test(url) ? url : null);

const changePayload = (change: NotifiableChange, item: NotifiableItem, links: MessageLinks) => ({
  changeId: change.id,
  occurredAt: change.occurredAt,
  item: { key: item.key, title: item.title, url: links.item(item.key) },
  from: change.fromStage,
  fromLabel: change.fromStage === null ? null : STAGE_LABELS[change.fromStage],
  to: change.toStage,
  toLabel: STAGE_LABELS[change.toStage],
  headline: stageHeadline(item.key, change.fromStage, change.toStage),
  evidence: { summary: change.evidence.summary, source: change.evidence.source, url: safeUrl(change.evidence.url) },
});

/** The message about one stage change, for every channel. */
export const composeNotification = (input: {
  change: NotifiableChange;
  item: NotifiableItem;
  target: NotificationTarget;
  links: MessageLinks;
}): NotificationMessage => {
  const { change, item, target, links } = input;
  const subject = stageHeadline(item.key, change.fromStage, change.toStage);
  const moved =
    change.fromStage === null
      ? `It became ${STAGE_LABELS[change.toStage]} on ${formatWhen(change.occurredAt)}.`
      : `It moved from ${STAGE_LABELS[change.fromStage]} to ${STAGE_LABELS[change.toStage]} on ${formatWhen(change.occurredAt)}.`;
  const meaning = STAGE_MEANING[change.toStage];
  const evidenceUrl = safeUrl(change.evidence.url);
  const itemUrl = links.item(item.key);
  const why = followReason(target);

  const text = [
    `${subject}.`,
    ...(item.title ? [`“${item.title}”`] : []),
    '',
    `${moved} ${meaning}`,
    `What changed it: ${change.evidence.summary}${evidenceUrl ? ` (${evidenceUrl})` : ''}`,
    '',
    `Where it stands: ${itemUrl}`,
    '',
    `You get this because ${why}. Unsubscribe with one click: ${links.unsubscribe}`,
  ].join('\n');

  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">',
    `<p><strong>${escapeHtml(subject)}.</strong>${item.title ? `<br>“${escapeHtml(item.title)}”` : ''}</p>`,
    `<p>${escapeHtml(moved)} ${escapeHtml(meaning)}</p>`,
    `<p>What changed it: ${
      evidenceUrl
        ? `<a href="${escapeHtml(evidenceUrl)}">${escapeHtml(change.evidence.summary)}</a>`
        : escapeHtml(change.evidence.summary)
    }</p>`,
    `<p><a href="${escapeHtml(itemUrl)}">See where ${escapeHtml(item.key)} stands</a></p>`,
    `<p style="color:#666;font-size:12px">You get this because ${escapeHtml(why)}. `,
    `<a href="${escapeHtml(links.unsubscribe)}">Unsubscribe</a></p>`,
    '</body></html>',
  ].join('\n');

  const slack = [
    `*<${escapeSlack(itemUrl)}|${escapeSlack(subject)}>*${item.title ? ` — ${escapeSlack(item.title)}` : ''}`,
    `${escapeSlack(moved)} ${escapeSlack(meaning)}`,
    `What changed it: ${
      evidenceUrl
        ? `<${escapeSlack(evidenceUrl)}|${escapeSlack(change.evidence.summary)}>`
        : escapeSlack(change.evidence.summary)
    }`,
    `_You get this because ${escapeSlack(why)}. <${escapeSlack(links.unsubscribe)}|Unsubscribe>_`,
  ].join('\n');

  return {
    subject,
    text,
    html,
    slack,
    payload: {
      type: 'item.stage_changed',
      ...changePayload(change, item, links),
      subscription: { target, unsubscribeUrl: links.unsubscribe },
    },
  };
};

/** One line of a digest. */
export interface DigestEntry {
  change: NotifiableChange;
  item: NotifiableItem;
}

/**
 * One message for the changes a daily or weekly subscription collected, oldest
 * first, with each item's latest stage first in the summary line.
 */
export const composeDigest = (input: {
  cadence: Exclude<NotificationCadence, 'immediate'>;
  entries: readonly DigestEntry[];
  target: NotificationTarget;
  links: MessageLinks;
}): NotificationMessage => {
  const { cadence, target, links } = input;
  const entries = [...input.entries].sort(
    (a, b) => a.change.occurredAt.localeCompare(b.change.occurredAt) || a.change.id.localeCompare(b.change.id),
  );
  const items = new Set(entries.map((e) => e.item.key));
  const period = cadence === 'daily' ? 'Daily' : 'Weekly';
  const subject =
    entries.length === 1
      ? `${period} digest: ${stageHeadline(entries[0]!.item.key, entries[0]!.change.fromStage, entries[0]!.change.toStage)}`
      : `${period} digest: ${entries.length} stage changes on ${items.size} item${items.size === 1 ? '' : 's'}`;
  const why = followReason(target);
  const line = (e: DigestEntry) =>
    `${stageHeadline(e.item.key, e.change.fromStage, e.change.toStage)}${e.item.title ? ` (${e.item.title})` : ''} — ${formatWhen(e.change.occurredAt)}. ${e.change.evidence.summary}.`;

  const text = [
    `${subject}.`,
    '',
    ...entries.map((e) => `- ${line(e)} ${links.item(e.item.key)}`),
    '',
    `You get this ${cadence === 'daily' ? 'daily' : 'weekly'} because ${why}. Unsubscribe with one click: ${links.unsubscribe}`,
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">',
    `<p><strong>${escapeHtml(subject)}</strong></p>`,
    '<ul>',
    ...entries.map((e) => `<li><a href="${escapeHtml(links.item(e.item.key))}">${escapeHtml(line(e))}</a></li>`),
    '</ul>',
    `<p style="color:#666;font-size:12px">You get this ${cadence} because ${escapeHtml(why)}. `,
    `<a href="${escapeHtml(links.unsubscribe)}">Unsubscribe</a></p>`,
    '</body></html>',
  ].join('\n');
  const slack = [
    `*${escapeSlack(subject)}*`,
    ...entries.map((e) => `• <${escapeSlack(links.item(e.item.key))}|${escapeSlack(line(e))}>`),
    `_You get this ${cadence} because ${escapeSlack(why)}. <${escapeSlack(links.unsubscribe)}|Unsubscribe>_`,
  ].join('\n');
  return {
    subject,
    text,
    html,
    slack,
    payload: {
      type: 'digest',
      cadence,
      changes: entries.map((e) => changePayload(e.change, e.item, links)),
      subscription: { target, unsubscribeUrl: links.unsubscribe },
    },
  };
};

// ---------------------------------------------------------------------------
// Webhook signatures

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`, sent as `X-Lanes-Signature` with `X-Lanes-Timestamp`. */
export const signWebhook = (secret: string, timestamp: number, body: string): string =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;

/**
 * What a receiver does: recompute the signature over the timestamp and the raw
 * body, compare in constant time, and refuse timestamps older (or newer) than
 * the tolerance, so a captured request cannot be replayed later.
 */
export const verifyWebhookSignature = (input: {
  secret: string;
  signature: string | undefined;
  timestamp: string | undefined;
  body: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean => {
  const ts = Number(input.timestamp);
  if (!input.signature || !Number.isInteger(ts)) return false;
  if (Math.abs(input.nowSeconds - ts) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(input.secret, ts, input.body));
  const given = Buffer.from(input.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
};

// ---------------------------------------------------------------------------
// Retries

export interface RetryPolicy {
  /** The first retry waits about this long. */
  baseMs: number;
  /** No wait is longer than this. */
  capMs: number;
  /** After this many failed attempts the delivery is dead (an admin may retry it). */
  maxAttempts: number;
}

/** 1 min, 2, 4, … capped at 1 h; dead after 8 attempts (about 4 hours of trying). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { baseMs: 60_000, capMs: 3_600_000, maxAttempts: 8 };

/**
 * After `attempts` failed attempts: dead, or retry after an exponential delay
 * with jitter (`random` in [0, 1) spreads it over half to all of the delay, so
 * many failures at once do not retry at once).
 */
export const planRetry = (
  attempts: number,
  random: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): { dead: true } | { dead: false; delayMs: number } => {
  if (attempts >= policy.maxAttempts) return { dead: true };
  const exponential = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
  return { dead: false, delayMs: Math.round(exponential * (0.5 + random / 2)) };
};

/**
 * A send that failed. `permanent` when trying again cannot help (a refused
 * address, a Slack channel that does not exist, a webhook answering 4xx): the
 * delivery is dead at once.
 */
export class DeliveryFailure extends Error {
  override readonly name = 'DeliveryFailure';
  constructor(
    message: string,
    readonly permanent: boolean = false,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Digests

/**
 * The first digest time after `after`: every day at `hourUtc`:00 UTC (daily),
 * or on `weekday` (0 = Sunday, 1 = Monday) at that hour (weekly).
 */
export const nextDigestAt = (
  cadence: Exclude<NotificationCadence, 'immediate'>,
  after: Date,
  hourUtc = 9,
  weekday = 1,
): Date => {
  const slot = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate(), hourUtc));
  if (slot.getTime() <= after.getTime()) slot.setUTCDate(slot.getUTCDate() + 1);
  if (cadence === 'weekly') while (slot.getUTCDay() !== weekday) slot.setUTCDate(slot.getUTCDate() + 1);
  return slot;
};

// ---------------------------------------------------------------------------
// Unsubscribe tokens

const unsubscribeMac = (subscriptionId: string, key: string): string =>
  createHmac('sha256', key).update(`unsubscribe:${subscriptionId}`).digest('base64url').slice(0, 32);

/**
 * A token that names one subscription and proves Lanes issued it: the id and
 * an HMAC of it under the workspace's notification key. It does not expire, so
 * the link in an old message still works.
 */
export const signUnsubscribeToken = (subscriptionId: string, key: string): string =>
  `${Buffer.from(subscriptionId, 'utf8').toString('base64url')}.${unsubscribeMac(subscriptionId, key)}`;

/** The subscription id a token names, or null when it is forged or malformed. */
export const verifyUnsubscribeToken = (token: string, key: string): string | null => {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.length > 400) return null;
  const id = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8');
  if (!id || Buffer.from(id, 'utf8').toString('base64url') !== token.slice(0, dot)) return null;
  const expected = Buffer.from(unsubscribeMac(id, key));
  const given = Buffer.from(token.slice(dot + 1));
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : null;
};
