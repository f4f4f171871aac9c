/**
 * Why an item was closed, read from whatever a tracker says: GitHub's
 * `state_reason` (`completed`, `not_planned`, `duplicate`), a Jira resolution
 * (Fixed, Won't Fix, Duplicate, Incomplete, Cannot Reproduce, …), a Linear
 * canceled or duplicate state, a Bugzilla resolution (FIXED, INVALID,
 * WONTFIX, DUPLICATE, WORKSFORME, INCOMPLETE) or status (VERIFIED), or a
 * label or milestone the charter gives a resolution. Pure.
 *
 * The item projection keeps the tracker's state and resolution as the source
 * sent them; `reconcileClosing` is the one place where the two are read
 * together, so neither can turn the other into a wrong stage.
 */

/** How a closed item ended, in Lanes' words (the charter's `resolution:` values). */
export const CLOSING_REASONS = [
  'completed',
  'wont_fix',
  'duplicate',
  'invalid',
  'cannot_reproduce',
  'incomplete',
] as const;
export type ClosingReason = (typeof CLOSING_REASONS)[number];

/** Closing reasons that say no change was made. */
export const NO_FIX_REASONS: ReadonlySet<ClosingReason> = new Set([
  'wont_fix',
  'duplicate',
  'invalid',
  'cannot_reproduce',
  'incomplete',
]);

/** A closing reason, or `verified` (a fix someone confirmed), as reconciled from state and resolution. */
export type Closing = ClosingReason | 'verified';

/** Lower case, letters and digits only: `Won't Fix` → `wontfix`, `not_planned` → `notplanned`. */
const squash = (value: string): string =>
  value
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

const EXACT: Record<string, Closing> = {
  // completed
  completed: 'completed',
  complete: 'completed',
  fixed: 'completed',
  done: 'completed',
  resolved: 'completed',
  closed: 'completed',
  merged: 'completed',
  implemented: 'completed',
  delivered: 'completed',
  released: 'completed',
  shipped: 'completed',
  answered: 'completed',
  // verified
  verified: 'verified',
  // won't fix
  wontfix: 'wont_fix',
  wontdo: 'wont_fix',
  wontbefixed: 'wont_fix',
  notplanned: 'wont_fix',
  notfixing: 'wont_fix',
  rejected: 'wont_fix',
  declined: 'wont_fix',
  obsolete: 'wont_fix',
  outdated: 'wont_fix',
  stale: 'wont_fix',
  deleted: 'wont_fix',
  unmerged: 'wont_fix',
  canceled: 'wont_fix',
  cancelled: 'wont_fix',
  abandoned: 'wont_fix',
  later: 'wont_fix',
  remind: 'wont_fix',
  // duplicate
  duplicate: 'duplicate',
  duplicated: 'duplicate',
  dupe: 'duplicate',
  transferred: 'duplicate',
  moved: 'duplicate',
  // invalid
  invalid: 'invalid',
  notabug: 'invalid',
  notadefect: 'invalid',
  notanissue: 'invalid',
  worksasdesigned: 'invalid',
  worksasintended: 'invalid',
  asdesigned: 'invalid',
  bydesign: 'invalid',
  spam: 'invalid',
  noncompat: 'invalid',
  // works for me / cannot reproduce
  worksforme: 'cannot_reproduce',
  cannotreproduce: 'cannot_reproduce',
  cantreproduce: 'cannot_reproduce',
  couldnotreproduce: 'cannot_reproduce',
  notreproducible: 'cannot_reproduce',
  unreproducible: 'cannot_reproduce',
  // incomplete
  incomplete: 'incomplete',
  expired: 'incomplete',
  insufficientinfo: 'incomplete',
  insufficientinformation: 'incomplete',
  noresponse: 'incomplete',
};

/** Wordings trackers and teams invent around the same reasons, tried in order. */
const PATTERNS: [RegExp, Closing][] = [
  [/duplicate/, 'duplicate'],
  [/^wont|wontfix|notplanned|willnotfix/, 'wont_fix'],
  [/reproduc|worksforme/, 'cannot_reproduce'],
  [/^not(a|an)?(bug|defect|issue|problem)|invalid|asdesigned|asintended/, 'invalid'],
  [/incomplete|insufficient|needsinfo|moreinfo/, 'incomplete'],
];

/**
 * The closing reason a tracker's resolution, state or reason names, or null
 * when it names none (empty, `Unresolved`, `---`, a workflow state such as
 * `in progress`, or words Lanes does not know).
 */
export const closingReasonOf = (value: string | null | undefined): Closing | null => {
  if (value === null || value === undefined) return null;
  const known = seen.get(value);
  if (known !== undefined) return known;
  const reason = readReason(squash(value));
  // The same few values come back on every event of every closed item: remember them (a bounded, pure cache).
  if (seen.size >= 4096) seen.clear();
  seen.set(value, reason);
  return reason;
};

const seen = new Map<string, Closing | null>();

const readReason = (key: string): Closing | null => {
  if (key === '' || key === 'unresolved' || key === 'none') return null;
  if (Object.hasOwn(EXACT, key)) return EXACT[key]!;
  for (const [pattern, reason] of PATTERNS) if (pattern.test(key)) return reason;
  return null;
};

const isNoFix = (c: Closing | null): c is ClosingReason => c !== null && c !== 'verified' && NO_FIX_REASONS.has(c);

/**
 * How a closed item ended, from its state and its resolution together:
 * - a reason that says no change was made (won't fix, duplicate, invalid, cannot
 *   reproduce, incomplete) wins over one that says it was done: GitHub closes as
 *   `completed` by default, and a `wont_fix` state with resolution `INVALID` is
 *   still closed without a fix; between two such reasons the resolution's, the
 *   more specific, wins;
 * - otherwise `verified` when either says so (Bugzilla's VERIFIED FIXED);
 * - otherwise `completed`.
 *
 * Call it only for a closed item; an open item has no closing.
 */
export const reconcileClosing = (state: string, resolution: string | null): Closing => {
  const byState = closingReasonOf(state);
  const byResolution = closingReasonOf(resolution);
  if (isNoFix(byResolution)) return byResolution;
  if (isNoFix(byState)) return byState;
  if (byResolution === 'verified' || byState === 'verified') return 'verified';
  return 'completed';
};

/**
 * Of two resolutions recorded for one closing (a label that said `duplicate`,
 * then GitHub's default `completed`), the one to keep: the no-fix one, else the
 * newer. Used by the projection so that a generic reason never erases a
 * specific one; the stage is still decided by `reconcileClosing` alone.
 */
export const keptResolution = (current: string | null, incoming: string | null): string | null => {
  if (incoming === null) return current;
  if (current === null) return incoming;
  return isNoFix(closingReasonOf(current)) && !isNoFix(closingReasonOf(incoming)) ? current : incoming;
};
