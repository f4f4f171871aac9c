import type { Charter } from './charter.schema.js';
import type { Stage } from './stage.js';

/**
 * The plain-language status of an item for stakeholders (PRODUCT.md C4):
 * where it stands, what happens next, and when the next update is due per the
 * charter's response targets. Pure: the instant is passed in.
 */

const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const UNIT_WORDS = { m: 'minute', h: 'hour', d: 'day', w: 'week' } as const;

/** `4h` → milliseconds; null when malformed. */
export const durationMs = (duration: string): number | null => {
  const m = /^(\d+)(m|h|d|w)$/.exec(duration);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null;
};

/** `4h` → "4 hours", `1d` → "day". */
export const durationWords = (duration: string): string => {
  const m = /^(\d+)(m|h|d|w)$/.exec(duration);
  if (!m) return duration;
  const n = Number(m[1]);
  const unit = UNIT_WORDS[m[2] as keyof typeof UNIT_WORDS];
  return n === 1 ? unit : `${n} ${unit}s`;
};

const day = (iso: string): string =>
  new Date(iso).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

export interface StatusInput {
  stage: Stage;
  kind: string;
  severity: string | null;
  createdAt: string;
  /** When the item last changed stage. */
  stageSince: string;
  deployedAt: string | null;
  verifiedAt: string | null;
  /** The item this one duplicates, when known and visible. */
  duplicateOf: string | null;
}

export interface StatusWords {
  status: string;
  next: string;
  nextUpdateDue: string | null;
  responseTarget: string | null;
}

const OPEN_STAGES: ReadonlySet<Stage> = new Set([
  'reported',
  'acknowledged',
  'scheduled',
  'being_fixed',
  'fix_in_review',
  'fix_ready',
]);

/** Where it stands and what happens next, in a sentence each, and the next update due. */
export const statusWords = (input: StatusInput, charter: Charter | undefined, now: Date): StatusWords => {
  const noun = input.kind === 'incident' ? 'incident' : input.kind === 'feature' ? 'request' : 'bug';
  let status: string;
  let next: string;
  switch (input.stage) {
    case 'reported':
      status = `Reported on ${day(input.createdAt)}; the team has not confirmed it yet.`;
      next = `The team looks at the ${noun}, confirms it and decides how urgent it is.`;
      break;
    case 'acknowledged':
      status = `The team has confirmed the ${noun} and will plan the work.`;
      next = 'It gets scheduled into a sprint or a release.';
      break;
    case 'scheduled':
      status = 'The work is planned; nobody has started on it yet.';
      next = 'An engineer starts on it.';
      break;
    case 'being_fixed':
      status = input.kind === 'feature' ? 'An engineer is building it.' : 'An engineer is working on a fix.';
      next = 'The change goes to review.';
      break;
    case 'fix_in_review':
      status = 'A change is written and being reviewed.';
      next = 'Once it is approved and merged, it waits for the next release to production.';
      break;
    case 'fix_ready':
      status = 'The change is merged but not live yet: it waits for a release to production.';
      next = 'The next production deployment that carries it makes it live for customers.';
      break;
    case 'live':
      status = input.deployedAt
        ? `Live for customers since ${day(input.deployedAt)}.`
        : `Marked done on ${day(input.stageSince)}; Lanes has no record of the production deployment.`;
      next = 'Someone checks it in production and marks it verified.';
      break;
    case 'verified':
      status = `Fixed, live and verified${input.verifiedAt ? ` on ${day(input.verifiedAt)}` : ''}.`;
      next = 'Nothing more: this is done. If it happens again, report it again.';
      break;
    case 'wont_fix':
      status = `Closed without a change: the team decided not to fix it.`;
      next = 'Nothing more is planned. If it matters to a customer, tell the team why.';
      break;
    case 'duplicate':
      status = input.duplicateOf
        ? `Closed as a duplicate of ${input.duplicateOf}.`
        : 'Closed as a duplicate of another item.';
      next = input.duplicateOf ? `Follow ${input.duplicateOf} for progress.` : 'Follow the original item for progress.';
      break;
  }

  let nextUpdateDue: string | null = null;
  let responseTarget: string | null = null;
  const target = input.severity ? charter?.response_targets?.[input.severity.toLowerCase()] : undefined;
  if (target && OPEN_STAGES.has(input.stage)) {
    const acknowledging = input.stage === 'reported';
    const duration = acknowledging ? target.acknowledge : target.update_every;
    const ms = durationMs(duration);
    if (ms !== null) {
      const since = Date.parse(acknowledging ? input.createdAt : input.stageSince);
      let due = since + ms;
      // Past due: the next one in the same rhythm from now, so the page never shows a date in the past as "next".
      if (!acknowledging && due < now.getTime()) due = now.getTime() + ms - ((now.getTime() - since) % ms);
      nextUpdateDue = new Date(due).toISOString();
      responseTarget = acknowledging
        ? `a first answer within ${durationWords(duration)} for ${input.severity} severity`
        : `an update every ${durationWords(duration)} for ${input.severity} severity`;
    }
  }
  return { status, next, nextUpdateDue, responseTarget };
};
