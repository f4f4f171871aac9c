import { parseImportMap } from '../connectors/file/import.map.js';
import { mapImportFile } from '../connectors/file/import.mapper.js';
import { validateEventBatch } from '../domain/event.js';
import { bumpUnmapped } from '../store/connector.repository.js';
import type { ServiceContext } from './context.js';
import { appendEvents, MAX_BATCH } from './events.service.js';
import { UnmappedTally } from './unmapped.js';

export interface ImportResult {
  rows: number;
  events: number;
  stored: number;
  duplicates: number;
  unmapped: number;
  rejections: { line: number; message: string }[];
}

/**
 * `lanes import FILE --map MAP.yaml`: a CSV or JSONL export of a tracker Lanes
 * does not speak. The whole file is checked first; a file with any bad row is
 * rejected with every row's line number and nothing is stored. Event ids are
 * derived from the rows, so importing the same file again stores nothing new.
 */
export const importFile = async (
  ctx: ServiceContext,
  input: { text: string; format: 'csv' | 'jsonl'; mapText: string; mapFile: string; dryRun: boolean },
): Promise<ImportResult> => {
  const map = parseImportMap(input.mapText, input.mapFile);
  const tally = new UnmappedTally();
  const mapped = mapImportFile(input.text, input.format, map, { unmapped: tally.sink(map.source) });
  const rows = mapped.rows ?? mapped.events.length;
  const result: ImportResult = {
    rows,
    events: mapped.events.length,
    stored: 0,
    duplicates: 0,
    unmapped: tally.entries().reduce((sum, e) => sum + e.count, 0),
    rejections: [...mapped.rejections],
  };
  if (result.rejections.length > 0) return result;
  const checked = validateEventBatch(mapped.events);
  if (!checked.ok) {
    result.rejections = checked.rejections.map((r) => ({
      line: mapped.lineOf?.[r.index] ?? 0,
      message: r.message,
    }));
    return result;
  }
  if (input.dryRun) return result;
  for (let i = 0; i < checked.events.length; i += MAX_BATCH) {
    const r = await appendEvents(ctx, checked.events.slice(i, i + MAX_BATCH));
    result.stored += r.stored;
    result.duplicates += r.duplicates;
  }
  await bumpUnmapped(ctx.database, tally.entries(), ctx.clock().toISOString());
  return result;
};
