import type { Charter } from './charter.schema.js';
import { isOpenStage, judgeStage, stagePolicyOf, type Stage, type StageInput, type StageVerdict } from './stage.js';

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

/** The facts of an item the stage is judged from, and what the sentence needs besides. */
export interface StatusInput extends StageInput {
  severity: string | null;
  createdAt: string;
  closedAt: string | null;
  /** When the item last changed stage. */
  stageSince: string;
  /** The item this one duplicates, when known and visible. */
  duplicateOf: string | null;
}

export interface StatusWords {
  /** The stage the sentences describe: judged here from the same facts, so the words and the badge agree. */
  stage: Stage;
  status: string;
  next: string;
  nextUpdateDue: string | null;
  responseTarget: string | null;
}

type Sentences = [status: string, next: string];

const nounOf = (kind: string): string =>
  kind === 'incident' ? 'incident' : kind === 'feature' ? 'request' : kind === 'bug' ? 'bug' : 'item';

/** An incident in the words of an incident response: never a bug fix's. */
const incidentWords = (stage: Stage, input: StatusInput): Sentences | null => {
  switch (stage) {
    case 'investigating':
      return ['The team is investigating the incident.', 'Once the cause is found, the team works to mitigate it.'];
    case 'identified':
      return [
        'The cause of the incident is identified; the team is working to mitigate it.',
        'Once it is mitigated, the team watches the service to make sure it holds.',
      ];
    case 'monitoring':
      return [
        'A mitigation is in place; the team is monitoring the service.',
        'The incident is resolved once the service holds.',
      ];
    case 'resolved':
      return [
        `The incident was resolved on ${day(input.closedAt ?? input.stageSince)}.`,
        'Nothing more: the team may publish a review of what happened.',
      ];
    default:
      return null;
  }
};

const liveWords = (verdict: StageVerdict, input: StatusInput): string => {
  if (verdict.liveBy === 'deployment' && input.deployedAt)
    return `Live for customers since ${day(input.deployedAt)}: a production deployment carried the change.`;
  if (verdict.liveBy === 'charter')
    return `Closed as completed on ${day(input.closedAt ?? input.stageSince)}, which for this team means released: its charter says so, as its deployments are not recorded in Lanes.`;
  return `Marked as released in the tracker on ${day(input.stageSince)}.`;
};

/** What a closed item's stage says, in a sentence each. */
const closedWords = (verdict: StageVerdict, input: StatusInput, noun: string): Sentences | null => {
  const closed = day(input.closedAt ?? input.stageSince);
  const made = noun === 'request' ? 'build' : 'fix';
  switch (verdict.stage) {
    case 'fixed':
      return [
        `Closed as ${noun === 'bug' ? 'fixed' : 'done'} on ${closed}. The team does not record its releases in Lanes, so whether customers have it yet is not known.`,
        'Ask the team which release carries it, or look for it in the release notes.',
      ];
    case 'live':
      return [liveWords(verdict, input), 'Someone checks it in production and marks it verified.'];
    case 'verified': {
      const live = input.deployedAt ? ` It is live for customers since ${day(input.deployedAt)}.` : '';
      return [
        `Done and verified${input.verifiedAt ? ` on ${day(input.verifiedAt)}` : ''}.${live}`,
        'Nothing more: this is done. If it happens again, report it again.',
      ];
    }
    case 'wont_fix':
      return [
        `Closed without a change on ${closed}: the team decided not to ${made} it.`,
        'Nothing more is planned. If it matters to a customer, tell the team why.',
      ];
    case 'duplicate':
      return input.duplicateOf
        ? [`Closed as a duplicate of ${input.duplicateOf}.`, `Follow ${input.duplicateOf} for progress.`]
        : ['Closed as a duplicate of another item.', 'Follow the original item for progress.'];
    case 'invalid':
      return [
        `Closed without a change on ${closed}: the team found it is not a bug (it works as intended, or the report describes no problem in the product).`,
        'If it still matters to a customer, tell the team what they expected to happen.',
      ];
    case 'cannot_reproduce':
      return [
        `Closed without a change on ${closed}: the team could not reproduce it.`,
        'If it happens again, report it with the steps, the time and who was affected.',
      ];
    case 'incomplete':
      return [
        `Closed without a change on ${closed}: the report did not have enough information to act on.`,
        'If it still happens, report it again with the missing details (steps, time, account).',
      ];
    default:
      return null;
  }
};

const openWords = (stage: Stage, input: StatusInput, noun: string): Sentences => {
  switch (stage) {
    case 'reported':
      return [
        `Reported on ${day(input.createdAt)}; the team has not confirmed it yet.`,
        `The team looks at the ${noun}, confirms it and decides how urgent it is.`,
      ];
    case 'acknowledged':
      return [
        `The team has confirmed the ${noun} and will plan the work.`,
        'It gets scheduled into a sprint or a release.',
      ];
    case 'waiting':
      return [
        'The team is waiting on someone outside the team (the reporter, a customer or another company) before it can go on.',
        'Once they answer, the team picks it up again.',
      ];
    case 'scheduled':
      return ['The work is planned; nobody has started on it yet.', 'An engineer starts on it.'];
    case 'being_fixed':
      return [
        input.kind === 'feature' ? 'An engineer is building it.' : 'An engineer is working on a fix.',
        'The change goes to review.',
      ];
    case 'fix_in_review':
      return [
        'A change is written and being reviewed.',
        'Once it is approved and merged, it waits for the next release to production.',
      ];
    default:
      // fix_ready: merged, with no production deployment that carries it (open or closed).
      return [
        'The change is merged, and Lanes has not seen a production deployment that carries it yet.',
        'The next production deployment that carries it makes it live for customers.',
      ];
  }
};

/**
 * Where it stands and what happens next, in a sentence each, and the next
 * update due. The stage is judged here from the same facts (and the charter's
 * stage policy) as the stored stage, so the sentence cannot contradict it:
 * Live is explained by its evidence, a closing without a fix is never called
 * live, and an incident is never described as a bug fix.
 */
export const statusWords = (input: StatusInput, charter: Charter | undefined, now: Date): StatusWords => {
  const verdict = judgeStage(input, stagePolicyOf(charter));
  const noun = nounOf(input.kind);
  const [status, next] =
    incidentWords(verdict.stage, input) ?? closedWords(verdict, input, noun) ?? openWords(verdict.stage, input, noun);

  let nextUpdateDue: string | null = null;
  let responseTarget: string | null = null;
  const target = input.severity ? charter?.response_targets?.[input.severity.toLowerCase()] : undefined;
  if (target && isOpenStage(verdict.stage)) {
    const acknowledging = verdict.stage === 'reported';
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
  return { stage: verdict.stage, status, next, nextUpdateDue, responseTarget };
};
