import { compareEvents, type EventInput, type LoggedEvent } from './event.js';

/**
 * One fact, one event. The log is idempotent on (source, source event id),
 * but the same fact can reach Lanes with two ids: GitHub's issue says it was
 * closed at `closed_at`, its timeline says one second later, and a webhook
 * dates a label by the issue's `updated_at` where the timeline dates it by the
 * event — and the same history may also come from another source (an
 * imported export of the same tracker). Two rules keep the log to one event
 * per fact, for every source:
 *
 * - **No-op changes** (`from` equals `to`, e.g. `kind bug → bug`) are no
 *   change: they are not stored, so they never become a history line or a
 *   decision (`isNoOpChange`). A tracker's own workflow step between two of
 *   its states that Lanes names alike is kept.
 * - **The same fact twice within `SAME_FACT_WINDOW_MS`**: two events of one
 *   item that set the same slot (its state by `closed`/`reopened`/a state
 *   change, one label, one field) to the same value (a close leaves the item
 *   in the state its `to` names), with nothing between them
 *   that set that slot otherwise, are one fact; the one stored first is kept
 *   and the other is counted as a duplicate (`twinEvents`). Comments, reviews,
 *   deployments and the like carry their own ids everywhere and are never
 *   merged, so two comments with the same text are two comments.
 */

/** How far apart two reports of one fact may be dated. */
export const SAME_FACT_WINDOW_MS = 5_000;

/**
 * True for a field change that changes nothing: `from` given and equal to
 * `to`, and no move in the tracker behind it — a Jira status moved from
 * "Resolved" to "Closed" is `done → done` in Lanes' words but a real step of
 * the workflow (its `data.fromSourceState` and `data.sourceState` differ), so it stays.
 */
export const isNoOpChange = (input: EventInput): boolean => {
  const { change } = input;
  if (change.kind !== 'field_changed' || change.from === undefined || (change.from ?? null) !== (change.to ?? null))
    return false;
  const from = change.data?.['fromSourceState'];
  const to = change.data?.['sourceState'];
  return !(typeof from === 'string' && typeof to === 'string' && from.toLowerCase() !== to.toLowerCase());
};

/** What an event sets: a slot of the item, the value, and for states the tracker's own name when it gave one. */
export interface Fact {
  slot: string;
  value: string;
  own?: string;
}

/** A state, with the tracker's own name so that a step between two states Lanes names alike stays a step. */
const stateFact = (e: LoggedEvent, state: string): Fact => {
  const own = e.data?.['sourceState'];
  return typeof own === 'string'
    ? { slot: 'state', value: state, own: own.toLowerCase() }
    : { slot: 'state', value: state };
};

/** True when two facts set one slot to one value (tracker names, when both have one, agree too). */
export const sameFact = (a: Fact, b: Fact): boolean =>
  a.slot === b.slot && a.value === b.value && (a.own === undefined || b.own === undefined || a.own === b.own);

/** The slot of an item an event sets and the value it sets it to; null for events that are never merged. */
export const factOf = (e: LoggedEvent): Fact | null => {
  switch (e.kind) {
    case 'closed':
    case 'reopened':
      // The state the item is left in: a close is the same fact as a change of its state to that state.
      return stateFact(e, e.to ?? e.kind);
    case 'label_added':
    case 'label_removed':
      return e.target === null ? null : { slot: `label\u0001${e.target.toLowerCase()}`, value: e.kind };
    case 'field_changed':
      if (e.field === null) return null;
      if (e.field === 'state') return e.to === null ? null : stateFact(e, e.to);
      return { slot: `field\u0001${e.field}`, value: e.to === null ? '\u0000' : e.to };
    default:
      return null;
  }
};

/** True for an event that may be a second report of a fact already stored. */
export const mayBeTwin = (e: LoggedEvent): boolean => e.itemKey !== null && factOf(e) !== null;

const ms = (e: LoggedEvent): number => Date.parse(e.occurredAt);

/**
 * The fresh events that repeat a fact: `events` are one item's events around
 * the fresh ones (stored and fresh together, any order), `fresh` the ids of the
 * fresh ones. Stored events are always kept; fresh ones are taken in log
 * order, each kept unless a kept event reports the same fact within the window
 * with no event between them (in log order) setting the same slot otherwise.
 */
export const twinEvents = (events: readonly LoggedEvent[], fresh: ReadonlySet<string>): Set<string> => {
  const sorted = [...events].sort(compareEvents);
  const facts = sorted.map(factOf);
  const twins = new Set<string>();
  for (let at = 0; at < sorted.length; at++) {
    if (fresh.has(sorted[at]!.id) && facts[at] && (repeats(at, -1) || repeats(at, 1))) twins.add(sorted[at]!.id);
  }
  return twins;

  /** True when a kept report of the same fact lies within the window in `direction`, nothing setting the slot between. */
  function repeats(at: number, direction: 1 | -1): boolean {
    const fact = facts[at]!;
    const t = ms(sorted[at]!);
    for (let i = at + direction; i >= 0 && i < sorted.length; i += direction) {
      if (Math.abs(ms(sorted[i]!) - t) > SAME_FACT_WINDOW_MS) return false;
      const other = facts[i];
      if (!other || other.slot !== fact.slot || twins.has(sorted[i]!.id)) continue;
      if (!sameFact(other, fact)) return false;
      // Kept: stored, or fresh and judged already (earlier in the log). A later fresh one is judged after this one.
      if (!fresh.has(sorted[i]!.id) || i < at) return true;
    }
    return false;
  }
};
