import type { Charter } from './charter.schema.js';
import { NO_FIX_REASONS, reconcileClosing, type Closing, type ClosingReason } from './stage.closing.js';

/**
 * Plain-language stages a stakeholder understands (PRODUCT.md C4), derived from
 * the tracker state and from what CI and deploys say: merged is not deployed,
 * deployed is not verified, and closed is not released. Incidents have their
 * own stages (investigating, identified, monitoring, resolved). Stage ids are
 * stable strings: they are stored, filtered on and sent in notifications.
 */
export const STAGES = [
  'reported',
  'acknowledged',
  'waiting',
  'scheduled',
  'being_fixed',
  'fix_in_review',
  'fix_ready',
  'fixed',
  'live',
  'verified',
  'wont_fix',
  'duplicate',
  'invalid',
  'cannot_reproduce',
  'incomplete',
  'investigating',
  'identified',
  'monitoring',
  'resolved',
] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_LABELS: Record<Stage, string> = {
  reported: 'Reported',
  acknowledged: 'Acknowledged',
  waiting: 'Waiting on someone outside the team',
  scheduled: 'Scheduled',
  being_fixed: 'Being fixed',
  fix_in_review: 'Fix in review',
  fix_ready: 'Fix ready (awaiting release)',
  fixed: 'Fixed — release not tracked',
  live: 'Live',
  verified: 'Verified',
  wont_fix: "Won't fix",
  duplicate: 'Duplicate',
  invalid: 'Not a bug (invalid)',
  cannot_reproduce: 'Could not reproduce',
  incomplete: 'Closed — not enough information',
  investigating: 'Investigating',
  identified: 'Cause identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
};

/** The stages of an incident: words of an incident response, never of a bug fix. */
export const INCIDENT_STAGES: ReadonlySet<Stage> = new Set(['investigating', 'identified', 'monitoring', 'resolved']);

/** Stages of an item closed without a change. */
export const NO_FIX_STAGES: ReadonlySet<Stage> = new Set([
  'wont_fix',
  'duplicate',
  'invalid',
  'cannot_reproduce',
  'incomplete',
]);

/** Stages of a closed item; every other stage is open. */
export const CLOSED_STAGES: ReadonlySet<Stage> = new Set(['fixed', 'live', 'verified', 'resolved', ...NO_FIX_STAGES]);

/** True while the item is still being worked on (stakeholders may expect updates). */
export const isOpenStage = (stage: Stage): boolean => !CLOSED_STAGES.has(stage);

export type StateCategory = 'new' | 'acknowledged' | 'waiting' | 'scheduled' | 'in_progress' | 'in_review' | 'done';

const CATEGORY_BY_STATE: Record<string, StateCategory> = {
  open: 'new',
  new: 'new',
  reported: 'new',
  unconfirmed: 'new',
  backlog: 'acknowledged',
  triaged: 'acknowledged',
  acknowledged: 'acknowledged',
  confirmed: 'acknowledged',
  reopened: 'acknowledged',
  waiting: 'waiting',
  investigating: 'in_progress',
  identified: 'in_progress',
  monitoring: 'in_review',
  todo: 'scheduled',
  'to do': 'scheduled',
  scheduled: 'scheduled',
  'selected for development': 'scheduled',
  'in progress': 'in_progress',
  in_progress: 'in_progress',
  doing: 'in_progress',
  'in review': 'in_review',
  in_review: 'in_review',
  review: 'in_review',
  done: 'done',
  closed: 'done',
  resolved: 'done',
  completed: 'done',
  fixed: 'done',
  released: 'done',
  verified: 'done',
  "won't fix": 'done',
  wont_fix: 'done',
  duplicate: 'done',
  invalid: 'done',
  cannot_reproduce: 'done',
  incomplete: 'done',
  canceled: 'done',
  cancelled: 'done',
};

/** Maps a tracker's free-text workflow state to a category; unknown states count as new. */
export const stateCategory = (state: string): StateCategory => CATEGORY_BY_STATE[state.trim().toLowerCase()] ?? 'new';

/** What the charter says about stages beyond the facts of each item. */
export interface StagePolicy {
  /**
   * Teams whose charter says "closed as completed means released"
   * (`teams[].released_on_close`), for teams without deploy data.
   */
  releasedOnClose: ReadonlySet<string>;
}

/** No charter statements: Live needs a deployment or a release. */
export const NO_STAGE_POLICY: StagePolicy = { releasedOnClose: new Set() };

/** The stage policy a charter states. */
export const stagePolicyOf = (charter: Pick<Charter, 'teams'> | undefined): StagePolicy => {
  const teams = (charter?.teams ?? []).filter((t) => t.released_on_close === true).map((t) => t.id);
  return teams.length === 0 ? NO_STAGE_POLICY : { releasedOnClose: new Set(teams) };
};

/** Bump when the derivation below changes, so stored stages are derived again (`ensurePortalIndex`). */
export const STAGE_RULES_VERSION = 2;

/** A stable text of the rules and the policy in force: stored stages are re-derived when it changes. */
export const stageRulesFingerprint = (policy: StagePolicy): string =>
  `v${STAGE_RULES_VERSION};released_on_close=${[...policy.releasedOnClose].sort().join(',')}`;

export interface StageInput {
  kind: string;
  team: string | null;
  state: string;
  resolution: string | null;
  prOpen: boolean;
  mergedAt: string | null;
  deployedAt: string | null;
  verifiedAt: string | null;
  assignee: string | null;
}

/** What makes an item Live: a production deployment, the tracker's own release state, or the charter. */
export type LiveEvidence = 'deployment' | 'tracker' | 'charter';

/** The stage and the facts that decided it; the status sentence is written from this, never from guesses. */
export interface StageVerdict {
  stage: Stage;
  /** How the item was closed (state and resolution reconciled), or null while open. */
  closing: Closing | null;
  /** Why it is Live, when it is. */
  liveBy: LiveEvidence | null;
}

/** A production deployment that came after the fix it should carry (or named the item without a merge). */
const deployedAfterFix = (item: StageInput): boolean =>
  item.deployedAt !== null && (item.mergedAt === null || item.deployedAt >= item.mergedAt);

const incidentStage = (item: StageInput, closing: Closing | null): Stage => {
  if (closing === 'duplicate') return 'duplicate';
  if (closing !== null) return 'resolved';
  const state = item.state.trim().toLowerCase();
  if (state === 'identified') return 'identified';
  if (state === 'monitoring' || stateCategory(state) === 'in_review') return 'monitoring';
  return 'investigating';
};

const closedStage = (item: StageInput, closing: Closing, policy: StagePolicy): StageVerdict => {
  if (NO_FIX_REASONS.has(closing as ClosingReason)) return { stage: closing as Stage, closing, liveBy: null };
  if (closing === 'verified' || item.verifiedAt !== null) return { stage: 'verified', closing, liveBy: null };
  if (item.state.trim().toLowerCase() === 'released') return { stage: 'live', closing, liveBy: 'tracker' };
  if (deployedAfterFix(item)) return { stage: 'live', closing, liveBy: 'deployment' };
  if (item.team !== null && policy.releasedOnClose.has(item.team)) return { stage: 'live', closing, liveBy: 'charter' };
  if (item.mergedAt !== null) return { stage: 'fix_ready', closing, liveBy: null };
  return { stage: 'fixed', closing, liveBy: null };
};

/**
 * The stage of an item and why. Closed is never Live on its own: Live needs a
 * production deployment after the fix (or a deploy event naming the item), the
 * tracker's `released` state, or the charter's `released_on_close` for the
 * item's team. A closed item without that evidence is `fixed` (release not
 * tracked), or `fix_ready` when a merged fix waits for a deployment.
 */
export const judgeStage = (item: StageInput, policy: StagePolicy = NO_STAGE_POLICY): StageVerdict => {
  const category = stateCategory(item.state);
  const closing = category === 'done' ? reconcileClosing(item.state, item.resolution) : null;
  if (item.kind === 'incident') return { stage: incidentStage(item, closing), closing, liveBy: null };
  if (closing !== null) return closedStage(item, closing, policy);
  if (item.mergedAt !== null && deployedAfterFix(item)) return LIVE_OPEN;
  return OPEN_VERDICTS[openStage(item, category)];
};

type OpenStage = 'fix_ready' | 'fix_in_review' | 'being_fixed' | 'waiting' | 'scheduled' | 'acknowledged' | 'reported';

const openStage = (item: StageInput, category: StateCategory): OpenStage => {
  if (item.mergedAt !== null) return 'fix_ready';
  if (item.prOpen || category === 'in_review') return 'fix_in_review';
  if (category === 'in_progress') return 'being_fixed';
  if (category === 'waiting') return 'waiting';
  if (category === 'scheduled') return 'scheduled';
  if (category === 'acknowledged' || item.assignee) return 'acknowledged';
  return 'reported';
};

// Verdicts of open items, made once: the projection judges every event of every item.
const LIVE_OPEN: StageVerdict = Object.freeze({ stage: 'live', closing: null, liveBy: 'deployment' });
const OPEN_VERDICTS = Object.fromEntries(
  (['fix_ready', 'fix_in_review', 'being_fixed', 'waiting', 'scheduled', 'acknowledged', 'reported'] as const).map(
    (stage) => [stage, Object.freeze({ stage, closing: null, liveBy: null })],
  ),
) as Record<OpenStage, StageVerdict>;

/** The stage alone (see `judgeStage`). */
export const deriveStage = (item: StageInput, policy: StagePolicy = NO_STAGE_POLICY): Stage =>
  judgeStage(item, policy).stage;
