import type { LoggedEvent } from './event.js';
import type { ItemState } from './item.projection.js';
import { STAGE_LABELS, type Stage } from './stage.js';

/**
 * What moved an item to a stage, in words a stakeholder reads (PRODUCT.md C4),
 * and what a deployment says about the commits it carried. Pure.
 */

const PRODUCTION = /^(prod|production|live|prd)([-_.\s].*)?$/i;
const SUCCESS_STATES = new Set(['success', 'succeeded', 'successful', 'completed', 'done', 'deployed']);
const SHA = /^[0-9a-f]{7,64}$/;

export interface DeploymentFacts {
  environment: string;
  production: boolean;
  /** False for a deployment that is queued, running, failed or errored. */
  success: boolean;
  /** The commits it carried: its head (`data.sha`) and any listed in `data.commits` (lower case). */
  shas: string[];
  id: string | null;
}

const shaOf = (value: unknown): string | null => {
  const text =
    typeof value === 'string'
      ? value
      : value !== null && typeof value === 'object' && typeof (value as { sha?: unknown }).sha === 'string'
        ? (value as { sha: string }).sha
        : null;
  const sha = text?.trim().toLowerCase() ?? '';
  return SHA.test(sha) ? sha : null;
};

/** The facts of a `deployed` event; production is `data.production` when the connector decided it, else the name. */
export const deploymentFactsOf = (event: Pick<LoggedEvent, 'kind' | 'data'>): DeploymentFacts | null => {
  if (event.kind !== 'deployed') return null;
  const data = event.data ?? {};
  const environment = typeof data['environment'] === 'string' ? data['environment'] : 'production';
  const production = typeof data['production'] === 'boolean' ? data['production'] : PRODUCTION.test(environment);
  const state = typeof data['state'] === 'string' ? data['state'].toLowerCase() : null;
  const shas = new Set<string>();
  const head = shaOf(data['sha']);
  if (head) shas.add(head);
  if (Array.isArray(data['commits']))
    for (const c of data['commits'].slice(0, 1000)) {
      const sha = shaOf(c);
      if (sha) shas.add(sha);
    }
  const id = data['deploymentId'];
  return {
    environment,
    production,
    success: state === null || SUCCESS_STATES.has(state),
    shas: [...shas],
    id: typeof id === 'string' || typeof id === 'number' ? String(id) : null,
  };
};

/** True for a successful deployment to production: the only kind that makes a fix Live. */
export const isLiveDeployment = (event: Pick<LoggedEvent, 'kind' | 'data'>): boolean => {
  const facts = deploymentFactsOf(event);
  return facts !== null && facts.production && facts.success;
};

/** The merge commit of a `pr_merged` event (GitHub's `merge_commit_sha`), if the source gave one. */
export const fixCommitOf = (event: Pick<LoggedEvent, 'kind' | 'data'>): string | null =>
  event.kind === 'pr_merged' ? shaOf(event.data?.['mergeCommitSha'] ?? event.data?.['sha']) : null;

export interface StageEvidence {
  summary: string;
  source: string;
  url: string | null;
}

const SOURCE_NAMES: Record<string, string> = {
  github: 'GitHub',
  jira: 'Jira',
  linear: 'Linear',
  slack: 'Slack',
  deploys: 'the deploy pipeline',
  lanes: 'Lanes',
  native: 'the API',
};
const sourceName = (source: string): string => SOURCE_NAMES[source] ?? source;

const prRef = (data: Record<string, unknown> | null): string => {
  const pr = data?.['pr'];
  return typeof pr === 'number' || typeof pr === 'string' ? ` #${pr}` : '';
};

const urlOf = (event: LoggedEvent): string | null => {
  const url = event.data?.['url'] ?? event.data?.['htmlUrl'];
  if (typeof url === 'string' && /^https?:\/\//.test(url)) return url;
  if (event.payloadRef && /^https?:\/\//.test(event.payloadRef)) return event.payloadRef;
  return null;
};

/** One line on what an event did, for the stage history; never quotes comments or names internal people. */
export const stageEvidenceOf = (event: LoggedEvent): StageEvidence => {
  const from = sourceName(event.source);
  const base = { source: event.source, url: urlOf(event) };
  switch (event.kind) {
    case 'created':
      return { ...base, summary: `Reported in ${from}` };
    case 'field_changed':
      if (event.field === 'state') {
        const via = event.data?.['via'];
        const name = event.data?.[via === 'milestone' ? 'milestone' : 'label'];
        if ((via === 'label' || via === 'milestone') && typeof name === 'string')
          return { ...base, summary: `${via === 'label' ? 'Labelled' : 'Put in the milestone'} "${name}" in ${from}` };
        return { ...base, summary: `Moved to "${event.to ?? ''}" in ${from}` };
      }
      if (event.field === 'assignee')
        return { ...base, summary: event.to === null ? 'Unassigned' : 'Picked up by an engineer' };
      if (event.field === 'resolution') return { ...base, summary: `Resolution set to "${event.to ?? ''}"` };
      return { ...base, summary: `${event.field ?? 'A field'} changed in ${from}` };
    case 'pr_opened':
      return { ...base, summary: `Fix proposed: pull request${prRef(event.data)} opened` };
    case 'review_submitted':
      return { ...base, summary: `Fix reviewed: pull request${prRef(event.data)}` };
    case 'pr_merged':
      return { ...base, summary: `Fix merged: pull request${prRef(event.data)}` };
    case 'deployed': {
      const facts = deploymentFactsOf(event)!;
      const via = event.data?.['linkedBy'] === 'commit' ? ' (the deployment carried the fix commit)' : '';
      return { ...base, summary: `Deployed to ${facts.environment}${facts.id ? ` (${facts.id})` : ''}${via}` };
    }
    case 'verified':
      return { ...base, summary: 'Verified as fixed' };
    case 'closed': {
      const resolution = event.data?.['resolution'];
      const words = typeof resolution === 'string' ? resolution.replace(/_/g, ' ') : null;
      return { ...base, summary: `Closed in ${from}${words ? ` as "${words}"` : ''}` };
    }
    case 'reopened':
      return { ...base, summary: `Reopened in ${from}` };
    case 'incident_declared':
      return { ...base, summary: 'Declared an incident' };
    case 'incident_resolved':
      return { ...base, summary: 'Incident resolved' };
    default:
      return { ...base, summary: `Updated in ${from}` };
  }
};

/** One stage change of an item, with the event that caused it. */
export interface StageTransition {
  id: string;
  itemKey: string;
  from: Stage | null;
  to: Stage;
  at: string;
  event: LoggedEvent;
}

/** A stage change's id: the event that caused it and the stage it led to (the same after any replay). */
export const stageChangeId = (eventId: string, to: Stage): string => `${eventId}:${to}`;

/** The transition an event caused, if the stage moved (or the item is new). */
export const transitionOf = (
  before: Pick<ItemState, 'stage'> | undefined,
  after: ItemState,
  event: LoggedEvent,
): StageTransition | null => {
  if (before !== undefined && before.stage === after.stage) return null;
  return {
    id: stageChangeId(event.id, after.stage),
    itemKey: after.key,
    from: before?.stage ?? null,
    to: after.stage,
    at: event.occurredAt,
    event,
  };
};

export const stageLabel = (stage: Stage): string => STAGE_LABELS[stage];
