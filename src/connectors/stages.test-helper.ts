import type { EventInput, LoggedEvent } from '../domain/event.js';
import { projectItem, type ItemState } from '../domain/item.projection.js';
import { NO_STAGE_POLICY, type StagePolicy } from '../domain/stage.js';

/** A mapped event as the log would hold it (no actor resolution: stages do not depend on it). */
export const asLogged = (e: EventInput, i: number): LoggedEvent => {
  const { key, ...item } = e.item ?? { key: null };
  return {
    id: `e${i}`,
    source: e.source,
    sourceEventId: e.sourceEventId,
    occurredAt: new Date(e.occurredAt).toISOString(),
    receivedAt: '2026-01-01T00:00:00.000Z',
    actorIdentity: e.actor ? `${e.actor.kind}:${e.actor.id.toLowerCase()}` : null,
    actorPersonId: null,
    itemKey: key,
    item: e.item ? item : null,
    kind: e.change.kind,
    field: e.change.field ?? null,
    from: e.change.from ?? null,
    to: e.change.to === undefined ? null : e.change.to,
    text: e.change.text ?? null,
    target: e.change.target ?? null,
    data: e.change.data ?? null,
    payload: undefined,
    payloadRef: null,
  };
};

/** The items mapped events project to, by key, as the event log would after any delivery order. */
export const projectMapped = (
  events: readonly EventInput[],
  policy: StagePolicy = NO_STAGE_POLICY,
): Map<string, ItemState> => {
  const byKey = new Map<string, LoggedEvent[]>();
  events.forEach((e, i) => {
    const logged = asLogged(e, i);
    if (logged.itemKey === null) return;
    const list = byKey.get(logged.itemKey) ?? [];
    list.push(logged);
    byKey.set(logged.itemKey, list);
  });
  const items = new Map<string, ItemState>();
  for (const [key, list] of byKey) items.set(key, projectItem(list, policy)!);
  return items;
};
