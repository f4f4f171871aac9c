import { createHash } from 'node:crypto';
import {
  isBotLogin,
  normalizeState,
  ruleOfLabel,
  type LinearMapping,
  type ValueRule,
} from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import type { EventInput, Identity, ItemField, ItemRef } from '../../domain/event.js';
import type { MapContext } from '../connector.types.js';

/**
 * What the Linear webhook and the Linear sync share: item keys, the item
 * snapshot, label rules and event ids.
 *
 * Event ids are built from facts both paths see, so a change delivered by
 * webhook and later read back from the issue history is stored once:
 * - creation: `<issue uuid>/created`;
 * - a field change: `<issue uuid>/<field>@<ISO instant of the change>`, where the
 *   instant is the webhook's `data.updatedAt` and the history entry's `createdAt`
 *   (Linear stamps both from the same update; the history id is kept in `data.historyId`);
 * - a label: `<issue uuid>/label+<name>@<instant>` or `label-` for a removal;
 * - a comment: `comment/<comment uuid>`.
 *
 * Text is clipped to the event schema's limits and values of the wrong type
 * are ignored, so one odd field never fails a whole delivery or sync page.
 */

export const LINEAR_SOURCE = 'linear';

export type LinearContext = MapContext<LinearMapping>;

const MAX_ID = 200;

/** Keeps an event id within the schema's 200 characters without losing determinism. */
export const boundedId = (id: string): string =>
  id.length <= MAX_ID ? id : `${id.slice(0, MAX_ID - 66)}#${createHash('sha256').update(id).digest('hex')}`;

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]*$/;

const isKey = (key: string): boolean => key.length <= 120 && KEY_PATTERN.test(key);

/**
 * `ENG-12` from the identifier, else team key + number, else `linear:<uuid>`;
 * `AppError('LANES_VALIDATION')` when none of them makes a key.
 */
export const issueKey = (issue: {
  id: string;
  identifier?: string | null | undefined;
  number?: number | null | undefined;
  teamKey?: string | null | undefined;
}): string => {
  if (issue.identifier && isKey(issue.identifier)) return issue.identifier;
  if (issue.teamKey && Number.isSafeInteger(issue.number) && issue.number! >= 0) {
    const key = `${issue.teamKey}-${issue.number}`;
    if (isKey(key)) return key;
  }
  const key = `linear:${issue.id}`;
  if (!isKey(key))
    throw new AppError('LANES_VALIDATION', `no usable key for the Linear issue ${issue.id.slice(0, 80)}`);
  return key;
};

/** An ISO instant as UTC with milliseconds (`toUtcIso`), refusing what the event schema cannot hold. */
export const linearTime = (value: string): string => {
  const ms = Date.parse(value);
  const iso = Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : '';
  if (!/^\d{4}-/.test(iso)) throw new AppError('LANES_VALIDATION', `not a usable time: ${value.slice(0, 60)}`);
  return iso;
};

const clip = (value: string | null, max: number): string | null =>
  value !== null && value.length > max ? value.slice(0, max) : value;

/** The mapping's scope of a Linear team key, if any (own keys only: `constructor` is no team). */
export const scopeOfTeam = (ctx: LinearContext, teamKey: string | null | undefined) => {
  const teams = ctx.mapping?.teams;
  return teamKey && teams && Object.hasOwn(teams, teamKey) ? teams[teamKey] : undefined;
};

/** An http(s) URL the event schema accepts, or undefined. */
export const httpUrl = (value: string | null | undefined): string | undefined =>
  value && value.length <= 2000 && /^https?:\/\/[^/\s]/.test(value) && URL.canParse(value) ? value : undefined;

/** Linear's priority number (0 none, 1 urgent … 4 low) as P1..P4, or null for none. */
export const priorityOfNumber = (value: unknown): string | null =>
  typeof value === 'number' && value >= 1 && value <= 4 ? `P${value}` : null;

export const estimateText = (value: unknown): string | null =>
  typeof value === 'number' && Number.isFinite(value) ? String(value) : null;

/** A cycle as a sprint name: its name, else `Cycle <number>`, else its id. */
export const sprintName = (
  cycle: { name?: string | null; number?: number | null } | null | undefined,
  id?: string | null,
): string | null => {
  if (cycle?.name) return cycle.name;
  if (typeof cycle?.number === 'number') return `Cycle ${cycle.number}`;
  return id ?? null;
};

/** A user (or app) that acted, as an identity; bots listed in `lanes.yaml` become `bot`. */
export const linearActor = (
  actor: { id?: unknown; name?: unknown } | null | undefined,
  ctx: LinearContext,
): Identity | null => {
  if (!actor || typeof actor.id !== 'string' || actor.id === '' || actor.id.length > 320) return null;
  const name = typeof actor.name === 'string' && actor.name !== '' ? actor.name.slice(0, 200) : undefined;
  const bot = isBotLogin(ctx.mapping, actor.id) || (name !== undefined && isBotLogin(ctx.mapping, name));
  return { kind: bot ? 'bot' : 'linear', id: actor.id, ...(name ? { name } : {}) };
};

/** The normalised state, or undefined (counted as unmapped) when neither name nor type is known. */
export const stateOf = (
  state: { name?: string | null; type?: string | null } | null | undefined,
  ctx: LinearContext,
): string | undefined => {
  if (!state?.name && !state?.type) return undefined;
  const normalized = normalizeState(ctx.mapping, state.name ?? state.type ?? '', state.type);
  if (!normalized) ctx.unmapped('state', state.name ?? state.type ?? '');
  return normalized;
};

/** What a label means; unknown labels are counted. */
export const labelRule = (name: string, ctx: LinearContext): ValueRule | undefined => {
  const rule = ruleOfLabel(ctx.mapping, name);
  if (!rule) ctx.unmapped('label', name);
  return rule?.ignore ? undefined : rule;
};

/** The fields a label rule sets, in a stable order. */
export const ruleFields = (rule: ValueRule | undefined): [ItemField, string][] => {
  if (!rule) return [];
  const out: [ItemField, string][] = [];
  if (rule.kind) out.push(['kind', rule.kind]);
  if (rule.severity) out.push(['severity', rule.severity]);
  if (rule.priority) out.push(['priority', rule.priority]);
  return out;
};

/** The facts about an issue both paths know, in one shape. */
export interface LinearIssueView {
  id: string;
  identifier?: string | null | undefined;
  number?: number | null | undefined;
  teamKey?: string | null | undefined;
  title?: string | null | undefined;
  state?: { name?: string | null; type?: string | null } | null | undefined;
  priority?: number | null | undefined;
  assigneeId?: string | null | undefined;
  labels: string[];
  url?: string | null | undefined;
}

/** The item reference of an issue: key, scope, and what its fields and labels say. */
export const issueSnapshot = (issue: LinearIssueView, ctx: LinearContext): ItemRef => {
  const ref: ItemRef = { key: issueKey(issue) };
  const fromLabels: Partial<Record<'kind' | 'severity' | 'priority', string>> = {};
  for (const label of issue.labels) {
    for (const [field, value] of ruleFields(labelRule(label, ctx))) {
      if (field === 'kind' || field === 'severity' || field === 'priority') fromLabels[field] ??= value;
    }
  }
  const scope = scopeOfTeam(ctx, issue.teamKey);
  const kind = (fromLabels.kind as ItemRef['kind']) ?? scope?.default_kind;
  if (kind) ref.kind = kind;
  if (issue.title) ref.title = issue.title.slice(0, 500);
  if (scope) {
    ref.team = scope.team;
    if (scope.component) ref.component = scope.component;
  } else {
    ctx.unmapped('scope', issue.teamKey ?? `team of ${issue.id}`);
  }
  if (fromLabels.severity) ref.severity = fromLabels.severity;
  // Linear's own priority field wins over a priority label.
  const priority = priorityOfNumber(issue.priority) ?? fromLabels.priority;
  if (priority) ref.priority = priority;
  if (issue.assigneeId) ref.assignee = clip(issue.assigneeId, 320)!;
  const state = stateOf(issue.state, ctx);
  if (state) ref.state = state;
  const url = httpUrl(issue.url);
  if (url) ref.url = url;
  return ref;
};

/** The events of a label added to or removed from an issue, plus the field its rule sets. */
export const labelEvents = (
  base: Omit<EventInput, 'sourceEventId' | 'change'>,
  issueId: string,
  at: string,
  added: boolean,
  label: { name?: string | null | undefined; id?: string | null | undefined },
  ctx: LinearContext,
  extra: Record<string, unknown> = {},
): EventInput[] => {
  const target = label.name || (label.id ? `id:${label.id}` : undefined);
  if (!target) return [];
  const id = boundedId(`${issueId}/label${added ? '+' : '-'}${target}@${linearTime(at)}`);
  const data = { ...(label.id ? { labelId: label.id } : {}), ...extra };
  const events: EventInput[] = [
    {
      ...base,
      sourceEventId: id,
      change: {
        kind: added ? 'label_added' : 'label_removed',
        target: target.slice(0, 500),
        ...(Object.keys(data).length > 0 ? { data } : {}),
      },
    },
  ];
  // Without a name there is no rule to look up: only the id is known.
  const rule = label.name ? labelRule(label.name, ctx) : undefined;
  for (const [field, value] of ruleFields(rule)) {
    events.push({
      ...base,
      sourceEventId: boundedId(`${id}/${field}`),
      change: { kind: 'field_changed', field, to: added ? value : null, data: { label: target } },
    });
  }
  return events;
};

/**
 * An issue's creation: `created` with the snapshot (label rules already folded
 * into kind, severity and priority, so no separate field events).
 */
export const createdEvents = (
  issue: LinearIssueView,
  at: string,
  actor: Identity | null,
  ctx: LinearContext,
  data: Record<string, unknown> = {},
): EventInput[] => {
  const item = issueSnapshot(issue, ctx);
  const base = { source: LINEAR_SOURCE, occurredAt: linearTime(at), actor, item };
  const sourceState = issue.state?.name;
  const createdData = {
    linearId: issue.id,
    ...(sourceState && sourceState.toLowerCase() !== item.state ? { sourceState } : {}),
    ...(issue.labels.length > 0 ? { labels: issue.labels.slice(0, 50) } : {}),
    ...data,
  };
  return [{ ...base, sourceEventId: boundedId(`${issue.id}/created`), change: { kind: 'created', data: createdData } }];
};

/** Fields whose values the item keeps under a tighter limit than a change's 5000 characters. */
const FIELD_LIMIT: Partial<Record<ItemField, number>> = { title: 500, assignee: 320 };

/** A `field_changed` event with the shared id scheme (values clipped to the schema's limits). */
export const fieldEvent = (
  base: Omit<EventInput, 'sourceEventId' | 'change'>,
  issueId: string,
  at: string,
  field: ItemField,
  from: string | null | undefined,
  to: string | null,
  data?: Record<string, unknown>,
): EventInput => ({
  ...base,
  sourceEventId: boundedId(`${issueId}/${field}@${linearTime(at)}`),
  change: {
    kind: 'field_changed',
    field,
    ...(from !== undefined ? { from: clip(from, FIELD_LIMIT[field] ?? 5000) } : {}),
    to: clip(to, FIELD_LIMIT[field] ?? 5000),
    ...(data && Object.keys(data).length > 0 ? { data } : {}),
  },
});
