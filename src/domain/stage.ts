/**
 * Plain-language stages a stakeholder understands (PRODUCT.md C4), derived from
 * the tracker state and from what CI and deploys say: merged is not deployed,
 * and deployed is not verified.
 */
export const STAGES = [
  'reported',
  'acknowledged',
  'scheduled',
  'being_fixed',
  'fix_in_review',
  'fix_ready',
  'live',
  'verified',
  'wont_fix',
  'duplicate',
] as const;
export type Stage = (typeof STAGES)[number];

export const STAGE_LABELS: Record<Stage, string> = {
  reported: 'Reported',
  acknowledged: 'Acknowledged',
  scheduled: 'Scheduled',
  being_fixed: 'Being fixed',
  fix_in_review: 'Fix in review',
  fix_ready: 'Fix ready (awaiting release)',
  live: 'Live',
  verified: 'Verified',
  wont_fix: "Won't fix",
  duplicate: 'Duplicate',
};

export type StateCategory = 'new' | 'acknowledged' | 'scheduled' | 'in_progress' | 'in_review' | 'done';

const CATEGORY_BY_STATE: Record<string, StateCategory> = {
  open: 'new',
  new: 'new',
  reported: 'new',
  backlog: 'acknowledged',
  triaged: 'acknowledged',
  acknowledged: 'acknowledged',
  investigating: 'in_progress',
  identified: 'in_progress',
  monitoring: 'in_review',
  todo: 'scheduled',
  'to do': 'scheduled',
  scheduled: 'scheduled',
  'selected for development': 'scheduled',
  reopened: 'acknowledged',
  'in progress': 'in_progress',
  in_progress: 'in_progress',
  doing: 'in_progress',
  'in review': 'in_review',
  in_review: 'in_review',
  review: 'in_review',
  done: 'done',
  closed: 'done',
  resolved: 'done',
  verified: 'done',
  "won't fix": 'done',
  wont_fix: 'done',
  duplicate: 'done',
};

/** Maps a tracker's free-text workflow state to a category; unknown states count as new. */
export const stateCategory = (state: string): StateCategory => CATEGORY_BY_STATE[state.trim().toLowerCase()] ?? 'new';

export interface StageInput {
  state: string;
  resolution: string | null;
  prOpen: boolean;
  mergedAt: string | null;
  deployedAt: string | null;
  verifiedAt: string | null;
  assignee: string | null;
}

export const deriveStage = (item: StageInput): Stage => {
  const category = stateCategory(item.state);
  const resolution = (item.resolution ?? item.state).toLowerCase().replace(/[\s']/g, '');
  if (category === 'done') {
    if (resolution === 'wontfix' || resolution === 'wont_fix' || resolution === 'deleted') return 'wont_fix';
    if (resolution === 'duplicate') return 'duplicate';
    if (item.verifiedAt || item.state.toLowerCase() === 'verified') return 'verified';
    if (item.mergedAt && !item.deployedAt) return 'fix_ready';
    return 'live';
  }
  if (item.deployedAt && item.mergedAt && item.deployedAt >= item.mergedAt) return 'live';
  if (item.mergedAt) return 'fix_ready';
  if (item.prOpen || category === 'in_review') return 'fix_in_review';
  if (category === 'in_progress') return 'being_fixed';
  if (category === 'scheduled') return 'scheduled';
  if (category === 'acknowledged' || item.assignee) return 'acknowledged';
  return 'reported';
};
