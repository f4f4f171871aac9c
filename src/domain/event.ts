import { z } from 'zod';
import { AppError } from './errors.js';

/**
 * The native event: one thing that happened in a tracker, CI, a deploy pipeline
 * or an incident tool, as every connector and `POST /api/v1/events` delivers it.
 * The log is append-only and idempotent on (source, sourceEventId).
 */

export const CHANGE_KINDS = [
  'created',
  'field_changed',
  'commented',
  'linked',
  'reopened',
  'closed',
  'pr_opened',
  'review_submitted',
  'pr_merged',
  'deployed',
  'verified',
  'incident_declared',
  'incident_resolved',
  'sli_sample',
  'coverage_report',
  'label_added',
  'label_removed',
  'ci_run',
  'definition_changed',
  'activity',
  'slo_alert',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Change kinds that describe a service or repository rather than one item. */
const ITEMLESS_KINDS: ReadonlySet<ChangeKind> = new Set([
  'sli_sample',
  'coverage_report',
  'deployed',
  'ci_run',
  'definition_changed',
  'slo_alert',
]);

export const ITEM_KINDS = ['bug', 'incident', 'tech_debt', 'feature', 'task'] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/** Fields of an item that a `field_changed` event may change. */
export const ITEM_FIELDS = [
  'title',
  'kind',
  'team',
  'component',
  'severity',
  'priority',
  'assignee',
  'state',
  'resolution',
  'customer',
  'milestone',
  'sprint',
  'estimate',
] as const;
export type ItemField = (typeof ITEM_FIELDS)[number];

export const IDENTITY_KINDS = ['email', 'github', 'jira', 'linear', 'slack', 'lanes', 'bot'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

const text = (max: number) => z.string().min(1).max(max);

export const identitySchema = z.strictObject({
  kind: z.enum(IDENTITY_KINDS),
  id: text(320),
  name: z.string().max(200).optional(),
});
export type Identity = z.infer<typeof identitySchema>;

/**
 * The longest item key. The same bound is on the `:key` parameter of every item
 * route, and the router matches parameters this long (`PATH_PARAM_MAX`), so a
 * key that can be stored can always be fetched.
 */
export const ITEM_KEY_MAX = 120;

export const itemRefSchema = z.strictObject({
  key: text(ITEM_KEY_MAX).regex(/^[A-Za-z0-9][A-Za-z0-9._:/#-]*$/, 'letters, digits and . _ : / # - only'),
  kind: z.enum(ITEM_KINDS).optional(),
  title: z.string().max(500).optional(),
  team: text(64).optional(),
  component: text(120).optional(),
  severity: text(32).optional(),
  priority: text(32).optional(),
  assignee: text(320).optional(),
  state: text(64).optional(),
  customer: text(200).optional(),
  url: z.url().max(2000).optional(),
});
export type ItemRef = z.infer<typeof itemRefSchema>;

const nullableText = z.string().max(5000).nullable();

export const changeSchema = z.strictObject({
  kind: z.enum(CHANGE_KINDS),
  field: z.enum(ITEM_FIELDS).optional(),
  from: nullableText.optional(),
  to: nullableText.optional(),
  text: z.string().max(65_536).optional(),
  target: text(500).optional(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type Change = z.infer<typeof changeSchema>;

export const eventInputSchema = z.strictObject({
  source: text(64).regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits and . _ - only'),
  sourceEventId: text(200),
  occurredAt: z.iso.datetime({ offset: true }),
  actor: identitySchema.nullable().optional(),
  item: itemRefSchema.optional(),
  change: changeSchema,
  payload: z.unknown().optional(),
  payloadRef: text(2000).optional(),
});
export type EventInput = z.infer<typeof eventInputSchema>;

/** An event as it sits in the log, normalised. */
export interface LoggedEvent {
  id: string;
  source: string;
  sourceEventId: string;
  /** ISO-8601 UTC with milliseconds, e.g. 2026-05-01T12:00:00.000Z: sorts as text. */
  occurredAt: string;
  receivedAt: string;
  /** `kind:id` of the external identity, or null when the source named no actor. */
  actorIdentity: string | null;
  /** The charter person the identity resolved to, or null when unknown. */
  actorPersonId: string | null;
  itemKey: string | null;
  /** The item snapshot the source sent with the event (fields it knew at the time). */
  item: Omit<ItemRef, 'key'> | null;
  kind: ChangeKind;
  field: ItemField | null;
  from: string | null;
  to: string | null;
  text: string | null;
  target: string | null;
  data: Record<string, unknown> | null;
  payload: unknown;
  payloadRef: string | null;
  /** Who posted it through the API; absent or null for connectors, syncs, imports and Lanes' own events. */
  reportedBy?: ReportedBy | null;
}

/** The user (by e-mail) and API token (null for a browser session) that posted an event through the API. */
export interface ReportedBy {
  user: string;
  token: string | null;
}

export interface EventRejection {
  index: number;
  code: 'LANES_EVENT_INVALID' | 'LANES_EVENT_UNKNOWN_KIND';
  message: string;
  path: (string | number)[];
}

/** Normalises any ISO-8601 instant to UTC with milliseconds. */
export const toUtcIso = (value: string): string => new Date(value).toISOString();

export const identityKey = (identity: Identity): string => `${identity.kind}:${identity.id.toLowerCase()}`;

/** Semantic rules zod cannot express on its own; returns a message or null. */
const checkChangeRules = (event: EventInput): { message: string; path: (string | number)[] } | null => {
  const { change } = event;
  if (!event.item && !ITEMLESS_KINDS.has(change.kind)) {
    return { message: `a "${change.kind}" event needs an item`, path: ['item'] };
  }
  if (change.kind === 'field_changed') {
    if (!change.field) return { message: 'field_changed needs "field"', path: ['change', 'field'] };
    if (change.to === undefined) return { message: 'field_changed needs "to" (null to clear)', path: ['change', 'to'] };
    if (change.field === 'kind' && change.to !== null && !(ITEM_KINDS as readonly string[]).includes(change.to)) {
      return { message: `kind must be one of ${ITEM_KINDS.join(', ')}`, path: ['change', 'to'] };
    }
  }
  if (change.kind === 'commented' && change.text === undefined) {
    return { message: 'commented needs "text"', path: ['change', 'text'] };
  }
  if ((change.kind === 'label_added' || change.kind === 'label_removed') && !change.target) {
    return { message: `${change.kind} needs "target" (the label)`, path: ['change', 'target'] };
  }
  if (change.kind === 'linked' && !change.target) {
    return { message: 'linked needs "target"', path: ['change', 'target'] };
  }
  if (change.kind === 'sli_sample' && typeof change.data?.['good'] !== 'number') {
    return { message: 'sli_sample needs numeric data.good and data.total', path: ['change', 'data'] };
  }
  return null;
};

/**
 * Validates a whole batch. Either every event is valid and normalised, or the
 * batch is rejected with each offending event's index and code; a batch is
 * never half-accepted.
 */
export const validateEventBatch = (
  raw: unknown,
): { ok: true; events: EventInput[] } | { ok: false; rejections: EventRejection[] } => {
  if (!Array.isArray(raw)) {
    return {
      ok: false,
      rejections: [{ index: -1, code: 'LANES_EVENT_INVALID', message: 'events must be an array', path: [] }],
    };
  }
  const events: EventInput[] = [];
  const rejections: EventRejection[] = [];
  raw.forEach((candidate, index) => {
    const kind = (candidate as { change?: { kind?: unknown } } | null)?.change?.kind;
    if (typeof kind === 'string' && !(CHANGE_KINDS as readonly string[]).includes(kind)) {
      rejections.push({
        index,
        code: 'LANES_EVENT_UNKNOWN_KIND',
        message: `unknown change kind "${kind}"; known kinds: ${CHANGE_KINDS.join(', ')}`,
        path: ['change', 'kind'],
      });
      return;
    }
    const parsed = eventInputSchema.safeParse(candidate);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      rejections.push({
        index,
        code: 'LANES_EVENT_INVALID',
        message: `${issue.path.join('.') || 'event'}: ${issue.message}`,
        path: issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      });
      return;
    }
    const rule = checkChangeRules(parsed.data);
    if (rule) {
      rejections.push({ index, code: 'LANES_EVENT_INVALID', message: rule.message, path: rule.path });
      return;
    }
    events.push(parsed.data);
  });
  return rejections.length > 0 ? { ok: false, rejections } : { ok: true, events };
};

/** Throws the batch's rejections as one AppError (code of the first rejection). */
export const assertValidBatch = (raw: unknown): EventInput[] => {
  const result = validateEventBatch(raw);
  if (result.ok) return result.events;
  const first = result.rejections[0]!;
  throw new AppError(first.code, `${result.rejections.length} event(s) rejected; nothing was stored`, {
    rejections: result.rejections,
  });
};

/** The total order of the log: time, then source, then source event id. */
export const eventOrderKey = (e: Pick<LoggedEvent, 'occurredAt' | 'source' | 'sourceEventId'>): string =>
  `${e.occurredAt}\u0001${e.source}\u0001${e.sourceEventId}`;

export const compareEvents = (a: LoggedEvent, b: LoggedEvent): number => {
  const ka = eventOrderKey(a);
  const kb = eventOrderKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};
