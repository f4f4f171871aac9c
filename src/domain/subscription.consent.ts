import { escapeHtml, formatWhen, type NotificationMessage } from './notification.js';
import { STAGE_LABELS, type Stage } from './stage.js';

/**
 * Consent for e-mail to someone else's address (issue 13, finding 5): a
 * subscription to an address other than the subscriber's own waits until the
 * address's owner confirms through a link e-mailed to it, and nothing else is
 * sent there before. The request prints nothing the subscriber typed (not the
 * saved-search name, not a search's words, not a team or component Lanes does
 * not know): only fixed wording, the subscriber as Lanes knows them, and what
 * would be followed as Lanes describes it. Pure: times and links are passed in.
 */

/** How long a confirm link works after the request is sent. */
export const CONSENT_TTL_MS = 7 * 86_400_000;
/** After a decline, no new request goes to that address for this long. */
export const DECLINE_QUIET_MS = 30 * 86_400_000;
/** Confirmation requests per address in any 24 hours. */
export const CONSENT_REQUESTS_PER_DAY = 3;
export const DAY_MS = 86_400_000;

export const CONSENT_STATES = ['pending', 'confirmed', 'declined', 'expired'] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];
export type ConsentAnswer = 'confirm' | 'decline';

/** What a request says would be followed: only names Lanes knows (null when it does not know the one given). */
export type ConsentSubject =
  | { kind: 'item'; key: string }
  | { kind: 'team'; name: string | null }
  | { kind: 'component'; name: string | null }
  | { kind: 'search'; team: string | null; component: string | null; stage: Stage | null; otherFilters: boolean };

/** "stage changes of the item PAY-231", "stage changes of items in a saved search (team Payments, stage Live)". */
export const describeConsentSubject = (subject: ConsentSubject): string => {
  switch (subject.kind) {
    case 'item':
      return `stage changes of the item ${subject.key}`;
    case 'team':
      return subject.name ? `stage changes of the team ${subject.name}’s items` : 'stage changes of a team’s items';
    case 'component':
      return subject.name
        ? `stage changes of items of the component ${subject.name}`
        : 'stage changes of items of a component';
    case 'search': {
      const parts = [
        ...(subject.team ? [`team ${subject.team}`] : []),
        ...(subject.component ? [`component ${subject.component}`] : []),
        ...(subject.stage ? [`stage ${STAGE_LABELS[subject.stage]}`] : []),
        ...(subject.otherFilters ? ['other filters'] : []),
      ];
      return `stage changes of items that match a saved search${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
    }
  }
};

/** Names as Lanes holds them, on one line and of a bounded length, so a request cannot carry a paragraph. */
export const oneLine = (text: string, max = 100): string => {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

export const consentUrl = (publicUrl: string, token: string, answer: ConsentAnswer): string =>
  `${publicUrl}/confirm-subscription?token=${encodeURIComponent(token)}${answer === 'decline' ? '&answer=decline' : ''}`;

const CADENCE_WORDS: Record<string, string> = {
  immediate: 'as they happen',
  daily: 'once a day',
  weekly: 'once a week',
};

/** The confirmation request: a fixed subject, fixed wording, and the two links. */
export const composeConsentRequest = (input: {
  subscriber: { name: string; email: string };
  address: string;
  subject: ConsentSubject;
  cadence: string;
  links: { confirm: string; decline: string };
  expiresAt: string;
}): NotificationMessage => {
  const who = `${oneLine(input.subscriber.name)} (${oneLine(input.subscriber.email, 320)})`;
  const what = `${describeConsentSubject(input.subject)}, ${CADENCE_WORDS[input.cadence] ?? 'as they happen'}`;
  const subject = 'Confirm e-mails from Lanes';
  const asked = `${who} asked Lanes to e-mail ${input.address} about ${what}.`;
  const nothing = 'Nothing more is sent to this address unless you confirm. If you did not expect this, ignore it.';
  const until = `The confirm link works until ${formatWhen(input.expiresAt)}.`;
  const declineNote = 'If you decline, Lanes sends this address no new request for 30 days.';
  const text = [
    asked,
    '',
    nothing,
    '',
    `Confirm: ${input.links.confirm}`,
    `Decline: ${input.links.decline}`,
    '',
    `${until} ${declineNote}`,
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">',
    `<p>${escapeHtml(asked)}</p>`,
    `<p>${escapeHtml(nothing)}</p>`,
    `<p><a href="${escapeHtml(input.links.confirm)}">Confirm</a> · <a href="${escapeHtml(input.links.decline)}">Decline</a></p>`,
    `<p style="color:#666;font-size:12px">${escapeHtml(until)} ${escapeHtml(declineNote)}</p>`,
    '</body></html>',
  ].join('\n');
  return {
    subject,
    text,
    html,
    slack: text,
    payload: { type: 'subscription.confirmation_requested' },
  };
};

/** The first moment a limit of `count` per window lets one more through, given the oldest time inside it. */
export const windowReopensAt = (oldestInWindow: string, windowMs: number): string =>
  new Date(Date.parse(oldestInWindow) + windowMs).toISOString();
