import type { Role } from './charter.schema.js';
import type { ItemKind } from './event.js';
import {
  BOT_CUES,
  HOPED_DELIVERY,
  NEGATION_BEFORE,
  PING_CUES,
  PING_VETOES,
  RELAY_ATTRIBUTION,
  RELAY_CONTENT,
  RELAY_CUES,
  RELAY_LEAD_IN,
  RELEASE_NOTES,
  STILL_BROKEN,
  VERIFY_REQUEST,
  WORK_STEP,
  type Cue,
} from './middleman.cues.js';
import { prepareComment, type Sentence } from './middleman.text.js';

/**
 * Middleman load classifier (PRODUCT.md C3, issues 5 and 16): is a comment a
 * status ping ("any update on this?", "can this be back-ported to 1.x?"), a
 * status relay ("engineering says the fix ships Thursday", "fixed in 1.2.0",
 * "should land in the next beta", "fixed by the patch in the linked bug"), or
 * neither?
 *
 * Method: named, weighted cues (`middleman.cues.ts`) over what the comment
 * says, with context features; not a model. Transparent on purpose: every
 * label names the cue that decided it (`cue`), the words that matched
 * (`evidence`) and everything else that counted (`reasons`).
 *
 * 1. Prepare (`middleman.text.ts`): lower case, diacritics folded; code,
 *    quoted replies, e-mail tails, stack traces, pasted patch or commit titles
 *    and quoted phrases removed (they are mentioned, not said); links become
 *    tokens (`prlink`, `commitlink`, ...); the prose is split into sentences,
 *    each a question or a statement.
 * 2. Bots and templates (stale bots, dependency updaters, issue-template
 *    reminders), release notes and someone asking how to go on with their own
 *    work ("should I request check-in?") are `other` outright.
 * 3. Ping score: cues that ask for status, a date, progress, a release or a
 *    back-port, in six languages, tolerant of typos. Some hold only in a
 *    question. Asking whether it is fixed yet is triage, not a ping, when the
 *    project's own maintainers ask it (GitHub author association).
 * 4. Relay score: delivery statements — which release carries the fix, which
 *    change fixed it, what it waits on, what it is tracked for, that nothing is
 *    left — never inside a question (except a request to verify a delivered
 *    fix), never when the sentence says it is *not* delivered. A product
 *    manager's comment also counts with attribution to engineering ("the team
 *    says") or a status lead-in ("Update:") and delivery words. Authors whose
 *    charter role is on the engineering side report first-hand, and
 *    stakeholders do not relay: for them relay cues do not count.
 * 5. The higher score wins when it reaches 2 (a tie goes to the ping: the ask
 *    is what creates load); otherwise `other`. Confidence grows with the
 *    winning score and shrinks with the runner-up.
 *
 * Pure: no I/O, no clock, no randomness.
 */
export type MiddlemanLabel = 'status_ping' | 'status_relay' | 'other';

/** GitHub's `author_association`, for comments whose author the charter does not know. */
export const AUTHOR_ASSOCIATIONS = [
  'OWNER',
  'MEMBER',
  'COLLABORATOR',
  'CONTRIBUTOR',
  'FIRST_TIME_CONTRIBUTOR',
  'FIRST_TIMER',
  'MANNEQUIN',
  'NONE',
] as const;
export type AuthorAssociation = (typeof AUTHOR_ASSOCIATIONS)[number];

export interface ClassifyCommentInput {
  text: string;
  authorRole?: Role | 'stakeholder' | 'unknown';
  itemKind?: ItemKind;
  /** The tracker's author association, a context feature when the charter role is unknown. */
  authorAssociation?: AuthorAssociation;
}

export interface CommentClassification {
  label: MiddlemanLabel;
  confidence: number;
  /** The cue that decided the label (for `other`, why nothing counted). */
  cue: string;
  /** The words that matched the deciding cue, as normalised prose; null when no cue matched. */
  evidence: string | null;
  /** Every cue and context rule that counted, deciding cue first. */
  reasons: string[];
}

interface Fired {
  cue: Cue;
  match: string;
}

const THRESHOLD = 2;
const FIRST_HAND_ROLES: ReadonlySet<string> = new Set([
  'engineer',
  'tech-lead',
  'sre',
  'engineering-manager',
  'engineering-leadership',
  'designer',
]);
const MAINTAINERS: ReadonlySet<string> = new Set(['OWNER', 'MEMBER', 'COLLABORATOR']);
const ENGINEERING_KINDS: ReadonlySet<ItemKind> = new Set(['bug', 'incident', 'tech_debt', 'task']);

/** An ETA that is a thing on screen or in a field, not a question about delivery. */
const ETA_AS_THING =
  /\b(?:(?:show\w*|display\w*|add\w*|updat\w*|comput\w*|calculat\w*|rename\w*)\s+(?:an?\s+|the\s+)?eta|eta\s+(?:field|label|column|display|value|calculation|badge|rounding|widget|property|attribute))\b/g;

/**
 * Each cue at most once: its first match in a sentence whose kind (question or
 * statement) the cue accepts, unless `denied` says the words before it deny it.
 */
const fireCues = (
  cues: readonly Cue[],
  sentences: Sentence[],
  accepts: (cue: Cue, s: Sentence) => boolean,
  denied: (before: string) => boolean = () => false,
): Fired[] =>
  cues.flatMap((cue) => {
    // Most cues match nowhere: one test over all sentences (one per line) rules them out cheaply.
    if (!variantOf(cue.pattern, 'm').test(joinedOf(sentences))) return [];
    const global = variantOf(cue.pattern, 'g');
    for (const sentence of sentences) {
      if (!accepts(cue, sentence)) continue;
      for (const match of sentence.text.matchAll(global)) {
        if (!denied(sentence.text.slice(0, match.index))) return [{ cue, match: match[0].trim() }];
      }
    }
    return [];
  });

const variants = { g: new WeakMap<RegExp, RegExp>(), m: new WeakMap<RegExp, RegExp>() };
/** The cue's pattern with one more flag, made once: `g` for `matchAll`, `m` for the test over all sentences. */
const variantOf = (pattern: RegExp, flag: 'g' | 'm'): RegExp => {
  let variant = variants[flag].get(pattern);
  if (!variant) {
    variant = new RegExp(pattern.source, pattern.flags.includes(flag) ? pattern.flags : `${pattern.flags}${flag}`);
    variants[flag].set(pattern, variant);
  }
  return variant;
};

const joined = new WeakMap<Sentence[], string>();
/** The sentences one per line, so that `^` in an `m` pattern is a sentence start. */
const joinedOf = (sentences: Sentence[]): string => {
  let text = joined.get(sentences);
  if (text === undefined) {
    text = sentences.map((s) => s.text).join('\n');
    joined.set(sentences, text);
  }
  return text;
};

const inScope = (cue: Cue, sentence: Sentence): boolean =>
  cue.scope === undefined || (cue.scope === 'question') === sentence.question;

const scoreOf = (fired: Fired[]): number => fired.reduce((sum, f) => sum + f.cue.weight, 0);

const confidenceOf = (winner: number, runnerUp: number): number => {
  const margin = Math.max(0, winner - runnerUp);
  const value = 1 - Math.exp(-(0.5 * winner + 0.5 * margin));
  return Math.round(Math.min(0.99, Math.max(0.5, value)) * 100) / 100;
};

const other = (cue: string, confidence: number, reasons: string[] = []): CommentClassification => ({
  label: 'other',
  confidence,
  cue,
  evidence: null,
  reasons: [cue, ...reasons],
});

/** Ping cues, with the maintainer-triage rule applied; `notes` gets the context rules that applied. */
const pingCues = (sentences: Sentence[], input: ClassifyCommentInput, notes: string[]): Fired[] => {
  const vetoes = fireCues(PING_VETOES, sentences, () => true);
  if (vetoes.length > 0) {
    notes.push(...vetoes.map((v) => `veto:${v.cue.name}`));
    return [];
  }
  const cleaned = sentences.some((s) => s.text.includes('eta'))
    ? sentences.map((s) => ({ ...s, text: s.text.replace(ETA_AS_THING, ' screen_eta ') }))
    : sentences;
  const fired = fireCues(PING_CUES, cleaned, inScope);
  if (input.authorAssociation === undefined || !MAINTAINERS.has(input.authorAssociation)) return fired;
  const kept = fired.filter((f) => f.cue.family !== 'verify');
  if (kept.length < fired.length) notes.push('maintainer-asks-reporter-to-verify');
  return kept;
};

/** Delivery statements: in statements or requests to verify a delivered fix; never denied, hoped for or still broken. */
const deliveryCues = (sentences: Sentence[]): Fired[] =>
  fireCues(
    RELAY_CUES,
    sentences,
    (cue, s) => {
      if (STILL_BROKEN.test(s.text) || HOPED_DELIVERY.test(s.text)) return false;
      if (cue.scope === 'statement' && s.question) return VERIFY_REQUEST.test(s.text);
      return true;
    },
    (before) => NEGATION_BEFORE.test(before),
  );

/** Relay cues allowed by the author's role; `notes` says when a role kept them from counting. */
const relayCues = (sentences: Sentence[], prose: string, input: ClassifyCommentInput, notes: string[]): Fired[] => {
  const role = input.authorRole;
  const delivery = deliveryCues(sentences);
  const strong = delivery.filter((f) => f.cue.weight >= THRESHOLD);
  if (role !== undefined && (FIRST_HAND_ROLES.has(role) || role === 'stakeholder')) {
    if (strong.length > 0) notes.push(`role-${role}-reports-first-hand`);
    return [];
  }
  if (role !== 'product-manager') return strong.length > 0 ? delivery : [];
  // A product manager passing engineering's word on, or leading with "Update:".
  const attribution = fireCues(RELAY_ATTRIBUTION, sentences, () => true);
  const leadIn = RELAY_LEAD_IN.pattern.exec(prose);
  const kindAllows = input.itemKind === undefined || ENGINEERING_KINDS.has(input.itemKind) || attribution.length > 0;
  const pm: Fired[] = [];
  if (RELAY_CONTENT.test(prose) && kindAllows && (attribution.length > 0 || leadIn)) {
    pm.push(...attribution);
    if (leadIn) pm.push({ cue: RELAY_LEAD_IN, match: leadIn[0].trim() });
    pm.push({ cue: { name: 'delivery-content', weight: 1, pattern: RELAY_CONTENT }, match: '' });
  }
  return strong.length > 0 || pm.length > 0 ? [...pm, ...delivery] : [];
};

const decided = (label: MiddlemanLabel, winner: Fired[], runnerUp: number, notes: string[]): CommentClassification => {
  const ranked = [...winner].sort((a, b) => b.cue.weight - a.cue.weight);
  const first = ranked[0] as Fired;
  return {
    label,
    confidence: confidenceOf(scoreOf(winner), runnerUp),
    cue: first.cue.name,
    evidence: first.match === '' ? null : first.match,
    reasons: [...ranked.map((f) => f.cue.name), ...notes],
  };
};

/**
 * Trackers repeat themselves ("Any update?", bot comments, templates): answers for short comments are kept, up to
 * `MEMO_SIZE` of them, and the memo starts over when full. Answers are frozen, so sharing them is safe.
 */
const MEMO_SIZE = 4096;
const MEMO_MAX_CHARS = 500;
const memo = new Map<string, CommentClassification>();

/** Classify one comment as a status ping, a status relay or other. See the module comment for the method. */
export const classifyComment = (input: ClassifyCommentInput): CommentClassification => {
  if (input.text.length > MEMO_MAX_CHARS) return classifyFresh(input);
  const key = `${input.authorRole ?? ''}\u0000${input.authorAssociation ?? ''}\u0000${input.itemKind ?? ''}\u0000${input.text}`;
  const known = memo.get(key);
  if (known) return known;
  const result = classifyFresh(input);
  Object.freeze(result.reasons);
  if (memo.size >= MEMO_SIZE) memo.clear();
  memo.set(key, Object.freeze(result));
  return result;
};

const classifyFresh = (input: ClassifyCommentInput): CommentClassification => {
  const { prose, sentences, removed } = prepareComment(input.text);
  const bot = BOT_CUES.find((cue) => cue.pattern.test(prose));
  if (bot) return other(bot.name, 0.9);
  const stripped = removed.map((what) => `ignored ${what}`);
  if (sentences.length === 0) return other('nothing said outside code, quotes or pasted titles', 0.9, stripped);
  if (RELEASE_NOTES.test(prose)) return other('release notes or changelog', 0.9, stripped);
  if (WORK_STEP.test(prose)) return other('asks how to go on with own work', 0.85, stripped);

  const notes: string[] = [...stripped];
  const ping = pingCues(sentences, input, notes);
  const relay = relayCues(sentences, prose, input, notes);
  const pingScore = scoreOf(ping);
  const relayScore = scoreOf(relay);
  if (relayScore >= THRESHOLD && relayScore > pingScore) return decided('status_relay', relay, pingScore, notes);
  if (pingScore >= THRESHOLD) return decided('status_ping', ping, relayScore, notes);
  const strongest = Math.max(pingScore, relayScore);
  return other('no status request or relay found', Math.round((0.9 - 0.15 * strongest) * 100) / 100, notes);
};
