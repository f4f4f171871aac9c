import { parseImportMap } from '../connectors/file/import.map.js';
import { mapImportFile, type UnmappedOccurrence } from '../connectors/file/import.mapper.js';
import { AppError } from '../domain/errors.js';
import { identityKey, validateEventBatch, type EventInput } from '../domain/event.js';
import { bumpUnmapped } from '../store/connector.repository.js';
import { existingSourceEventIds } from '../store/event.repository.js';
import type { ServiceContext } from './context.js';
import { appendEvents, isUnknownActor, MAX_BATCH } from './events.service.js';
import { UnmappedTally } from './unmapped.js';

/**
 * Values of a file Lanes could not translate — the map's untranslated values
 * and the actors the charter knows neither as people nor as bots — as
 * distinct values and times, the unit `lanes sources` shows.
 */
export interface ImportUnmapped {
  /** Distinct (category, value) pairs: what to add to the map. */
  values: number;
  /** Times they occur in the file (once per row and field; an unknown actor once per event). */
  occurrences: number;
  /** Of those, the ones in rows not imported before: what this run adds to `lanes sources`. */
  newOccurrences: number;
  list: { category: string; value: string; count: number }[];
}

export interface ImportResult {
  rows: number;
  events: number;
  /** Events the log did not hold before this run (what a dry run would store). */
  newEvents: number;
  stored: number;
  duplicates: number;
  unmapped: ImportUnmapped;
  rejections: { line: number; file?: 'items'; message: string }[];
}

/**
 * Actors the charter knows neither as people nor as bots, once per event, as
 * `appendEvents` counts them for `lanes sources` (only with a charter, and
 * only for events it stores): `all` in the file, `fresh` on new events.
 */
const unknownActorsOf = (
  ctx: ServiceContext,
  events: readonly EventInput[],
  existing: ReadonlySet<string>,
): { all: UnmappedOccurrence[]; fresh: number } => {
  const index = ctx.charter()?.index;
  if (!index) return { all: [], fresh: 0 };
  const all: UnmappedOccurrence[] = [];
  let fresh = 0;
  for (const e of events) {
    const identity = e.actor ? identityKey(e.actor) : null;
    if (identity === null || !isUnknownActor(identity, index)) continue;
    // Line 0: counted by `fresh`, not by the rows' newness.
    all.push({ line: 0, category: 'identity', value: identity });
    if (!existing.has(e.sourceEventId)) fresh += 1;
  }
  return { all, fresh };
};

const summarise = (
  occurrences: readonly UnmappedOccurrence[],
  isNew: (line: number) => boolean,
  freshIdentities = 0,
): ImportUnmapped => {
  const all = new UnmappedTally();
  for (const o of occurrences) all.add('', o.category, o.value);
  const list = all
    .entries()
    .map(({ category, value, count }) => ({ category, value, count }))
    .sort((a, b) => b.count - a.count || a.category.localeCompare(b.category) || a.value.localeCompare(b.value));
  return {
    values: list.length,
    occurrences: occurrences.length,
    newOccurrences: occurrences.filter((o) => o.line !== 0 && isNew(o.line)).length + freshIdentities,
    list,
  };
};

/**
 * `lanes import FILE --map MAP.yaml [--items ITEMS]`: a CSV or JSONL export
 * of a tracker Lanes does not speak, as snapshot rows or change-history rows
 * (with an optional item file). The whole file is checked first; a file with
 * any bad row is rejected with every row's line number and nothing is stored.
 * Event ids are derived from the rows, so importing the same file again
 * stores nothing new — and counts no unmapped value again: a value is counted
 * in `lanes sources` once per row and field, for rows none of whose events
 * the log held before,
 * so the import's figures and `lanes sources` say the same.
 */
export const importFile = async (
  ctx: ServiceContext,
  input: {
    text: string;
    format: 'csv' | 'jsonl';
    mapText: string;
    mapFile: string;
    dryRun: boolean;
    items?: { text: string; format: 'csv' | 'jsonl' };
  },
): Promise<ImportResult> => {
  const map = parseImportMap(input.mapText, input.mapFile);
  if (input.items && map.shape !== 'history') {
    throw new AppError(
      'LANES_IMPORT_INVALID',
      `an item file goes with change-history rows: ${input.mapFile} needs "shape: history"`,
    );
  }
  const mapped = mapImportFile(input.text, input.format, map, input.items ? { items: input.items } : {});
  const result: ImportResult = {
    rows: mapped.rows,
    events: mapped.events.length,
    newEvents: 0,
    stored: 0,
    duplicates: 0,
    unmapped: summarise(mapped.unmapped, () => false),
    rejections: [...mapped.rejections],
  };
  if (result.rejections.length > 0) return result;
  const checked = validateEventBatch(mapped.events);
  if (!checked.ok) {
    result.rejections = checked.rejections.map((r) => {
      const line = mapped.lineOf[r.index] ?? 0;
      return { line: Math.abs(line), ...(line < 0 ? { file: 'items' as const } : {}), message: r.message };
    });
    return result;
  }
  const existing = await existingSourceEventIds(
    ctx.database,
    map.source,
    mapped.events.map((e) => e.sourceEventId),
  );
  // A row is new when the log holds none of its events; a row imported before (perhaps with an older map that
  // translated less) was counted then.
  const seenLines = new Set<number>();
  mapped.events.forEach((e, i) => {
    if (existing.has(e.sourceEventId)) seenLines.add(mapped.lineOf[i]!);
  });
  const isNew = (line: number): boolean => !seenLines.has(line);
  result.newEvents = mapped.events.filter((e) => !existing.has(e.sourceEventId)).length;
  const actors = unknownActorsOf(ctx, mapped.events, existing);
  result.unmapped = summarise([...mapped.unmapped, ...actors.all], isNew, actors.fresh);
  if (input.dryRun) return result;
  for (let i = 0; i < checked.events.length; i += MAX_BATCH) {
    const r = await appendEvents(ctx, checked.events.slice(i, i + MAX_BATCH));
    result.stored += r.stored;
    result.duplicates += r.duplicates;
  }
  const tally = new UnmappedTally();
  for (const o of mapped.unmapped) if (isNew(o.line)) tally.add(map.source, o.category, o.value);
  await bumpUnmapped(ctx.database, tally.entries(), ctx.clock().toISOString());
  return result;
};
