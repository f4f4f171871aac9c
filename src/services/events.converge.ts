import { factOf, mayBeTwin, SAME_FACT_WINDOW_MS, twinEvents } from '../domain/event.converge.js';
import type { LoggedEvent } from '../domain/event.js';
import type { ItemState } from '../domain/item.projection.js';
import { deleteEventsById, getEventsInSpans, type ItemSpan, type Tx } from '../store/event.repository.js';

/**
 * The append's half of "one fact, one event" (`src/domain/event.converge.ts`):
 * of the events this transaction just inserted, those that repeat a fact the
 * log already holds — or that an earlier event of the same batch reports — are
 * taken back out and counted as duplicates. The log is only read around items
 * that existed before and whose last event is within the window of a new
 * candidate, so appending new items and new history costs nothing more.
 */

const iso = (ms: number): string => new Date(ms).toISOString();

/** True when two of one item's new events set the same slot to the same value (a cheap test before the real one). */
const repeatsWithin = (events: readonly LoggedEvent[]): boolean => {
  const seen = new Set<string>();
  for (const e of events) {
    const fact = factOf(e);
    if (!fact) continue;
    const key = `${fact.slot}\u0002${fact.value}`;
    if (seen.has(key)) return true;
    seen.add(key);
  }
  return false;
};

/** Returns the inserted events that stay; the twins are deleted from the log (same transaction). */
export const withoutTwins = async (
  tx: Tx,
  inserted: readonly LoggedEvent[],
  before: ReadonlyMap<string, ItemState>,
): Promise<LoggedEvent[]> => {
  const byItem = new Map<string, LoggedEvent[]>();
  const candidates = new Set<string>();
  for (const e of inserted) {
    if (e.itemKey === null) continue;
    const list = byItem.get(e.itemKey);
    if (list) list.push(e);
    else byItem.set(e.itemKey, [e]);
    if (mayBeTwin(e)) candidates.add(e.itemKey);
  }
  if (candidates.size === 0) return [...inserted];

  const spans: ItemSpan[] = [];
  const local: string[] = [];
  for (const key of candidates) {
    const events = byItem.get(key)!;
    const item = before.get(key);
    const times = events.filter(mayBeTwin).map((e) => Date.parse(e.occurredAt));
    const last = item ? Date.parse(item.updatedAt) : Number.NEGATIVE_INFINITY;
    if (times.some((t) => t <= last + SAME_FACT_WINDOW_MS)) {
      spans.push({
        key,
        from: iso(Math.min(...times) - SAME_FACT_WINDOW_MS),
        to: iso(Math.max(...times) + SAME_FACT_WINDOW_MS),
      });
    } else if (repeatsWithin(events)) local.push(key);
  }
  const around = spans.length > 0 ? await getEventsInSpans(tx, spans) : [];
  const fresh = new Set(inserted.map((e) => e.id));
  const neighbours = new Map<string, Map<string, LoggedEvent>>();
  const add = (e: LoggedEvent): void => {
    let m = neighbours.get(e.itemKey!);
    if (!m) neighbours.set(e.itemKey!, (m = new Map()));
    m.set(e.id, e);
  };
  for (const e of around) add(e);
  for (const key of [...spans.map((s) => s.key), ...local]) for (const e of byItem.get(key)!) add(e);

  const twins = new Set<string>();
  for (const events of neighbours.values()) for (const id of twinEvents([...events.values()], fresh)) twins.add(id);
  if (twins.size === 0) return [...inserted];
  await deleteEventsById(tx, [...twins]);
  return inserted.filter((e) => !twins.has(e.id));
};
