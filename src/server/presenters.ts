import type { EventDto, ItemDto, ItemSummaryDto } from '../api/items.contract.js';
import type { ItemSummary } from '../store/item.repository.js';
import type { LoggedEvent } from '../domain/event.js';
import type { ItemState } from '../domain/item.projection.js';
import { STAGE_LABELS } from '../domain/stage.js';

export const presentItem = (i: ItemState): ItemDto => ({
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
  stageLabel: STAGE_LABELS[i.stage],
  url: i.url,
  createdAt: i.createdAt,
  updatedAt: i.updatedAt,
  closedAt: i.closedAt,
  reopenCount: i.reopenCount,
  commentCount: i.commentCount,
  eventCount: i.eventCount,
  mergedAt: i.mergedAt,
  deployedAt: i.deployedAt,
  verifiedAt: i.verifiedAt,
  labels: i.labels,
});

export const presentItemSummary = (i: ItemSummary): ItemSummaryDto => ({
  key: i.key,
  kind: i.kind,
  title: i.title,
  team: i.team,
  component: i.component,
  severity: i.severity,
  priority: i.priority,
  assignee: i.assignee,
  state: i.state,
  stage: i.stage,
  stageLabel: STAGE_LABELS[i.stage],
  url: i.url,
  createdAt: i.createdAt,
  updatedAt: i.updatedAt,
});

export const presentEvent = (e: LoggedEvent): EventDto => ({
  id: e.id,
  source: e.source,
  sourceEventId: e.sourceEventId,
  occurredAt: e.occurredAt,
  receivedAt: e.receivedAt,
  actor: { identity: e.actorIdentity, personId: e.actorPersonId },
  kind: e.kind,
  field: e.field,
  from: e.from,
  to: e.to,
  text: e.text,
  target: e.target,
  data: e.data,
  payloadRef: e.payloadRef,
  reportedBy: e.reportedBy ?? null,
});
