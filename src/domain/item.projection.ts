import { compareEvents, eventOrderKey, type ItemKind, type LoggedEvent } from './event.js';
import { keptResolution } from './stage.closing.js';
import { deriveStage, NO_STAGE_POLICY, stateCategory, type Stage, type StagePolicy } from './stage.js';
import { isLiveDeployment, transitionOf, type StageTransition } from './stage.evidence.js';

/**
 * An item (bug, incident, tech debt, feature, task) as the projection of its
 * events. `projectItem` is a pure fold over the item's events in log order, so
 * any delivery order with any duplicates yields the same item.
 */
export interface ItemState {
  key: string;
  kind: ItemKind;
  title: string;
  team: string | null;
  component: string | null;
  severity: string | null;
  priority: string | null;
  assignee: string | null;
  reporter: string | null;
  customer: string | null;
  state: string;
  resolution: string | null;
  stage: Stage;
  url: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  reopenCount: number;
  commentCount: number;
  eventCount: number;
  prOpen: boolean;
  mergedAt: string | null;
  deployedAt: string | null;
  verifiedAt: string | null;
  /** Order key of the last event folded in; later events may be applied incrementally. */
  lastOrderKey: string;
  /** Labels as the source set them, in the order they were added. */
  labels: string[];
}

const SNAPSHOT_FIELDS = [
  'title',
  'team',
  'component',
  'severity',
  'priority',
  'assignee',
  'state',
  'customer',
] as const;

const emptyItem = (key: string, at: string): ItemState => ({
  key,
  kind: 'task',
  title: key,
  team: null,
  component: null,
  severity: null,
  priority: null,
  assignee: null,
  reporter: null,
  customer: null,
  state: 'open',
  resolution: null,
  stage: 'reported',
  url: null,
  createdAt: at,
  updatedAt: at,
  closedAt: null,
  reopenCount: 0,
  commentCount: 0,
  eventCount: 0,
  prOpen: false,
  mergedAt: null,
  deployedAt: null,
  verifiedAt: null,
  lastOrderKey: '',
  labels: [],
});

const setState = (item: ItemState, next: string, at: string): void => {
  const wasDone = stateCategory(item.state) === 'done';
  const isDone = stateCategory(next) === 'done';
  if (wasDone && !isDone) {
    // Reopened: the old closing, and the fix that did not hold, no longer say anything about where it stands.
    item.reopenCount += 1;
    item.closedAt = null;
    item.resolution = null;
    item.verifiedAt = null;
    item.mergedAt = null;
    item.deployedAt = null;
  }
  if (!wasDone && isDone) item.closedAt = at;
  item.state = next;
};

/** A workflow state a label or milestone gave (`data.via`): it moves an open item, and never reopens a closed one. */
const isWorkflowHint = (event: LoggedEvent): boolean => {
  const via = event.data?.['via'];
  return via === 'label' || via === 'milestone';
};

/**
 * Folds one event into an item. The caller guarantees events arrive in
 * `compareEvents` order; `projectItem` sorts and deduplicates for you. The
 * stage follows from the folded facts and the charter's stage policy.
 */
export const applyEvent = (
  current: ItemState | undefined,
  event: LoggedEvent,
  policy: StagePolicy = NO_STAGE_POLICY,
): ItemState => {
  const key = event.itemKey!;
  const item: ItemState = current ? { ...current } : emptyItem(key, event.occurredAt);
  const at = event.occurredAt;
  const snapshot = event.item;

  if (event.kind === 'created') {
    item.createdAt = at;
    // Jira and the file importer carry the labels an item was created with.
    const initial = event.data?.['labels'];
    if (Array.isArray(initial)) {
      const labels = initial.filter((l): l is string => typeof l === 'string' && !item.labels.includes(l));
      if (labels.length > 0) item.labels = [...item.labels, ...labels];
    }
    item.reporter = event.actorPersonId ?? event.actorIdentity ?? item.reporter;
    // Jira and the file importer carry the resolution an item was created with (an issue first seen closed).
    const resolution = event.data?.['resolution'];
    if (typeof resolution === 'string' && resolution !== '') item.resolution = resolution;
    if (snapshot?.kind) item.kind = snapshot.kind;
    for (const f of SNAPSHOT_FIELDS) {
      const v = snapshot?.[f];
      if (v !== undefined) {
        if (f === 'state') setState(item, v, at);
        else item[f] = v;
      }
    }
  } else if (!current && snapshot) {
    // First sight of an item mid-history: take what the source knew.
    if (snapshot.kind) item.kind = snapshot.kind;
    for (const f of SNAPSHOT_FIELDS) {
      const v = snapshot[f];
      if (v !== undefined) item[f] = v;
    }
  }
  if (snapshot?.url) item.url = snapshot.url;

  switch (event.kind) {
    case 'field_changed': {
      const to = event.to;
      switch (event.field) {
        case 'state':
          // A state the source could not name (an unmapped workflow status) leaves the item where it was.
          if (to !== null && !(isWorkflowHint(event) && stateCategory(item.state) === 'done')) setState(item, to, at);
          break;
        case 'kind':
          item.kind = (to as ItemKind | null) ?? item.kind;
          break;
        case 'title':
          item.title = to ?? item.title;
          break;
        case 'team':
        case 'component':
        case 'severity':
        case 'priority':
        case 'assignee':
        case 'resolution':
        case 'customer':
          item[event.field] = to;
          break;
        default:
          break;
      }
      break;
    }
    case 'commented':
      item.commentCount += 1;
      break;
    case 'label_added':
      if (event.target !== null && !item.labels.includes(event.target)) item.labels = [...item.labels, event.target];
      break;
    case 'label_removed':
      if (event.target !== null && item.labels.includes(event.target))
        item.labels = item.labels.filter((l) => l !== event.target);
      break;
    case 'reopened':
      setState(item, event.to ?? 'reopened', at);
      break;
    case 'closed': {
      setState(item, event.to ?? 'closed', at);
      const resolution = event.data?.['resolution'];
      // A generic reason (GitHub's default `completed`) never erases a specific one a label gave just before.
      if (resolution !== undefined && resolution !== null)
        item.resolution = keptResolution(item.resolution, String(resolution));
      break;
    }
    case 'pr_opened':
      item.prOpen = true;
      break;
    case 'pr_merged':
      item.prOpen = false;
      item.mergedAt = at;
      break;
    case 'deployed':
      // Merged is not deployed, and a staging or failed deployment is not live.
      if (isLiveDeployment(event)) item.deployedAt = at;
      break;
    case 'verified':
      item.verifiedAt = at;
      break;
    case 'incident_declared':
      item.kind = 'incident';
      if (item.state === 'open') setState(item, 'investigating', at);
      break;
    case 'incident_resolved':
      setState(item, 'resolved', at);
      break;
    default:
      break;
  }

  item.eventCount += 1;
  if (at > item.updatedAt) item.updatedAt = at;
  item.lastOrderKey = eventOrderKey(event);
  item.stage = deriveStage(item, policy);
  return item;
};

/** Projects one item from all of its events, in any order, with any duplicates. */
export const projectItem = (
  events: readonly LoggedEvent[],
  policy: StagePolicy = NO_STAGE_POLICY,
): ItemState | undefined => {
  const seen = new Set<string>();
  const unique: LoggedEvent[] = [];
  for (const e of events) {
    const id = `${e.source}\u0001${e.sourceEventId}`;
    if (!seen.has(id) && e.itemKey) {
      seen.add(id);
      unique.push(e);
    }
  }
  unique.sort(compareEvents);
  let item: ItemState | undefined;
  for (const e of unique) item = applyEvent(item, e, policy);
  return item;
};

/** `projectItem`, with every stage change along the way (for the stage history). */
export const projectItemWithStages = (
  events: readonly LoggedEvent[],
  policy: StagePolicy = NO_STAGE_POLICY,
): { item: ItemState | undefined; transitions: StageTransition[] } => {
  const seen = new Set<string>();
  const unique: LoggedEvent[] = [];
  for (const e of events) {
    const id = `${e.source}\u0001${e.sourceEventId}`;
    if (!seen.has(id) && e.itemKey) {
      seen.add(id);
      unique.push(e);
    }
  }
  unique.sort(compareEvents);
  let item: ItemState | undefined;
  const transitions: StageTransition[] = [];
  for (const e of unique) {
    const next = applyEvent(item, e, policy);
    const t = transitionOf(item, next, e);
    if (t) transitions.push(t);
    item = next;
  }
  return { item, transitions };
};

/**
 * Applies newly appended events to a stored item. When every new event sorts
 * after what the item has already seen, they are folded in incrementally;
 * otherwise the caller must re-project from the whole history (`needsReplay`).
 */
export const canApplyIncrementally = (current: ItemState | undefined, fresh: readonly LoggedEvent[]): boolean =>
  !current || fresh.every((e) => eventOrderKey(e) > current.lastOrderKey);
