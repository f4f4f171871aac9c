import { validateEventBatch, type EventInput } from '../../domain/event.js';
import type { UnmappedSink } from '../connector.types.js';
import { mapHistoryFile } from './import.history.js';
import type { ImportMap } from './import.map.js';
import { readRows, type ImportRejection } from './import.read.js';
import type { ShapeContext, UnmappedOccurrence } from './import.rows.js';
import { mapSnapshotFile } from './import.snapshot.js';

export { parseImportTime } from './import.read.js';
export type { ImportRejection } from './import.read.js';
export type { UnmappedOccurrence } from './import.rows.js';

/**
 * Rows of a CSV or JSONL export → events, as an import map says. Two shapes:
 *
 * - **snapshot** (`import.snapshot.ts`): each row is the state of one item at
 *   its `occurred_at`; an item's first row creates it, later rows become one
 *   `field_changed` per changed field.
 * - **history** (`import.history.ts`): each row is one change of one field;
 *   items are created from an optional item file (or item columns of the
 *   rows) and their values before the first change.
 *
 * Event ids come from keys, times and fields, never from line numbers, so
 * importing the same data again stores nothing new. A value the map cannot
 * translate is counted as unmapped (once per row and field: an *occurrence*),
 * kept raw in the event's `data.unmapped`, and changes nothing: guessing would
 * corrupt the item, and once the map is fixed a re-import adds the missing
 * change under its own id.
 */

export interface ImportMapping {
  events: EventInput[];
  rejections: ImportRejection[];
  /** Data rows read (blank lines and the CSV header not counted). */
  rows: number;
  /** The file line each event came from, by event index (negative: that line of the item file). */
  lineOf: number[];
  /** Every value the map could not translate, by row. */
  unmapped: UnmappedOccurrence[];
}

/** An item file beside a history file (`lanes import --items FILE`). */
export interface ImportItemsFile {
  text: string;
  format: 'csv' | 'jsonl';
}

/**
 * Maps an export file (and, for a history map, its optional item file). Rows
 * without a key or with an unreadable time, and lines that are not records,
 * come back as rejections with their line numbers (and `file: 'items'` for
 * lines of the item file); everything else becomes events that pass
 * `validateEventBatch`.
 */
export const mapImportFile = (
  text: string,
  format: 'csv' | 'jsonl',
  map: ImportMap,
  options: { unmapped?: UnmappedSink; items?: ImportItemsFile } = {},
): ImportMapping => {
  const read = readRows(text, format);
  const items = options.items ? readRows(options.items.text, options.items.format) : undefined;
  const rejections: ImportRejection[] = [...read.rejections];
  if (items) for (const r of items.rejections) rejections.push({ ...r, line: -r.line });
  const events: EventInput[] = [];
  const lineOf: number[] = [];
  const unmapped: UnmappedOccurrence[] = [];
  const ctx: ShapeContext = {
    map,
    reject: (line, message) => rejections.push({ line, code: 'LANES_IMPORT_INVALID', message }),
    unmapped: (line, category, value) => {
      unmapped.push({ line, category, value });
      options.unmapped?.(category, value);
    },
    emit: (line, rowEvents) => {
      const checked = validateEventBatch(rowEvents);
      if (!checked.ok) {
        ctx.reject(line, checked.rejections.map((r) => r.message).join('; '));
        return;
      }
      for (const event of rowEvents) {
        events.push(event);
        lineOf.push(line);
      }
    },
  };
  if (map.shape === 'history') mapHistoryFile(read, items, ctx);
  else mapSnapshotFile(read, ctx);
  // Shapes number item-file lines negatively; they are reported after the file's own, each in order.
  rejections.sort((a, b) => (a.line < 0 === b.line < 0 ? Math.abs(a.line) - Math.abs(b.line) : a.line < 0 ? 1 : -1));
  const rows = read.rows.length + read.rejections.length + (items ? items.rows.length + items.rejections.length : 0);
  return {
    events,
    rejections: rejections.map((r) => (r.line < 0 ? { ...r, line: -r.line, file: 'items' as const } : r)),
    rows,
    lineOf,
    unmapped,
  };
};
