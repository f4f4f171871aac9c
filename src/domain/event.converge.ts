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
 *   decision (`isNoOpChange`).
 * - **The same fact twice within `SAME_FACT_WINDOW_MS`**: two events of one
 *   item that set the same slot (its state by `closed`/`reopened`/a state
 *   change, one label, one field) to the same value, with nothing between them
 *   that set that slot otherwise, are one fact; the one stored first is kept
 *   and the other is counted as a duplicate (`twinEvents`). Comments, reviews,
 *   deployments and the like carry their own ids everywhere and are never
 *   merged, so two comments with the same text are two comments.
 */

/** How far apart two reports of one fact may be dated. */
export const SAME_FACT_WINDOW_MS = 5_000;

/** True for a field change that changes nothing: `from` given and equal to `to`. */
export const isNoOpChange = (input: EventInput): boolean =>
  input.change.kind === 'field_changed' &&
  input.change.from !== undefined &&
  (input.change.from ?? null) === (input.change.to ?? null);

/** The slot of an item an event sets and the value it sets it to; null for events that are never merged. */
export const factOf = (e: LoggedEvent): { slot: string; value: string } | null => {
  switch (e.kind) {
    case 'closed':
    case 'reopened':
      return { slot: 'state', value: e.kind };
    case 'label_added':
    case 'label_removed':
      return e.target === null ? null : { slot: `label\u0001${e.target.toLowerCase()}`, value: e.kind };
    case 'field_changed':
      if (e.field === null) return null;
      return e.field === 'state'
        ? { slot: 'state', value: `state\u0001${e.to ?? ''}` }
        : { slot: `field\u0001${e.field}`, value: `${e.to === null ? '\u0000' : e.to}` };
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
      if (other.value !== fact.value) return false;
      // Kept: stored, or fresh and judged already (earlier in the log). A later fresh one is judged after this one.
      if (!fresh.has(sorted[i]!.id) || i < at) return true;
    }
    return false;
  }
};
