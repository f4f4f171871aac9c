import type { ChangeKind, ItemField, ItemRef, LoggedEvent, ReportedBy } from '../domain/event.js';
import type { ItemKind } from '../domain/event.js';
import type { ItemState } from '../domain/item.projection.js';
import type { Stage } from '../domain/stage.js';
import type { EventTable, ItemTable } from './schema.js';

const json = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));
const parse = <T>(value: string | null): T | null => (value === null ? null : (JSON.parse(value) as T));

// One batch shares one reporter: its JSON is made once, not once per row.
const reportedJson = new WeakMap<ReportedBy, string>();
const reportedByText = (by: ReportedBy | null | undefined): string | null => {
  if (!by) return null;
  let text = reportedJson.get(by);
  if (text === undefined) reportedJson.set(by, (text = JSON.stringify({ user: by.user, token: by.token })));
  return text;
};

export const eventToRow = (e: LoggedEvent): EventTable => ({
  id: e.id,
  source: e.source,
  source_event_id: e.sourceEventId,
  occurred_at: e.occurredAt,
  received_at: e.receivedAt,
  actor_identity: e.actorIdentity,
  actor_person_id: e.actorPersonId,
  item_key: e.itemKey,
  item_snapshot: json(e.item),
  kind: e.kind,
  field: e.field,
  from_value: e.from,
  to_value: e.to,
  body: e.text,
  target: e.target,
  data: json(e.data),
  payload: json(e.payload),
  payload_ref: e.payloadRef,
  reported_by: reportedByText(e.reportedBy),
});

export const rowToEvent = (r: EventTable): LoggedEvent => {
  const e = rowToEventWithoutReporter(r);
  // Set only when present, so events of connectors read back equal to what was appended.
  if (r.reported_by) e.reportedBy = parse<ReportedBy>(r.reported_by);
  return e;
};

const rowToEventWithoutReporter = (r: EventTable): LoggedEvent => ({
  id: r.id,
  source: r.source,
  sourceEventId: r.source_event_id,
  occurredAt: r.occurred_at,
  receivedAt: r.received_at,
  actorIdentity: r.actor_identity,
  actorPersonId: r.actor_person_id,
  itemKey: r.item_key,
  item: parse<Omit<ItemRef, 'key'>>(r.item_snapshot),
  kind: r.kind as ChangeKind,
  field: r.field as ItemField | null,
  from: r.from_value,
  to: r.to_value,
  text: r.body,
  target: r.target,
  data: parse<Record<string, unknown>>(r.data),
  payload: parse<unknown>(r.payload),
  payloadRef: r.payload_ref,
});

const parseLabels = (text: string | null | undefined): string[] => {
  if (!text || text === '[]') return [];
  const parsed: unknown = JSON.parse(text);
  return Array.isArray(parsed) ? parsed.filter((l): l is string => typeof l === 'string') : [];
};

export const itemToRow = (i: ItemState): ItemTable => ({
  key: i.key,
  kind: i.kind,
  title: i.title,
  team: i.team,
  component: i.component,
  severity: i.severity,
  priority: i.priority,
  assignee: i.assignee,
  reporter: i.reporter,
  customer: i.customer,
  state: i.state,
  resolution: i.resolution,
  stage: i.stage,
  url: i.url,
  created_at: i.createdAt,
  updated_at: i.updatedAt,
  closed_at: i.closedAt,
  reopen_count: i.reopenCount,
  comment_count: i.commentCount,
  event_count: i.eventCount,
  pr_open: i.prOpen ? 1 : 0,
  merged_at: i.mergedAt,
  deployed_at: i.deployedAt,
  verified_at: i.verifiedAt,
  last_order_key: i.lastOrderKey,
  labels: JSON.stringify(i.labels),
});

export const rowToItem = (r: ItemTable): ItemState => ({
  key: r.key,
  kind: r.kind as ItemKind,
  title: r.title,
  team: r.team,
  component: r.component,
  severity: r.severity,
  priority: r.priority,
  assignee: r.assignee,
  reporter: r.reporter,
  customer: r.customer,
  state: r.state,
  resolution: r.resolution,
  stage: r.stage as Stage,
  url: r.url,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  closedAt: r.closed_at,
  reopenCount: Number(r.reopen_count),
  commentCount: Number(r.comment_count),
  eventCount: Number(r.event_count),
  prOpen: Number(r.pr_open) === 1,
  mergedAt: r.merged_at,
  deployedAt: r.deployed_at,
  verifiedAt: r.verified_at,
  lastOrderKey: r.last_order_key,
  labels: parseLabels(r.labels),
});

export const EVENT_COLUMNS = [
  'id',
  'source',
  'source_event_id',
  'occurred_at',
  'received_at',
  'actor_identity',
  'actor_person_id',
  'item_key',
  'item_snapshot',
  'kind',
  'field',
  'from_value',
  'to_value',
  'body',
  'target',
  'data',
  'payload',
  'payload_ref',
  'reported_by',
] as const satisfies readonly (keyof EventTable)[];

export const ITEM_COLUMNS = [
  'key',
  'kind',
  'title',
  'team',
  'component',
  'severity',
  'priority',
  'assignee',
  'reporter',
  'customer',
  'state',
  'resolution',
  'stage',
  'url',
  'created_at',
  'updated_at',
  'closed_at',
  'reopen_count',
  'comment_count',
  'event_count',
  'pr_open',
  'merged_at',
  'deployed_at',
  'verified_at',
  'last_order_key',
  'labels',
] as const satisfies readonly (keyof ItemTable)[];
