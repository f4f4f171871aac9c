// Over 500 lines, kept for now: one mapper per GitHub payload family shares the item and actor helpers; split by event family in issue 15.
import { createHash } from 'node:crypto';
import {
  isBotLogin,
  isProductionEnvironment,
  normalizeState,
  ruleOfLabel,
  type GithubMapping,
  type NormalizedState,
  type UnmappedCategory,
} from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import { SAME_FACT_WINDOW_MS } from '../../domain/event.converge.js';
import type { Change, EventInput, Identity, ItemKind, ItemRef } from '../../domain/event.js';
import type { MapContext } from '../connector.types.js';
import {
  canMarkDuplicates,
  canonicalOf,
  closingResolution,
  duplicateOfComment,
  milestoneMeaning,
  resolutionOfLabels,
} from './github.closing.js';
import type {
  GithubDeployment,
  GithubDeploymentStatus,
  GithubIssue,
  GithubPull,
  GithubReview,
  GithubTimelineEvent,
  GithubUser,
  GithubWorkflowRun,
} from './github.schema.js';

/**
 * GitHub objects (REST responses and webhook payloads) mapped to Lanes events.
 * The webhook provider and the backfill both build their events with the
 * functions here, so the same upstream fact gets the same `sourceEventId` on
 * both paths and is stored once:
 *
 * | fact | sourceEventId |
 * |---|---|
 * | issue or PR item created | `o/r#12/created` |
 * | closed / reopened | `o/r#12/closed/<time>`, `o/r#12/reopened/<time>` |
 * | label added / removed | `o/r#12/labeled/<label>/<time>`, `…/unlabeled/<label>/<time>`; a meaning adds `/<field>` |
 * | assignee added / removed | `o/r#12/assigned/<login>/<time>`, `…/unassigned/<login>/<time>` |
 * | milestone set / cleared | `o/r#12/milestoned/<title>/<time>`, `…/demilestoned/<title>/<time>` |
 * | title changed | `o/r#12/renamed/<time>` |
 * | comment | `o/r#12/comment/<comment id>` |
 * | cross reference | `o/r#12/linked/<other key>` |
 * | PR opened / reopened / ready | `o/r#5/pr_opened`, `…/pr_opened/reopened/<time>`, `…/pr_opened/ready/<time>` |
 * | PR merged | `o/r#5/pr_merged` |
 * | review | `o/r#5/review/<review id>` |
 * | deployment / its status | `o/r/deployment/<id>`, `o/r/deployment/<id>/status/<status id>` |
 * | workflow run | `o/r/run/<run id>/<attempt>/<status>` |
 *
 * `<time>` is the UTC instant to the second (`2024-01-02T03:04:05Z`). Issue
 * webhooks carry no id for the change they announce (the timeline's event id
 * is unknown to them), so those facts use this content id: the webhook takes
 * the time from the issue's `closed_at`/`updated_at`, the backfill from the
 * timeline event's `created_at`, which GitHub sets in the same second. Comments,
 * reviews, deployments and runs carry GitHub's own ids on both paths.
 * A PR that says `fixes #12` or names `PAY-7` also puts its `pr_opened` and
 * `pr_merged` on those items, with ids suffixed `/for/<target key>`.
 */

export const GITHUB_SOURCE = 'github';

export type GithubContext = MapContext<GithubMapping>;

/** A mapping pass over one repository: its Lanes scope, and unmapped values reported once each. */
export interface RepoScope {
  /** `owner/name`. */
  repo: string;
  mapping: GithubMapping | undefined;
  team: string | undefined;
  component: string | undefined;
  /** The kind of issues no label gives a kind (`default_kind` of the repository's mapping). */
  defaultKind?: ItemKind | undefined;
  unmapped(category: UnmappedCategory, value: string): void;
}

/** Looks up the repository's team and component; an unknown repository is reported as unmapped `scope`. */
export const openRepo = (repo: string, ctx: GithubContext): RepoScope => {
  const reported = new Set<string>();
  const unmapped = (category: UnmappedCategory, value: string): void => {
    const key = `${category}\u0001${value}`;
    if (reported.has(key)) return;
    reported.add(key);
    ctx.unmapped(category, value);
  };
  const repos = ctx.mapping?.repos ?? {};
  const wanted = repo.toLowerCase();
  const scope = Object.hasOwn(repos, repo)
    ? repos[repo]
    : Object.entries(repos).find(([name]) => name.toLowerCase() === wanted)?.[1];
  if (!scope) unmapped('scope', repo);
  return {
    repo,
    mapping: ctx.mapping,
    team: scope?.team,
    component: scope?.component,
    defaultKind: scope?.default_kind,
    unmapped,
  };
};

// ---------------------------------------------------------------- values

/** The instants `Date` prints with a four-digit year, as the event schema wants them. */
const MIN_MS = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** An instant as ISO-8601 UTC with milliseconds, or undefined when absent, unreadable or out of range. */
export const instant = (value: string | number | null | undefined): string | undefined => {
  if (value === null || value === undefined || value === '') return undefined;
  const ms =
    typeof value === 'number'
      ? value < 1e12
        ? value * 1000
        : value
      : typeof value === 'string'
        ? Date.parse(value)
        : NaN;
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS ? new Date(ms).toISOString() : undefined;
};

/** `2024-01-02T03:04:05Z`: the precision both webhook and backfill agree on. */
const toSecond = (iso: string): string => `${iso.slice(0, 19)}Z`;

const MAX_ID = 200;

/** Keeps ids within the log's 200 characters; a long one keeps its readable start plus a digest of the whole. */
export const clampId = (id: string): string => {
  if (id.length <= MAX_ID) return id;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, 24);
  return `${id.slice(0, MAX_ID - 25)}~${digest}`;
};

const clip = (value: string, max: number): string => (value.length > max ? value.slice(0, max) : value);

/** Drops undefined values so `change.data` stays small and JSON-stable. */
const compact = (data: Record<string, unknown>): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) if (v !== undefined && v !== null) out[k] = v;
  return out;
};

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]*$/;

/** True when `key` is an item key the event schema accepts. */
export const isItemKey = (key: string): boolean => key.length <= 120 && KEY_PATTERN.test(key);

/** `owner/name#number`, unchecked: see `checkedItemKey`. */
export const itemKey = (repo: string, number: number): string => `${repo}#${number}`;

/** `owner/name#number`, or `AppError('LANES_VALIDATION')` when that is no item key (odd name, huge number). */
export const checkedItemKey = (repo: string, number: number): string => {
  const key = itemKey(repo, number);
  if (!Number.isSafeInteger(number) || number < 0 || !isItemKey(key)) {
    throw new AppError('LANES_VALIDATION', `not a GitHub item: ${key.slice(0, 130)}`);
  }
  return key;
};

/** The actor of a GitHub account: bots (`type: Bot`, `[bot]` logins, the charter's `bots`) as `bot`. */
export const githubActor = (
  user: GithubUser | null | undefined,
  mapping: GithubMapping | undefined,
): Identity | null => {
  if (!user?.login || typeof user.login !== 'string' || user.login.length > 320) return null;
  if (user.type === 'Bot' || isBotLogin(mapping, user.login)) return { kind: 'bot', id: user.login };
  return user.name
    ? { kind: 'github', id: user.login, name: clip(user.name, 200) }
    : { kind: 'github', id: user.login };
};

export const labelNames = (labels: GithubIssue['labels']): string[] =>
  (labels ?? []).map((l) => (typeof l === 'string' ? l : l.name));

const assigneeLogins = (issue: Pick<GithubIssue, 'assignee' | 'assignees'>): string[] => {
  const logins = (issue.assignees ?? []).map((u) => u.login);
  if (logins.length === 0 && issue.assignee) logins.push(issue.assignee.login);
  return logins;
};

type LabelField = 'kind' | 'severity' | 'priority' | 'state' | 'resolution';
const LABEL_FIELDS: readonly LabelField[] = ['kind', 'severity', 'priority', 'state', 'resolution'];
type LabelValues = { kind?: ItemKind; severity?: string; priority?: string; state?: string; resolution?: string };

/** What a set of labels says about kind, severity, priority, workflow state and resolution (first label wins). */
const valuesOfLabels = (scope: RepoScope, names: readonly string[], report: boolean): LabelValues => {
  const out: LabelValues = {};
  for (const name of names) {
    const rule = ruleOfLabel(scope.mapping, name);
    if (!rule) {
      if (report) scope.unmapped('label', name);
      continue;
    }
    if (rule.ignore) continue;
    if (rule.kind && out.kind === undefined) out.kind = rule.kind;
    if (rule.severity && out.severity === undefined) out.severity = rule.severity;
    if (rule.priority && out.priority === undefined) out.priority = rule.priority;
    if (rule.state && out.state === undefined) out.state = rule.state;
    if (rule.resolution && out.resolution === undefined) out.resolution = rule.resolution;
  }
  return out;
};

const OPEN = (scope: RepoScope): NormalizedState => normalizeState(scope.mapping, 'open') ?? 'new';

/** A closed issue's normalised state from GitHub's `state_reason` (`not_planned`, `duplicate`, `completed`). */
export const closedState = (scope: RepoScope, reason: string | null | undefined): NormalizedState => {
  if (reason === 'not_planned') return 'wont_fix';
  if (reason === 'duplicate') return 'duplicate';
  return normalizeState(scope.mapping, 'closed') ?? 'done';
};

const isPullIssue = (issue: Pick<GithubIssue, 'pull_request'>): boolean => Boolean(issue.pull_request);

const pullMergedAt = (pull: Partial<Pick<GithubPull, 'merged_at' | 'merged'>> & Pick<GithubIssue, 'pull_request'>) =>
  pull.merged_at ?? pull.pull_request?.merged_at ?? undefined;

/**
 * The normalised state of an issue or pull request. A pull request is work
 * under review while open (`in_progress` as a draft), `done` once merged and
 * `wont_fix` when closed unmerged.
 */
const stateOf = (scope: RepoScope, issue: GithubIssue | GithubPull, pull: boolean): NormalizedState | undefined => {
  if (pull) {
    if (pullMergedAt(issue) || (issue as GithubPull).merged) return 'done';
    if (issue.state === 'closed') return 'wont_fix';
    return issue.draft ? 'in_progress' : 'in_review';
  }
  if (issue.state === 'open') return OPEN(scope);
  if (issue.state === 'closed') return closedState(scope, issue.state_reason);
  if (!issue.state) return undefined;
  const mapped = normalizeState(scope.mapping, issue.state);
  if (!mapped) scope.unmapped('state', issue.state);
  return mapped;
};

/** An http(s) URL the event schema accepts, or undefined. */
export const httpUrl = (value: string | null | undefined): string | undefined =>
  value && value.length <= 2000 && /^https?:\/\/[^/\s]/.test(value) && URL.canParse(value) ? value : undefined;

/** The key, url and scope of an item, without the fields that change over time. */
const baseItem = (scope: RepoScope, number: number, url?: string | null): ItemRef => {
  const item: ItemRef = { key: checkedItemKey(scope.repo, number) };
  const link = httpUrl(url);
  if (link) item.url = link;
  if (scope.team) item.team = scope.team;
  if (scope.component) item.component = scope.component;
  return item;
};

/** An item as GitHub shows it now: title, url, assignee, state, scope and what the labels say. */
export const itemSnapshot = (scope: RepoScope, issue: GithubIssue | GithubPull, pull = isPullIssue(issue)): ItemRef =>
  snapshotWith(
    scope,
    issue,
    labelNames(issue.labels),
    assigneeLogins(issue),
    issue.title,
    stateOf(scope, issue, pull),
    pull,
  );

const snapshotWith = (
  scope: RepoScope,
  issue: Pick<GithubIssue, 'number' | 'html_url'>,
  labels: readonly string[],
  assignees: readonly string[],
  title: string,
  state: NormalizedState | undefined,
  pull: boolean,
): ItemRef => {
  const item = baseItem(scope, issue.number, issue.html_url);
  item.title = clip(title, 500);
  const assignee = assignees[0];
  if (assignee) item.assignee = clip(assignee, 320);
  const values = valuesOfLabels(scope, labels, true);
  // A workflow label (`needsdiagnosis`, `sitewait`) says where an open issue stands; a closed one stays closed.
  const open = state !== undefined && state === OPEN(scope);
  if (state) item.state = open && !pull && values.state ? values.state : state;
  const kind = values.kind ?? (pull ? undefined : scope.defaultKind);
  if (kind) item.kind = kind;
  if (values.severity) item.severity = values.severity;
  if (values.priority) item.priority = values.priority;
  return item;
};

// ---------------------------------------------------------------- facts

interface Fact {
  id: string;
  at: string;
  actor: Identity | null;
  item?: ItemRef | undefined;
  change: Change;
}

const toEvent = (fact: Fact): EventInput => {
  const event: EventInput = {
    source: GITHUB_SOURCE,
    sourceEventId: clampId(fact.id),
    occurredAt: fact.at,
    actor: fact.actor,
    change: withinLimits(fact.change),
  };
  if (fact.item) event.item = fact.item;
  return event;
};

/** The last guard before validation: a field value GitHub sent longer than the event allows is cut, not refused. */
const withinLimits = (change: Change): Change => {
  const cut = (v: string | null | undefined) => (typeof v === 'string' && v.length > 5000 ? v.slice(0, 5000) : v);
  if (
    (change.from === undefined || change.from === null || change.from.length <= 5000) &&
    (change.to === undefined || change.to === null || change.to.length <= 5000)
  ) {
    return change;
  }
  return {
    ...change,
    ...(change.from !== undefined ? { from: cut(change.from) } : {}),
    ...(change.to !== undefined ? { to: cut(change.to) } : {}),
  };
};

/** Who did it and when; every fact builder takes one. */
export interface Occasion {
  at: string;
  actor: Identity | null;
}

/** The item's creation. */
export const createdEvent = (item: ItemRef, on: Occasion, data?: Record<string, unknown>): EventInput =>
  toEvent({
    id: `${item.key}/created`,
    ...on,
    item,
    change: data ? { kind: 'created', data: compact(data) } : { kind: 'created' },
  });

/** The item was closed: `to` is the normalised state, `data.resolution` GitHub's reason. */
export const closedEvent = (
  item: ItemRef,
  on: Occasion,
  to: NormalizedState,
  resolution: string,
  extra: Record<string, unknown> = {},
): EventInput =>
  toEvent({
    id: `${item.key}/closed/${toSecond(on.at)}`,
    ...on,
    item,
    change: { kind: 'closed', to, data: compact({ resolution, sourceState: 'closed', ...extra }) },
  });

export const reopenedEvent = (scope: RepoScope, item: ItemRef, on: Occasion): EventInput =>
  toEvent({
    id: `${item.key}/reopened/${toSecond(on.at)}`,
    ...on,
    item,
    change: { kind: 'reopened', to: OPEN(scope), data: { sourceState: 'open' } },
  });

/**
 * A label added or removed, plus a `field_changed` for each field the label
 * means (kind, severity, priority). `others` are the item's other labels at
 * that moment, when known; they give the field's value before (added) or
 * after (removed).
 */
export const labelEvents = (
  scope: RepoScope,
  item: ItemRef,
  on: Occasion,
  label: string,
  added: boolean,
  others: readonly string[] | undefined,
): EventInput[] => {
  const id = `${item.key}/${added ? 'labeled' : 'unlabeled'}/${label}/${toSecond(on.at)}`;
  const events = [
    toEvent({ id, ...on, item, change: { kind: added ? 'label_added' : 'label_removed', target: clip(label, 500) } }),
  ];
  const rule = ruleOfLabel(scope.mapping, label);
  if (!rule) {
    scope.unmapped('label', label);
    return events;
  }
  if (rule.ignore) return events;
  const rest = others ? valuesOfLabels(scope, others, false) : undefined;
  for (const field of LABEL_FIELDS) {
    const value = rule[field];
    if (!value) continue;
    const other = rest?.[field] ?? null;
    // A workflow label taken off with no other one left leaves the item where it is (a `to` of null).
    const via = field === 'state' ? { data: { via: 'label', label: clip(label, 500) } } : {};
    const change: Change = added
      ? { kind: 'field_changed', field, to: value, ...(rest ? { from: other } : {}), ...via }
      : { kind: 'field_changed', field, from: value, to: other, ...via };
    events.push(toEvent({ id: `${id}/${field}`, ...on, item, change }));
  }
  return events;
};

/**
 * An assignee added or removed. Lanes keeps one assignee: the one just
 * assigned, or after a removal the first remaining one (`others`, when known).
 */
export const assigneeEvent = (
  item: ItemRef,
  on: Occasion,
  login: string,
  added: boolean,
  others: readonly string[] | undefined,
): EventInput => {
  const other = others?.find((o) => o !== login) ?? null;
  return toEvent({
    id: `${item.key}/${added ? 'assigned' : 'unassigned'}/${login}/${toSecond(on.at)}`,
    ...on,
    item,
    change: added
      ? {
          kind: 'field_changed',
          field: 'assignee',
          to: clip(login, 320),
          ...(others ? { from: other && clip(other, 320) } : {}),
        }
      : { kind: 'field_changed', field: 'assignee', from: clip(login, 320), to: other && clip(other, 320) },
  });
};

export const milestoneEvent = (item: ItemRef, on: Occasion, title: string, added: boolean): EventInput =>
  toEvent({
    id: `${item.key}/${added ? 'milestoned' : 'demilestoned'}/${title}/${toSecond(on.at)}`,
    ...on,
    item,
    change: added
      ? { kind: 'field_changed', field: 'milestone', to: clip(title, 5000) }
      : { kind: 'field_changed', field: 'milestone', from: clip(title, 5000), to: null },
  });

/** What a milestone the charter gives a meaning does besides being set (`milestoneMeaning`), as events. */
export const milestoneMeaningEvents = (
  scope: RepoScope,
  item: ItemRef,
  on: Occasion,
  title: string,
  added: boolean,
): EventInput[] => {
  // Ids extend the milestone event's, so they sort with it.
  const id = `${item.key}/${added ? 'milestoned' : 'demilestoned'}/${title}/${toSecond(on.at)}`;
  return milestoneMeaning(scope.mapping, title, added).map(({ suffix, change }) =>
    toEvent({ id: `${id}/${suffix}`, ...on, item, change }),
  );
};

/** The resolution `duplicate` set (or cleared); the id is that of GitHub's `marked_as_duplicate` event. */
const duplicateMark = (item: ItemRef, on: Occasion, marked: boolean): EventInput =>
  toEvent({
    id: `${item.key}/${marked ? 'marked_as_duplicate' : 'unmarked_as_duplicate'}/${toSecond(on.at)}`,
    ...on,
    item,
    change: marked
      ? { kind: 'field_changed', field: 'resolution', to: 'duplicate' }
      : { kind: 'field_changed', field: 'resolution', from: 'duplicate', to: null },
  });

/**
 * A comment that starts "Duplicate of #12": the original is linked and, when a
 * maintainer wrote it (GitHub then marks the issue a duplicate, in the same
 * second), the resolution becomes `duplicate`.
 */
export const duplicateCommentEvents = (
  scope: RepoScope,
  item: ItemRef,
  on: Occasion,
  body: string | null | undefined,
  association: unknown,
): EventInput[] => {
  const original = duplicateOfComment(scope.repo, body);
  if (!original || original === item.key) return [];
  const link = linkedEvent(item, on, original, 'duplicates');
  return canMarkDuplicates(association) ? [link, duplicateMark(item, on, true)] : [link];
};

/** GitHub's `marked_as_duplicate` / `unmarked_as_duplicate`, and the original linked when the event names it. */
const duplicateMarkEvents = (scope: RepoScope, item: ItemRef, on: Occasion, ev: GithubTimelineEvent): EventInput[] => {
  const marked = ev.event === 'marked_as_duplicate';
  const original = marked ? canonicalOf(scope.repo, ev) : null;
  const link = original && original !== item.key ? [linkedEvent(item, on, original, 'duplicates')] : [];
  return [duplicateMark(item, on, marked), ...link];
};

export const renamedEvent = (item: ItemRef, on: Occasion, from: string, to: string): EventInput =>
  toEvent({
    id: `${item.key}/renamed/${toSecond(on.at)}`,
    ...on,
    item,
    change: { kind: 'field_changed', field: 'title', from: clip(from, 5000), to: clip(to, 5000) },
  });

export const commentEvent = (item: ItemRef, on: Occasion, commentId: number, body: string | null | undefined) =>
  toEvent({
    id: `${item.key}/comment/${commentId}`,
    ...on,
    item,
    change: { kind: 'commented', text: clip(body ?? '', 65_536), data: { commentId } },
  });

export const linkedEvent = (item: ItemRef, on: Occasion, target: string, relation: string): EventInput =>
  toEvent({
    id: `${item.key}/linked/${target}`,
    ...on,
    item,
    change: { kind: 'linked', target: clip(target, 500), data: { relation } },
  });

// ---------------------------------------------------------------- pull requests

/** `fixes #12`, `closes owner/repo#12`, `resolves https://github.com/owner/repo/issues/12` (GitHub's closing keywords). */
const CLOSING_REF =
  /\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+(?:([A-Za-z0-9][\w.-]*\/[\w.-]+)?#(\d+)|https?:\/\/[^\s/]+\/([A-Za-z0-9][\w.-]*\/[\w.-]+)\/(?:issues|pull)\/(\d+))\b/gi;
const JIRA_KEY = /(?<![A-Za-z0-9])([A-Z][A-Z0-9]+)-(\d+)(?![0-9])/g;
/** Upper-case prefixes that look like Jira keys in titles and branches but are standards and versions. */
const NOT_JIRA = new Set([
  'UTF',
  'SHA',
  'ISO',
  'RFC',
  'CVE',
  'CWE',
  'GHSA',
  'HTTP',
  'TLS',
  'SSL',
  'AES',
  'RSA',
  'MD',
  'ES',
  'IPV',
  'PEP',
  'JEP',
  'JSR',
  'KEP',
  'GPT',
  'ECMA',
  'WCAG',
  'LTS',
]);

/** A link from a pull request to an item it fixes (`fixes #12`) or names (a Jira key in title or branch). */
export interface PullTarget {
  key: string;
  relation: 'fixes' | 'references';
  sameRepo: boolean;
}

/** The items a pull request fixes or references, without duplicates and never the PR itself. */
export const pullTargets = (
  repo: string,
  pull: Pick<GithubPull, 'number' | 'title' | 'body' | 'head'>,
): PullTarget[] => {
  const own = itemKey(repo, pull.number);
  const found = new Map<string, PullTarget>();
  const text = `${pull.title}\n${pull.body ?? ''}`;
  for (const match of text.matchAll(CLOSING_REF)) {
    const targetRepo = match[1] ?? match[3] ?? repo;
    const number = Number(match[2] ?? match[4]);
    const key = itemKey(targetRepo, number);
    if (!Number.isSafeInteger(number) || !isItemKey(key)) continue;
    if (key !== own && !found.has(key)) {
      found.set(key, { key, relation: 'fixes', sameRepo: targetRepo.toLowerCase() === repo.toLowerCase() });
    }
  }
  for (const source of [pull.title, pull.head?.ref ?? '']) {
    for (const match of source.matchAll(JIRA_KEY)) {
      if (NOT_JIRA.has(match[1]!)) continue;
      const key = `${match[1]}-${match[2]}`;
      if (isItemKey(key) && !found.has(key)) found.set(key, { key, relation: 'references', sameRepo: false });
    }
  }
  return [...found.values()];
};

type PullLike = GithubIssue & Partial<GithubPull>;

const pullData = (repo: string, pull: PullLike, merged: boolean): Record<string, unknown> =>
  compact({
    pr: pull.number,
    repo,
    draft: merged ? undefined : (pull.draft ?? undefined),
    baseRef: pull.base?.ref,
    headRef: merged ? undefined : pull.head?.ref,
    mergeCommitSha: merged ? pull.merge_commit_sha : undefined,
    additions: merged ? pull.additions : undefined,
    deletions: merged ? pull.deletions : undefined,
    changedFiles: merged ? pull.changed_files : undefined,
  });

/** The same PR fact on each item the PR fixes or references, plus the `linked` events from the PR. */
const onTargets = (
  scope: RepoScope,
  prItem: ItemRef,
  on: Occasion,
  targets: readonly PullTarget[],
  fact: Fact,
): EventInput[] => {
  const events: EventInput[] = [];
  for (const target of targets) {
    events.push(linkedEvent(prItem, on, target.key, target.relation));
    const item: ItemRef = { key: target.key };
    if (target.sameRepo && scope.team) item.team = scope.team;
    if (target.sameRepo && scope.component) item.component = scope.component;
    events.push(toEvent({ ...fact, id: `${fact.id}/for/${target.key}`, item }));
  }
  return events;
};

/** How a pull request became ready for review. */
export type PullOpening = 'opened' | 'reopened' | 'ready';

/** `pr_opened` on the PR and on every item it fixes or references. */
export const pullOpenedEvents = (
  scope: RepoScope,
  pull: PullLike,
  on: Occasion,
  how: PullOpening,
  prItem: ItemRef = itemSnapshot(scope, pull, true),
): EventInput[] => {
  const id = how === 'opened' ? `${prItem.key}/pr_opened` : `${prItem.key}/pr_opened/${how}/${toSecond(on.at)}`;
  const fact: Fact = {
    id,
    ...on,
    item: prItem,
    change: { kind: 'pr_opened', data: pullData(scope.repo, pull, false) },
  };
  return [toEvent(fact), ...onTargets(scope, prItem, on, pullTargets(scope.repo, pull), fact)];
};

/** `pr_merged` on the PR and its targets, and the PR item closed as done. */
export const pullMergedEvents = (
  scope: RepoScope,
  pull: PullLike,
  on: Occasion,
  closedAt: string,
  prItem: ItemRef = itemSnapshot(scope, pull, true),
): EventInput[] => {
  const fact: Fact = {
    id: `${prItem.key}/pr_merged`,
    ...on,
    item: prItem,
    change: { kind: 'pr_merged', data: pullData(scope.repo, pull, true) },
  };
  return [
    toEvent(fact),
    closedEvent(prItem, { ...on, at: closedAt }, 'done', 'merged'),
    ...onTargets(scope, prItem, on, pullTargets(scope.repo, pull), fact),
  ];
};

/** A review with its verdict; pending (unsubmitted) reviews are not facts yet. */
export const reviewEvent = (
  repo: string,
  prItem: ItemRef,
  pr: number,
  review: Pick<GithubReview, 'id' | 'state' | 'body' | 'commit_id'>,
  on: Occasion,
): EventInput | null => {
  const state = review.state.toLowerCase();
  if (state === 'pending') return null;
  return toEvent({
    id: `${prItem.key}/review/${review.id}`,
    ...on,
    item: prItem,
    change: {
      kind: 'review_submitted',
      data: compact({
        state,
        bodyLength: (review.body ?? '').length,
        reviewId: review.id,
        pr,
        repo,
        commitId: review.commit_id,
      }),
    },
  });
};

// ---------------------------------------------------------------- itemless

/** What every deployment event says about the deployment: where, what, and whether it is production. */
const deploymentFacts = (scope: RepoScope, deployment: GithubDeployment, environment: string) => ({
  repo: scope.repo,
  environment,
  production: isProductionEnvironment(scope.mapping, environment),
  sha: deployment.sha,
  ref: deployment.ref,
  deploymentId: deployment.id,
});

/** A deployment was created (`data.state: 'created'`). */
export const deploymentEvent = (scope: RepoScope, deployment: GithubDeployment, actor: Identity | null) => {
  const at = instant(deployment.created_at);
  if (!at) return null;
  const environment = deployment.environment ?? 'unknown';
  return toEvent({
    id: `${scope.repo}/deployment/${deployment.id}`,
    at,
    actor,
    change: {
      kind: 'deployed',
      data: compact({ ...deploymentFacts(scope, deployment, environment), task: deployment.task, state: 'created' }),
    },
  });
};

/** A deployment's status changed: `data.state` is GitHub's (success, failure, error, in_progress, …). */
export const deploymentStatusEvent = (
  scope: RepoScope,
  deployment: GithubDeployment,
  status: GithubDeploymentStatus,
  actor: Identity | null,
) => {
  const at = instant(status.created_at);
  if (!at) return null;
  const environment = status.environment ?? deployment.environment ?? 'unknown';
  return toEvent({
    id: `${scope.repo}/deployment/${deployment.id}/status/${status.id}`,
    at,
    actor,
    change: {
      kind: 'deployed',
      data: compact({
        ...deploymentFacts(scope, deployment, environment),
        statusId: status.id,
        state: status.state,
        description: status.description ? clip(status.description, 200) : undefined,
      }),
    },
  });
};

/**
 * A workflow run in one status. Queued runs are dated by `created_at`, running
 * ones by `run_started_at`, completed ones by `updated_at` (then `durationMs`
 * is the time from start to completion).
 */
export const workflowRunEvent = (scope: RepoScope, run: GithubWorkflowRun, actor: Identity | null) => {
  const status = run.status ?? 'unknown';
  const started = instant(run.run_started_at) ?? instant(run.created_at);
  const updated = instant(run.updated_at);
  const at =
    status === 'completed'
      ? (updated ?? started)
      : status === 'in_progress'
        ? (started ?? updated)
        : instant(run.created_at);
  if (!at) return null;
  const attempt = run.run_attempt ?? 1;
  const durationMs =
    status === 'completed' && started && updated ? Math.max(0, Date.parse(updated) - Date.parse(started)) : undefined;
  return toEvent({
    id: `${scope.repo}/run/${run.id}/${attempt}/${status}`,
    at,
    actor,
    change: {
      kind: 'ci_run',
      data: compact({
        repo: scope.repo,
        workflow: run.name,
        workflowId: run.workflow_id,
        runId: run.id,
        runNumber: run.run_number,
        runAttempt: attempt,
        status,
        conclusion: run.conclusion,
        headSha: run.head_sha,
        headBranch: run.head_branch,
        event: run.event,
        startedAt: started,
        durationMs,
      }),
    },
  });
};

/** A repository's label or milestone was created, edited or deleted. */
export const definitionEvent = (
  scope: RepoScope,
  id: string,
  on: Occasion,
  data: { type: 'label' | 'milestone'; action: string; name: string } & Record<string, unknown>,
): EventInput =>
  toEvent({
    id: `${scope.repo}/${id}`,
    ...on,
    change: { kind: 'definition_changed', data: compact({ repo: scope.repo, ...data }) },
  });

// ---------------------------------------------------------------- timeline

/** The labels and assignees of an issue at one point of its history. */
export interface IssueHistoryState {
  labels: string[];
  assignees: string[];
}

/** Timeline events that say nothing Lanes tracks; they are skipped without being counted as unmapped. */
const QUIET_TIMELINE_EVENTS = new Set([
  'subscribed',
  'unsubscribed',
  'mentioned',
  'referenced',
  'locked',
  'unlocked',
  'pinned',
  'unpinned',
  'committed',
  'head_ref_force_pushed',
  'head_ref_deleted',
  'head_ref_restored',
  'base_ref_changed',
  'base_ref_force_pushed',
  'review_requested',
  'review_request_removed',
  'review_dismissed',
  'convert_to_draft',
  'converted_to_draft',
  'auto_merge_enabled',
  'auto_merge_disabled',
  'auto_squash_enabled',
  'auto_rebase_enabled',
  'automatic_base_change_succeeded',
  'automatic_base_change_failed',
  'added_to_project',
  'added_to_project_v2',
  'moved_columns_in_project',
  'removed_from_project',
  'removed_from_project_v2',
  'project_v2_item_status_changed',
  'converted_note_to_issue',
  'comment_deleted',
  'connected',
  'disconnected',
  'user_blocked',
  'deployed',
  'deployment_environment_changed',
  'line-commented',
  'commit-commented',
  'copilot_work_started',
  'copilot_work_finished',
  'sub_issue_added',
  'sub_issue_removed',
  'parent_issue_added',
  'parent_issue_removed',
]);

/** Where an issue's timeline belongs: the item and whether it is a pull request. */
export interface TimelineSubject {
  number: number;
  html_url?: string | null | undefined;
  pull_request?: { merged_at?: string | null | undefined } | null | undefined;
}

/**
 * One timeline event (`/issues/{n}/timeline`, or `/issues/events` with its
 * embedded `issue`) as events. `state` gives the labels and assignees just
 * before the event, when the caller walks the whole timeline.
 */
export const timelineEvents = (
  scope: RepoScope,
  subject: TimelineSubject,
  ev: GithubTimelineEvent,
  state?: IssueHistoryState,
): EventInput[] => {
  if (QUIET_TIMELINE_EVENTS.has(ev.event)) return [];
  const pull = isPullIssue(subject);
  const item = baseItem(scope, subject.number, subject.html_url);
  const at = instant(ev.created_at) ?? instant(ev.submitted_at);
  if (!at) {
    scope.unmapped('event_type', `timeline.${ev.event}`);
    return [];
  }
  const actor = githubActor(ev.actor ?? ev.user, scope.mapping);
  const on: Occasion = { at, actor };
  const others = (list: readonly string[] | undefined, except: string) => list?.filter((x) => x !== except);
  const extra = ev.id ? { githubEventId: ev.id } : {};
  switch (ev.event) {
    case 'labeled':
    case 'unlabeled': {
      if (!ev.label) break;
      return labelEvents(scope, item, on, ev.label.name, ev.event === 'labeled', others(state?.labels, ev.label.name));
    }
    case 'assigned':
    case 'unassigned': {
      if (!ev.assignee) break;
      // `assigner` is who assigned; the legacy events API puts the assignee in `actor`.
      const by = { at, actor: githubActor(ev.assigner ?? ev.actor, scope.mapping) };
      return [assigneeEvent(item, by, ev.assignee.login, ev.event === 'assigned', state?.assignees)];
    }
    case 'milestoned':
    case 'demilestoned': {
      if (!ev.milestone) break;
      const added = ev.event === 'milestoned';
      return [
        milestoneEvent(item, on, ev.milestone.title, added),
        ...milestoneMeaningEvents(scope, item, on, ev.milestone.title, added),
      ];
    }
    case 'marked_as_duplicate':
    case 'unmarked_as_duplicate':
      return duplicateMarkEvents(scope, item, on, ev);
    case 'renamed':
      if (!ev.rename) break;
      return [renamedEvent(item, on, ev.rename.from, ev.rename.to)];
    case 'closed': {
      if (pull) {
        const merged = Boolean(subject.pull_request?.merged_at);
        return [closedEvent(item, on, merged ? 'done' : 'wont_fix', merged ? 'merged' : 'unmerged', extra)];
      }
      const reason = closingResolution(scope.mapping, ev.state_reason, state?.labels ?? []);
      const data = { commitId: ev.commit_id, stateReason: ev.state_reason, ...extra };
      return [closedEvent(item, on, closedState(scope, ev.state_reason), reason, data)];
    }
    case 'reopened':
      return [reopenedEvent(scope, item, on)];
    case 'commented': {
      if (!ev.id) break;
      const association = (ev as { author_association?: unknown }).author_association;
      const marks = pull ? [] : duplicateCommentEvents(scope, item, on, ev.body, association);
      return [commentEvent(item, on, ev.id, ev.body), ...marks];
    }
    case 'cross-referenced': {
      const source = ev.source?.issue;
      if (!source) break;
      const other = itemKey(source.repository?.full_name ?? scope.repo, source.number);
      if (!isItemKey(other)) break;
      return [linkedEvent(item, on, other, source.pull_request ? 'referenced_by_pull_request' : 'referenced_by')];
    }
    case 'ready_for_review':
      return [
        toEvent({
          id: `${item.key}/pr_opened/ready/${toSecond(at)}`,
          ...on,
          item,
          change: { kind: 'pr_opened', data: { pr: subject.number, repo: scope.repo } },
        }),
      ];
    case 'merged':
      return [
        toEvent({
          id: `${item.key}/pr_merged`,
          ...on,
          item,
          change: {
            kind: 'pr_merged',
            data: compact({ pr: subject.number, repo: scope.repo, mergeCommitSha: ev.commit_id }),
          },
        }),
      ];
    case 'reviewed': {
      if (!ev.id || !ev.state) break;
      const review = reviewEvent(scope.repo, item, subject.number, { ...ev, id: ev.id, state: ev.state }, on);
      return review ? [review] : [];
    }
    default:
      break;
  }
  scope.unmapped('event_type', `timeline.${ev.event}`);
  return [];
};

/** Applies one timeline event to the labels and assignees, forward in time or (rolling back) backward. */
const applyToState = (state: IssueHistoryState, ev: GithubTimelineEvent, forward: boolean): void => {
  const toggle = (list: string[], value: string, add: boolean): string[] =>
    add ? (list.includes(value) ? list : [...list, value]) : list.filter((x) => x !== value);
  if ((ev.event === 'labeled' || ev.event === 'unlabeled') && ev.label) {
    state.labels = toggle(state.labels, ev.label.name, (ev.event === 'labeled') === forward);
  }
  if ((ev.event === 'assigned' || ev.event === 'unassigned') && ev.assignee) {
    state.assignees = toggle(state.assignees, ev.assignee.login, (ev.event === 'assigned') === forward);
  }
};

/** One timeline event mapped on its own (for the repository's `/issues/events`, whose entries embed `issue`). */
export const mapTimelineEvent = (
  repo: string,
  subject: TimelineSubject,
  ev: GithubTimelineEvent,
  ctx: GithubContext,
): EventInput[] => timelineEvents(openRepo(repo, ctx), subject, ev);

/**
 * An issue from the REST API: `created` with the item as it was at creation
 * (labels, assignees and title rolled back through the timeline when given,
 * otherwise as they are now), the timeline's events, and `closed` at
 * `closed_at` when the timeline does not already say so. Duplicate ids are
 * dropped, the timeline's version kept.
 */
export const mapRestIssue = (
  repo: string,
  issue: GithubIssue,
  ctx: GithubContext,
  timeline?: readonly GithubTimelineEvent[],
): EventInput[] => {
  const scope = openRepo(repo, ctx);
  const created = instant(issue.created_at);
  if (!created) {
    scope.unmapped('event_type', 'issue.no_created_at');
    return [];
  }
  const pull = isPullIssue(issue);
  const history = timeline ?? [];
  const state: IssueHistoryState = { labels: labelNames(issue.labels), assignees: assigneeLogins(issue) };
  for (let i = history.length - 1; i >= 0; i -= 1) applyToState(state, history[i]!, false);
  const firstRename = history.find((ev) => ev.event === 'renamed' && ev.rename);
  const title = timeline ? (firstRename?.rename?.from ?? issue.title) : issue.title;

  const events: EventInput[] = [];
  const item = snapshotWith(
    scope,
    issue,
    state.labels,
    state.assignees,
    title,
    pull ? (issue.draft ? 'in_progress' : 'in_review') : OPEN(scope),
    pull,
  );
  // Without a timeline no label event will say it, so the labels' resolution travels with the creation.
  const labelled = timeline || pull ? undefined : resolutionOfLabels(scope.mapping, state.labels);
  events.push(
    createdEvent(
      item,
      { at: created, actor: githubActor(issue.user, scope.mapping) },
      { number: issue.number, resolution: labelled },
    ),
  );
  for (const ev of history) {
    events.push(...timelineEvents(scope, issue, ev, { labels: [...state.labels], assignees: [...state.assignees] }));
    applyToState(state, ev, true);
  }
  const closedAt = instant(issue.closed_at);
  // `closed_at` is often a second before the timeline's close: that close is the same fact, not another one.
  const closedInTimeline =
    closedAt !== undefined &&
    events.some(
      (e) =>
        e.change.kind === 'closed' && Math.abs(Date.parse(e.occurredAt) - Date.parse(closedAt)) <= SAME_FACT_WINDOW_MS,
    );
  if (issue.state === 'closed' && closedAt && !pull && !closedInTimeline) {
    const on = { at: closedAt, actor: githubActor(issue.closed_by, scope.mapping) };
    const reason = closingResolution(
      scope.mapping,
      issue.state_reason,
      labelNames(issue.labels),
      issue.milestone?.title,
    );
    const item = baseItem(scope, issue.number, issue.html_url);
    const data = { stateReason: issue.state_reason };
    events.push(closedEvent(item, on, closedState(scope, issue.state_reason), reason, data));
  }
  const seen = new Set<string>();
  return events.filter((e) => (seen.has(e.sourceEventId) ? false : (seen.add(e.sourceEventId), true)));
};

/**
 * A pull request from the REST API: `pr_opened` at `created_at`, then
 * `pr_merged` at `merged_at` (with the PR closed as done) or, closed unmerged,
 * `closed` as won't fix; each also on the items the PR fixes or references.
 */
export const mapRestPull = (repo: string, pull: GithubPull, ctx: GithubContext): EventInput[] => {
  const scope = openRepo(repo, ctx);
  const opened = instant(pull.created_at);
  if (!opened) {
    scope.unmapped('event_type', 'pull.no_created_at');
    return [];
  }
  const prItem = itemSnapshot(scope, pull, true);
  const events = pullOpenedEvents(
    scope,
    pull,
    { at: opened, actor: githubActor(pull.user, scope.mapping) },
    'opened',
    prItem,
  );
  const merged = instant(pullMergedAt(pull));
  const closed = instant(pull.closed_at);
  if (merged) {
    const on = { at: merged, actor: githubActor(pull.merged_by, scope.mapping) };
    events.push(...pullMergedEvents(scope, pull, on, closed ?? merged, prItem));
  } else if (pull.state === 'closed' && closed) {
    events.push(closedEvent(prItem, { at: closed, actor: null }, 'wont_fix', 'unmerged'));
  }
  return events;
};

/** A pull request's review from `/pulls/{n}/reviews`. */
export const mapRestReview = (
  repo: string,
  pull: Pick<GithubPull, 'number' | 'html_url'>,
  review: GithubReview,
  ctx: GithubContext,
): EventInput[] => {
  const scope = openRepo(repo, ctx);
  const at = instant(review.submitted_at);
  if (!at) return [];
  const event = reviewEvent(repo, baseItem(scope, pull.number, pull.html_url), pull.number, review, {
    at,
    actor: githubActor(review.user, scope.mapping),
  });
  return event ? [event] : [];
};

/** A deployment and its statuses from `/deployments` and `/deployments/{id}/statuses`. */
export const mapRestDeployment = (
  repo: string,
  deployment: GithubDeployment,
  statuses: readonly GithubDeploymentStatus[],
  ctx: GithubContext,
): EventInput[] => {
  const scope = openRepo(repo, ctx);
  const events = [deploymentEvent(scope, deployment, githubActor(deployment.creator, scope.mapping))];
  for (const status of statuses) {
    events.push(deploymentStatusEvent(scope, deployment, status, githubActor(status.creator, scope.mapping)));
  }
  return events.filter((e): e is EventInput => e !== null);
};

/** A workflow run from `/actions/runs`, in its current status. */
export const mapRestWorkflowRun = (repo: string, run: GithubWorkflowRun, ctx: GithubContext): EventInput[] => {
  const scope = openRepo(repo, ctx);
  const event = workflowRunEvent(scope, run, githubActor(run.triggering_actor ?? run.actor, scope.mapping));
  return event ? [event] : [];
};
