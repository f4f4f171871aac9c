import type { ItemField, LoggedEvent } from './event.js';

/**
 * Moves (PRODUCT.md C3): a tracker that keeps a milestone, fix version,
 * sprint or assignee as a set of values reports moving an item from one
 * value to another as two changes — GitHub's `demilestoned` then
 * `milestoned`, Jira's fix version removed then added, `unassigned` then
 * `assigned` — in either order, a second or so apart. Made by the same actor
 * within `MOVE_WINDOW_MS`, the two halves are one decision, judged once as the
 * net change: from the value before the first half to the value after the
 * second. A pair whose net change is nothing (a value removed and put back) is
 * no decision.
 */

/** Fields whose clear-and-set is one move. Jira fix versions arrive as `milestone`. */
export const MOVE_FIELDS: ReadonlySet<ItemField> = new Set<ItemField>(['milestone', 'sprint', 'assignee']);

/** How far apart the two halves of one move may be. */
export const MOVE_WINDOW_MS = 5_000;

/** True for a change that may be half of a move. */
export const isMoveHalf = (e: LoggedEvent): boolean =>
  e.kind === 'field_changed' && e.itemKey !== null && e.field !== null && MOVE_FIELDS.has(e.field);

const at = (e: Pick<LoggedEvent, 'occurredAt'>): number => Date.parse(e.occurredAt);

/**
 * True when `second` (later in log order) completes the move `first` began:
 * the same item, field and actor, one of them clearing and the other setting,
 * within the window.
 */
export const completesMove = (first: LoggedEvent, second: LoggedEvent): boolean =>
  isMoveHalf(first) &&
  isMoveHalf(second) &&
  first.itemKey === second.itemKey &&
  first.field === second.field &&
  (first.actorIdentity ?? '') === (second.actorIdentity ?? '') &&
  (first.to === null) !== (second.to === null) &&
  at(second) - at(first) <= MOVE_WINDOW_MS;

/** The net change of a move: the value before its first half and the value after its second. */
export const netMove = (first: LoggedEvent, second: LoggedEvent): { from: string | null; to: string | null } => {
  if (first.to === null) return { from: first.from, to: second.to };
  // Set first: the clear either undoes it (the same value) or removes the value it replaced.
  return second.from === first.to ? { from: first.from, to: null } : { from: second.from, to: first.to };
};

/**
 * The move as one event, carried by the half that sets a value (its id and
 * time), with the net `from` and `to`; null when the net change is nothing.
 */
export const mergedMove = (first: LoggedEvent, second: LoggedEvent): LoggedEvent | null => {
  const { from, to } = netMove(first, second);
  if (from === to) return null;
  const carrier = first.to !== null ? first : second;
  return { ...carrier, from, to };
};

/** The half of a move that carries its judgement (see `mergedMove`). */
export const moveCarrier = (first: LoggedEvent, second: LoggedEvent): LoggedEvent =>
  first.to !== null ? first : second;

/**
 * True when `event` may complete a move whose first half is already stored:
 * the item's last stored event (`updatedAt`) is within the window before it.
 * The incremental path then walks the item's history again, so that the pair
 * is judged as a full recompute would.
 */
export const mayCompleteStoredMove = (itemUpdatedAt: string, event: LoggedEvent): boolean =>
  isMoveHalf(event) && Date.parse(itemUpdatedAt) >= at(event) - MOVE_WINDOW_MS;
