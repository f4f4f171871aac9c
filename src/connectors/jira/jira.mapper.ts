// Over 500 lines, kept for now: changelog, snapshot and webhook mapping share the field tables; split by use case in issue 15.
import { createHash } from 'node:crypto';
import {
  kindOfIssueType,
  normalizePriority,
  normalizeSeverity,
  normalizeState,
  ruleOfLabel,
  type JiraMapping,
} from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import type { EventInput, Identity, ItemKind, ItemRef } from '../../domain/event.js';
import type { MapContext } from '../connector.types.js';

/**
 * Jira REST payloads (Cloud API v3 and Data Center API v2) and their mapping
 * to Lanes events, shared by the webhook provider and the backfill.
 *
 * Event ids are deterministic and identical on both paths:
 * - `KEY/created` for the issue's creation;
 * - `KEY/changelog/<history id>/<item index>` for one changelog item (a webhook's
 *   `changelog.id` is the id of the history entry the REST changelog returns later,
 *   and both list the items in the same order); labels add `/label/<name>`, and a
 *   label with a meaning adds `/label/<name>/<field>`;
 * - `KEY/comment/<comment id>` for a comment;
 * - a move to another project (a `Key` changelog item) is `linked` on the new
 *   key (`moved_from`) and, under `…/moved`, `closed` as duplicate on the old key.
 *
 * An id longer than the log's 200 characters keeps its start and a digest of
 * the whole. Payloads are read defensively: values of the wrong type are
 * ignored, text is clipped to the event schema's limits, and what cannot be
 * read at all (no usable key or time) is an `AppError('LANES_VALIDATION')`.
 */

export interface JiraUser {
  accountId?: string;
  name?: string;
  key?: string;
  displayName?: string;
  self?: string;
}

export interface JiraChangelogItem {
  field: string;
  fieldId?: string;
  fieldtype?: string;
  from: string | null;
  fromString: string | null;
  to: string | null;
  toString: string | null;
}

export interface JiraHistory {
  id: string;
  author?: JiraUser | null;
  created: string;
  items: JiraChangelogItem[];
}

export interface JiraChangelog {
  startAt?: number;
  maxResults?: number;
  total?: number;
  histories: JiraHistory[];
}

export interface JiraComment {
  id: string;
  author?: JiraUser | null;
  body?: unknown;
  created: string;
  updated?: string;
}

export interface JiraStatus {
  id?: string;
  name: string;
  statusCategory?: { key?: string };
}

export interface JiraIssue {
  id: string;
  key: string;
  self?: string;
  fields: Record<string, unknown>;
  changelog?: JiraChangelog;
}

/** Extra knowledge the backfill has and a webhook does not. */
export interface JiraMapOptions {
  /** Status id → status category key (`new`, `indeterminate`, `done`), from `GET /rest/api/x/status`. */
  statusCategories?: ReadonlyMap<string, string>;
}

export const JIRA_SOURCE = 'jira';
const DEFAULT_SPRINT_FIELD = 'customfield_10020';
const STORY_POINT_NAMES = new Set(['story points', 'story point estimate']);

// ---------------------------------------------------------------- small readers

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);

/** A string, or a number as text (Jira ids arrive as either); null for anything else. */
const textOf = (value: unknown): string | null =>
  typeof value === 'string' ? value : typeof value === 'number' && Number.isFinite(value) ? String(value) : null;

const clip = (value: string | null | undefined, max: number): string | null =>
  value === null || value === undefined ? null : value.length > max ? value.slice(0, max) : value;

const MAX_ID = 200;
const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]*$/;

/** Keeps an event id within the log's 200 characters without losing determinism. */
const boundedId = (id: string): string =>
  id.length <= MAX_ID
    ? id
    : `${id.slice(0, MAX_ID - 25)}~${createHash('sha256').update(id).digest('hex').slice(0, 24)}`;

/** True for a string Lanes accepts as an item key (`PAY-12`). */
const isItemKey = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= 120 && KEY_PATTERN.test(value);

/** The instants `Date` prints with a four-digit year, as the event schema wants them. */
const MIN_MS = Date.parse('0000-01-01T00:00:00.000Z');
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Jira's time as an ISO instant in UTC, or undefined when it is not one. */
const readJiraTime = (value: unknown): string | undefined => {
  if (typeof value !== 'string') return undefined;
  const iso = value.trim().replace(/([+-]\d\d)(\d\d)$/, '$1:$2');
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms >= MIN_MS && ms <= MAX_MS ? new Date(ms).toISOString() : undefined;
};

/**
 * Jira writes offsets without a colon (`+0800`); normalise to an ISO instant in
 * UTC. Throws `AppError('LANES_VALIDATION')` for anything that is not a time.
 */
export const jiraTime = (value: unknown): string => {
  const time = readJiraTime(value);
  if (time === undefined) {
    throw new AppError('LANES_VALIDATION', `not a Jira timestamp: ${String(value).slice(0, 60)}`);
  }
  return time;
};

const userIdFromSelf = (self: unknown): string | undefined => {
  if (typeof self !== 'string') return undefined;
  const match = /[?&](?:accountId|username|key)=([^&]+)/.exec(self);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
};

/** The id Lanes knows a Jira user by: Cloud account id, else Data Center user name or key. */
export const jiraUserId = (user: JiraUser | null | undefined): string | undefined => {
  if (!isRecord(user)) return undefined;
  const id = str(user.accountId) ?? str(user.name) ?? str(user.key) ?? userIdFromSelf(user.self);
  // An identity is at most 320 characters; a longer one is no id Jira hands out.
  return id && id.length <= 320 ? id : undefined;
};

/** A Jira user as an event actor, or null when the source named nobody. */
export const jiraActor = (user: JiraUser | null | undefined): Identity | null => {
  const id = jiraUserId(user);
  if (!id) return null;
  const name = str(user?.displayName);
  return name ? { kind: 'jira', id, name: name.slice(0, 200) } : { kind: 'jira', id };
};

/** Plain text of a comment body: API v2 sends a string, v3 an Atlassian Document. */
export const plainText = (body: unknown): string => {
  if (typeof body === 'string') return body;
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (!isRecord(node)) return;
    if (typeof node['text'] === 'string') parts.push(node['text']);
    if (node['type'] === 'hardBreak') parts.push('\n');
    if (Array.isArray(node['content'])) {
      for (const child of node['content']) walk(child);
      if (node['type'] === 'paragraph' || node['type'] === 'heading') parts.push('\n');
    }
  };
  walk(body);
  return parts.join('').trim();
};

/** The site's base URL: the mapping's, else the part of the issue's `self` before `/rest/`. */
export const jiraBaseUrl = (mapping: JiraMapping | undefined, issueSelf: string | undefined): string | undefined => {
  const configured = mapping?.base_url ?? mapping?.site;
  if (configured) return configured.replace(/\/+$/, '');
  const at = issueSelf?.indexOf('/rest/') ?? -1;
  return issueSelf && at > 0 ? issueSelf.slice(0, at) : undefined;
};

/** A select, user-picker or text custom field as one string. */
const fieldText = (value: unknown): string | undefined => {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return str(value.trim());
  if (Array.isArray(value)) return value.length > 0 ? fieldText(value[0]) : undefined;
  if (isRecord(value)) return str(value['value']) ?? str(value['name']) ?? str(value['displayName']);
  return undefined;
};

const names = (value: unknown): string[] =>
  Array.isArray(value) ? value.map((v) => (isRecord(v) ? str(v['name']) : str(v))).filter((v) => v !== undefined) : [];

const splitList = (value: string | null | undefined, separator: RegExp): string[] =>
  value
    ? value
        .split(separator)
        .map((v) => v.trim())
        .filter((v) => v.length > 0)
    : [];

const lastOf = <T>(list: readonly T[]): T | null => (list.length > 0 ? list[list.length - 1]! : null);

// ---------------------------------------------------------------- reading payloads

/** One changelog item with its values as text (ids come as strings or numbers); undefined when it names no field. */
const readItem = (raw: unknown): JiraChangelogItem | undefined => {
  if (!isRecord(raw)) return undefined;
  const field = str(textOf(raw['field'])) ?? str(textOf(raw['fieldId']));
  if (!field) return undefined;
  const own = (name: string): string | null => (Object.hasOwn(raw, name) ? textOf(raw[name]) : null);
  const fieldId = str(own('fieldId'));
  return {
    field,
    ...(fieldId ? { fieldId } : {}),
    from: own('from'),
    fromString: own('fromString'),
    to: own('to'),
    toString: own('toString'),
  };
};

/** A changelog history the mapper can rely on, or undefined when it has no id or no readable time. */
const readHistory = (raw: unknown): JiraHistory | undefined => {
  if (!isRecord(raw)) return undefined;
  const id = str(textOf(raw['id']));
  const created = readJiraTime(raw['created']);
  if (!id || !created) return undefined;
  const items = Array.isArray(raw['items']) ? raw['items'].map(readItem).filter((i) => i !== undefined) : [];
  return { id, author: isRecord(raw['author']) ? (raw['author'] as JiraUser) : null, created, items };
};

/** The readable histories of a list; the rest are counted, never dropped silently. */
const readHistories = (raw: unknown, ctx: MapContext<JiraMapping>): JiraHistory[] => {
  if (!Array.isArray(raw)) return [];
  const out: JiraHistory[] = [];
  for (const entry of raw) {
    const history = readHistory(entry);
    if (history) out.push(history);
    else ctx.unmapped('event_type', 'changelog history without id or time');
  }
  return out;
};

/**
 * An issue whose key and `fields` can be trusted. Throws
 * `AppError('LANES_VALIDATION')` when the key is not a Jira key or there are no fields.
 */
export const readJiraIssue = (raw: unknown): JiraIssue => {
  if (!isRecord(raw) || !isRecord(raw['fields'])) {
    throw new AppError('LANES_VALIDATION', 'A Jira issue needs "key" and "fields".');
  }
  const key = raw['key'];
  if (!isItemKey(key)) {
    throw new AppError('LANES_VALIDATION', `Not a Jira issue key: ${String(key).slice(0, 130)}`);
  }
  const changelog = isRecord(raw['changelog']) ? (raw['changelog'] as unknown as JiraChangelog) : undefined;
  return {
    ...(raw as unknown as JiraIssue),
    id: textOf(raw['id']) ?? key,
    key,
    ...(typeof raw['self'] === 'string' ? { self: raw['self'] } : { self: undefined }),
    fields: raw['fields'],
    ...(changelog && Array.isArray(changelog.histories) ? { changelog } : { changelog: undefined }),
  };
};

// ---------------------------------------------------------------- raw issue state

/** The tracker-side values of an issue at one moment, before translation. */
interface RawState {
  summary: string | undefined;
  statusName: string | undefined;
  statusId: string | undefined;
  assignee: string | null;
  assigneeName: string | null;
  priority: string | null;
  issueType: string | undefined;
  severity: string | null;
  customer: string | null;
  estimate: string | null;
  resolution: string | null;
  labels: string[];
  sprints: string[];
  fixVersions: string[];
  components: string[];
}

/** Which Lanes field a changelog item is about, or undefined. */
type FieldKind =
  | 'status'
  | 'assignee'
  | 'priority'
  | 'issuetype'
  | 'summary'
  | 'sprint'
  | 'milestone'
  | 'estimate'
  | 'severity'
  | 'resolution'
  | 'labels'
  | 'component'
  | 'customer'
  | 'link'
  | 'moved';

/**
 * Changelog fields Lanes deliberately does not model (text, ordering, workflow
 * plumbing, time tracking): neither events nor unmapped values, so that
 * `lanes sources` lists what a team could still map rather than noise.
 */
const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'description',
  'rank',
  'workflow',
  'remoteissuelink',
  'attachment',
  'environment',
  'timeestimate',
  'timeoriginalestimate',
  'timespent',
  'worklogid',
  'worklogtimespent',
  'duedate',
  'flagged',
  'project',
  'watchers',
]);

const fieldKindOf = (item: JiraChangelogItem, mapping: JiraMapping | undefined): FieldKind | undefined => {
  const id = item.fieldId ?? '';
  const name = item.field.trim().toLowerCase();
  const custom = mapping?.fields;
  // Data Center changelog items carry the field's name but no id, so a mapped field matches either.
  const matches = (wanted: string | undefined): boolean =>
    Boolean(wanted) && (id === wanted || name === wanted!.trim().toLowerCase());
  if (matches(custom?.severity) || ((!id || !custom?.severity) && name === 'severity')) return 'severity';
  if (matches(custom?.customer)) return 'customer';
  if (id === (custom?.sprint ?? DEFAULT_SPRINT_FIELD) || (!id && name === 'sprint')) return 'sprint';
  if (matches(custom?.story_points) || STORY_POINT_NAMES.has(name)) return 'estimate';
  switch (id || name) {
    case 'status':
      return 'status';
    case 'assignee':
      return 'assignee';
    case 'priority':
      return 'priority';
    case 'issuetype':
      return 'issuetype';
    case 'summary':
      return 'summary';
    case 'resolution':
      return 'resolution';
    case 'labels':
      return 'labels';
    case 'fixversions':
    case 'fixVersions':
    case 'fix version':
      return 'milestone';
    case 'components':
    case 'component':
      return 'component';
    case 'link':
      return 'link';
    case 'key':
    case 'issuekey':
      return 'moved';
    default:
      return name === 'sprint' ? 'sprint' : undefined;
  }
};

const currentState = (issue: JiraIssue, mapping: JiraMapping | undefined): RawState => {
  const f = issue.fields;
  const status = isRecord(f['status']) ? f['status'] : undefined;
  const assignee = isRecord(f['assignee']) ? (f['assignee'] as JiraUser) : undefined;
  const sprints = names(f[mapping?.fields?.sprint ?? DEFAULT_SPRINT_FIELD]);
  return {
    summary: str(f['summary']),
    statusName: str(status?.['name']),
    statusId: str(status?.['id']),
    assignee: jiraUserId(assignee) ?? null,
    assigneeName: str(assignee?.displayName) ?? null,
    priority: isRecord(f['priority']) ? (str(f['priority']['name']) ?? null) : null,
    issueType: isRecord(f['issuetype']) ? str(f['issuetype']['name']) : undefined,
    severity: mapping?.fields?.severity ? (fieldText(f[mapping.fields.severity]) ?? null) : null,
    customer: mapping?.fields?.customer ? (fieldText(f[mapping.fields.customer]) ?? null) : null,
    estimate: mapping?.fields?.story_points ? (fieldText(f[mapping.fields.story_points]) ?? null) : null,
    resolution: isRecord(f['resolution']) ? (str(f['resolution']['name']) ?? null) : null,
    labels: Array.isArray(f['labels']) ? f['labels'].filter((l): l is string => typeof l === 'string') : [],
    sprints,
    fixVersions: names(f['fixVersions']),
    components: names(f['components']),
  };
};

/** Undoes one changelog item: the state just before it. */
const undoItem = (state: RawState, item: JiraChangelogItem, kind: FieldKind): void => {
  switch (kind) {
    case 'status':
      state.statusName = item.fromString ?? undefined;
      state.statusId = item.from ?? undefined;
      break;
    case 'assignee':
      state.assignee = item.from ?? null;
      state.assigneeName = item.fromString ?? null;
      break;
    case 'priority':
      state.priority = item.fromString ?? null;
      break;
    case 'issuetype':
      state.issueType = item.fromString ?? undefined;
      break;
    case 'summary':
      state.summary = item.fromString ?? undefined;
      break;
    case 'sprint':
      state.sprints = splitList(item.fromString, /,\s*/);
      break;
    case 'estimate':
      state.estimate = item.fromString || null;
      break;
    case 'severity':
      state.severity = item.fromString || null;
      break;
    case 'customer':
      state.customer = item.fromString || null;
      break;
    case 'resolution':
      state.resolution = item.fromString ?? null;
      break;
    case 'labels':
      state.labels = splitList(item.fromString, /\s+/);
      break;
    case 'milestone':
      // One item per version: `to` set means it was added, `from` set means it was removed.
      if (item.toString) state.fixVersions = state.fixVersions.filter((v) => v !== item.toString);
      if (item.fromString && !state.fixVersions.includes(item.fromString)) state.fixVersions.push(item.fromString);
      break;
    case 'component':
      if (item.toString) state.components = state.components.filter((v) => v !== item.toString);
      if (item.fromString && !state.components.includes(item.fromString)) state.components.push(item.fromString);
      break;
    case 'link':
    case 'moved':
      break;
  }
};

// ---------------------------------------------------------------- translation

interface Translator {
  key: string;
  ref: ItemRef;
  ctx: MapContext<JiraMapping>;
  categories: ReadonlyMap<string, string>;
}

const translateState = (
  t: Translator,
  name: string | null | undefined,
  id: string | null | undefined,
  report: boolean,
): string | null => {
  if (!name) return null;
  const state = normalizeState(t.ctx.mapping, name, id ? t.categories.get(id) : undefined);
  if (!state && report) t.ctx.unmapped('state', name);
  return state ?? null;
};

const translatePriority = (t: Translator, name: string | null): string | null => {
  if (!name) return null;
  const p = normalizePriority(t.ctx.mapping, name);
  if (!p) t.ctx.unmapped('priority', name);
  return p ?? null;
};

const translateKind = (t: Translator, name: string | null | undefined): ItemRef['kind'] => {
  if (!name) return undefined;
  const kind = kindOfIssueType(t.ctx.mapping, name);
  if (!kind) t.ctx.unmapped('issue_type', name);
  return kind;
};

const translateSeverity = (t: Translator, value: string | null): string | null => {
  if (!value) return null;
  const s = normalizeSeverity(t.ctx.mapping, value);
  if (!s) t.ctx.unmapped('severity', value);
  return s ?? null;
};

type Scope = { team: string; component?: string | undefined; default_kind?: ItemKind | undefined };

const itemRefOf = (issue: JiraIssue, ctx: MapContext<JiraMapping>): { ref: ItemRef; scope: Scope | undefined } => {
  const project = isRecord(issue.fields['project']) ? str(issue.fields['project']['key']) : undefined;
  const projectKey = project ?? issue.key.replace(/-\d+$/, '');
  const projects = ctx.mapping?.projects;
  const scope = projects && Object.hasOwn(projects, projectKey) ? projects[projectKey] : undefined;
  if (!scope) ctx.unmapped('scope', projectKey);
  const base = jiraBaseUrl(ctx.mapping, typeof issue.self === 'string' ? issue.self : undefined);
  const ref: ItemRef = { key: issue.key };
  const url = base ? `${base}/browse/${issue.key}` : undefined;
  if (url && url.length <= 2000 && /^https?:\/\/[^/\s]+/.test(url) && URL.canParse(url)) ref.url = url;
  return { ref, scope };
};

/** The full item snapshot of a raw state (for `created` and for webhook events). */
const snapshotOf = (t: Translator, raw: RawState, scope: Scope | undefined): ItemRef => {
  const ref: ItemRef = { ...t.ref };
  if (raw.summary) ref.title = raw.summary.slice(0, 500);
  const rules = raw.labels.map((l) => ruleOfLabel(t.ctx.mapping, l)).filter((r) => r !== undefined && !r.ignore);
  const kind = translateKind(t, raw.issueType) ?? rules.find((r) => r?.kind)?.kind ?? scope?.default_kind;
  if (kind) ref.kind = kind;
  const state = translateState(t, raw.statusName, raw.statusId, true);
  if (state) ref.state = state;
  const priority = translatePriority(t, raw.priority) ?? rules.find((r) => r?.priority)?.priority;
  if (priority) ref.priority = priority;
  const severity = translateSeverity(t, raw.severity) ?? rules.find((r) => r?.severity)?.severity;
  if (severity) ref.severity = severity;
  if (raw.assignee) ref.assignee = clip(raw.assignee, 320)!;
  if (scope) ref.team = scope.team;
  const component = scope?.component ?? raw.components[0];
  if (component) ref.component = component.slice(0, 120);
  if (raw.customer) ref.customer = raw.customer.slice(0, 200);
  return ref;
};

const silent = (ctx: MapContext<JiraMapping>): MapContext<JiraMapping> => ({ ...ctx, unmapped: () => undefined });

interface HistoryContext extends Translator {
  /** The item as events about one changelog item carry it. */
  eventRef: ItemRef;
}

const event = (
  t: HistoryContext,
  sourceEventId: string,
  occurredAt: string,
  actor: Identity | null,
  change: EventInput['change'],
): EventInput => ({
  source: JIRA_SOURCE,
  sourceEventId: boundedId(sourceEventId),
  occurredAt,
  actor,
  item: t.eventRef,
  change,
});

const fieldChange = (
  field: NonNullable<EventInput['change']['field']>,
  from: string | null,
  to: string | null,
  data?: Record<string, unknown>,
): EventInput['change'] => ({
  kind: 'field_changed',
  field,
  from: clip(from, field === 'assignee' ? 320 : 5000),
  to: clip(to, field === 'assignee' ? 320 : 5000),
  ...(data ? { data } : {}),
});

/** Events for one changelog item (zero when the field means nothing to Lanes). */
const mapItem = (
  t: HistoryContext,
  history: { id: string; occurredAt: string; actor: Identity | null },
  item: JiraChangelogItem,
  index: number,
): EventInput[] => {
  const kind = fieldKindOf(item, t.ctx.mapping);
  const id = `${t.key}/changelog/${history.id}/${index}`;
  const at = history.occurredAt;
  const make = (change: EventInput['change'], suffix = ''): EventInput =>
    event(t, `${id}${suffix}`, at, history.actor, change);
  switch (kind) {
    case undefined:
      if (!IGNORED_FIELDS.has(item.field.toLowerCase())) t.ctx.unmapped('field', item.field);
      return [];
    case 'status': {
      const to = translateState(t, item.toString, item.to, true);
      const from = translateState(t, item.fromString, item.from, false);
      return [
        make(
          fieldChange('state', from, to, {
            sourceState: item.toString,
            fromSourceState: item.fromString,
            ...(item.to ? { sourceStatusId: item.to } : {}),
          }),
        ),
      ];
    }
    case 'assignee':
      return [
        make(
          fieldChange('assignee', item.from ?? null, item.to ?? null, {
            fromName: item.fromString,
            toName: item.toString,
          }),
        ),
      ];
    case 'priority':
      return [
        make(
          fieldChange(
            'priority',
            item.fromString ? (normalizePriority(t.ctx.mapping, item.fromString) ?? null) : null,
            translatePriority(t, item.toString),
            { sourcePriority: item.toString },
          ),
        ),
      ];
    case 'issuetype':
      return [
        make(
          fieldChange(
            'kind',
            item.fromString ? (kindOfIssueType(t.ctx.mapping, item.fromString) ?? null) : null,
            translateKind(t, item.toString) ?? null,
            { sourceType: item.toString },
          ),
        ),
      ];
    case 'summary':
      return [make(fieldChange('title', item.fromString?.slice(0, 500) ?? null, item.toString?.slice(0, 500) ?? null))];
    case 'sprint': {
      const to = splitList(item.toString, /,\s*/);
      const from = splitList(item.fromString, /,\s*/);
      return [make(fieldChange('sprint', lastOf(from), lastOf(to), { sprints: to }))];
    }
    case 'milestone':
      return [
        make(
          fieldChange('milestone', item.fromString || null, item.toString || null, {
            ...(item.toString ? {} : { removed: true }),
          }),
        ),
      ];
    case 'estimate':
      return [make(fieldChange('estimate', item.fromString || null, item.toString || null))];
    case 'severity':
      return [
        make(
          fieldChange(
            'severity',
            item.fromString ? (normalizeSeverity(t.ctx.mapping, item.fromString) ?? null) : null,
            translateSeverity(t, item.toString || null),
            { sourceSeverity: item.toString },
          ),
        ),
      ];
    case 'customer':
      return [make(fieldChange('customer', item.fromString || null, item.toString?.slice(0, 200) || null))];
    case 'resolution':
      return [make(fieldChange('resolution', item.fromString ?? null, item.toString ?? null))];
    case 'component':
      return [make(fieldChange('component', item.fromString ?? null, item.toString?.slice(0, 120) ?? null))];
    case 'link': {
      const target = clip(item.to || item.from, 500);
      if (!target) {
        t.ctx.unmapped('field', item.field);
        return [];
      }
      const removed = !item.to;
      const linkType = (removed ? item.fromString : item.toString) ?? null;
      // "This issue duplicates PAY-7" names the original of a duplicate (not "is duplicated by").
      const duplicates = !removed && linkType !== null && /\bduplicates\b/i.test(linkType);
      // Jira names the other issue by key in `to`/`from`; anything else is no link Lanes can follow.
      return [
        make({
          kind: 'linked',
          target,
          data: {
            linkType,
            ...(duplicates ? { relation: 'duplicates' } : {}),
            ...(removed ? { removed: true } : {}),
          },
        }),
      ];
    }
    case 'moved': {
      // The issue moved to another project and got a new key: the old key's item ends there,
      // and the history continues under the new key (the backfill already files all of it there).
      const previous = item.fromString || item.from;
      if (!isItemKey(previous) || previous === t.key) {
        t.ctx.unmapped('field', item.field);
        return [];
      }
      return [
        make({ kind: 'linked', target: previous, data: { relation: 'moved_from' } }),
        {
          source: JIRA_SOURCE,
          sourceEventId: boundedId(`${id}/moved`),
          occurredAt: at,
          actor: history.actor,
          item: { key: previous },
          change: { kind: 'closed', to: 'duplicate', data: { resolution: 'moved', movedTo: t.key } },
        },
      ];
    }
    case 'labels': {
      const before = new Set(splitList(item.fromString, /\s+/));
      const after = new Set(splitList(item.toString, /\s+/));
      const out: EventInput[] = [];
      for (const label of after) {
        if (before.has(label)) continue;
        out.push(make({ kind: 'label_added', target: clip(label, 500)! }, `/label/${label}`));
        const rule = ruleOfLabel(t.ctx.mapping, label);
        if (!rule) t.ctx.unmapped('label', label);
        else if (!rule.ignore) {
          for (const field of ['kind', 'severity', 'priority'] as const) {
            const value = rule[field];
            if (value) out.push(make(fieldChange(field, null, value, { label }), `/label/${label}/${field}`));
          }
        }
      }
      for (const label of before) {
        if (!after.has(label)) out.push(make({ kind: 'label_removed', target: clip(label, 500)! }, `/label/${label}`));
      }
      return out;
    }
  }
};

const historyOrder = (a: JiraHistory, b: JiraHistory): number => {
  const ta = readJiraTime(a.created) ?? '';
  const tb = readJiraTime(b.created) ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const na = Number(a.id);
  const nb = Number(b.id);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
};

/**
 * Events for changelog histories of one issue (webhook `changelog` or REST
 * `changelog.histories`), one per item, each with the history's author.
 */
export const mapJiraHistories = (
  issue: JiraIssue,
  histories: readonly JiraHistory[],
  ctx: MapContext<JiraMapping>,
  options: JiraMapOptions & { eventRef?: ItemRef } = {},
): EventInput[] => {
  const { ref } = itemRefOf(issue, silent(ctx));
  const t: HistoryContext = {
    key: issue.key,
    ref,
    ctx,
    categories: withCurrentStatus(issue, options.statusCategories),
    eventRef: options.eventRef ?? ref,
  };
  const out: EventInput[] = [];
  for (const history of readHistories(histories, ctx).sort(historyOrder)) {
    const meta = { id: history.id, occurredAt: jiraTime(history.created), actor: jiraActor(history.author) };
    history.items.forEach((item, index) => out.push(...mapItem(t, meta, item, index)));
  }
  return out;
};

const withCurrentStatus = (
  issue: JiraIssue,
  categories: ReadonlyMap<string, string> | undefined,
): ReadonlyMap<string, string> => {
  const status = issue.fields['status'];
  const id = isRecord(status) ? str(status['id']) : undefined;
  const category =
    isRecord(status) && isRecord(status['statusCategory']) ? str(status['statusCategory']['key']) : undefined;
  if (!id || !category || categories?.has(id)) return categories ?? new Map();
  return new Map([...(categories ?? []), [id, category]]);
};

/** The comments embedded in an issue (`fields.comment.comments`) as commented events. */
export const mapJiraComment = (issueKey: string, ref: ItemRef, comment: JiraComment): EventInput => ({
  source: JIRA_SOURCE,
  sourceEventId: boundedId(`${issueKey}/comment/${String(comment.id)}`),
  occurredAt: jiraTime(comment.created),
  actor: jiraActor(comment.author),
  item: ref,
  change: { kind: 'commented', text: plainText(comment.body).slice(0, 65_536) },
});

/** The issue's current fields as a full snapshot (what a webhook knows). */
export const jiraSnapshot = (issue: JiraIssue, ctx: MapContext<JiraMapping>): ItemRef => {
  const { ref, scope } = itemRefOf(issue, ctx);
  const t: Translator = { key: issue.key, ref, ctx, categories: withCurrentStatus(issue, undefined) };
  return snapshotOf(t, currentState(issue, ctx.mapping), scope);
};

/** The `created` event of an issue from the values it had when it was created. */
const createdEvent = (issue: JiraIssue, snapshot: ItemRef, initial: RawState): EventInput => {
  const creator = (issue.fields['creator'] ?? issue.fields['reporter']) as JiraUser | null | undefined;
  const data: Record<string, unknown> = {};
  if (isRecord(issue.fields['issuetype']) && initial.issueType) data['sourceType'] = initial.issueType;
  if (initial.statusName) data['sourceState'] = initial.statusName;
  if (initial.priority) data['sourcePriority'] = initial.priority;
  if (initial.labels.length > 0) data['labels'] = initial.labels;
  if (initial.sprints.length > 0) data['sprint'] = lastOf(initial.sprints);
  if (initial.fixVersions.length > 0) data['milestone'] = initial.fixVersions[0];
  if (initial.estimate) data['estimate'] = initial.estimate;
  if (initial.resolution) data['resolution'] = initial.resolution;
  if (initial.components.length > 0) data['components'] = initial.components;
  return {
    source: JIRA_SOURCE,
    sourceEventId: `${issue.key}/created`,
    occurredAt: jiraTime(issue.fields['created']),
    actor: jiraActor(creator),
    item: snapshot,
    change: { kind: 'created', ...(Object.keys(data).length > 0 ? { data } : {}) },
  };
};

/**
 * Maps a REST issue fetched with `expand=changelog` (its changelog complete:
 * see `mergeJiraChangelog`) to its whole history: a `created` event carrying
 * the values the issue had at creation (reconstructed by undoing the changelog
 * from the current fields, newest first), then one event per changelog item
 * and per embedded comment, in time order.
 */
export const mapJiraIssue = (
  raw: JiraIssue,
  ctx: MapContext<JiraMapping>,
  options: JiraMapOptions = {},
): EventInput[] => {
  const issue = readJiraIssue(raw);
  const histories = readHistories(issue.changelog?.histories, ctx).sort(historyOrder);
  const initial = currentState(issue, ctx.mapping);
  for (const history of [...histories].reverse()) {
    for (const item of [...history.items].reverse()) {
      const kind = fieldKindOf(item, ctx.mapping);
      if (kind) undoItem(initial, item, kind);
    }
  }
  const { ref, scope } = itemRefOf(issue, ctx);
  const t: Translator = { key: issue.key, ref, ctx, categories: withCurrentStatus(issue, options.statusCategories) };
  const created = createdEvent(issue, snapshotOf(t, initial, scope), initial);
  const changes = mapJiraHistories(issue, histories, ctx, { ...options, eventRef: ref });
  const comment = issue.fields['comment'];
  const comments: EventInput[] = [];
  if (isRecord(comment) && Array.isArray(comment['comments'])) {
    for (const c of comment['comments'] as unknown[]) {
      if (isRecord(c) && str(textOf(c['id'])) && readJiraTime(c['created'])) {
        comments.push(mapJiraComment(issue.key, ref, c as unknown as JiraComment));
      } else {
        ctx.unmapped('event_type', 'comment without id or time');
      }
    }
  }
  const rest = [...changes, ...comments].sort((a, b) =>
    a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0,
  );
  return [created, ...rest];
};

/**
 * Adds separately fetched changelog histories (`/issue/{key}/changelog`) to an
 * issue whose embedded changelog was truncated; histories already present are
 * kept once.
 */
export const mergeJiraChangelog = (issue: JiraIssue, extra: readonly JiraHistory[]): JiraIssue => {
  const byId = new Map<string, JiraHistory>();
  const unreadable: JiraHistory[] = [];
  for (const h of [...(issue.changelog?.histories ?? []), ...extra]) {
    const id = isRecord(h) ? textOf(h.id) : null;
    // Kept so that the mapping counts them as unreadable.
    if (id === null) unreadable.push(h);
    else if (!byId.has(id)) byId.set(id, h);
  }
  const histories = [...byId.values(), ...unreadable].sort(historyOrder);
  return { ...issue, changelog: { startAt: 0, maxResults: histories.length, total: histories.length, histories } };
};

/** True when the embedded changelog does not hold every history entry. */
export const isChangelogTruncated = (issue: JiraIssue): boolean => {
  const log = issue.changelog;
  if (!isRecord(log) || !Array.isArray(log.histories)) return false;
  return typeof log.total === 'number' && log.histories.length < log.total;
};
