import { createHash } from 'node:crypto';
import type { UnmappedCategory } from '../../domain/connector.mapping.js';
import type { EventInput } from '../../domain/event.js';
import type { ImportMap } from './import.map.js';
import { parseImportTime, type ReadRows, type Row } from './import.read.js';

/** What the two shapes of import (snapshot and history) share: keys, times, ids and where to report. */

export interface UnmappedOccurrence {
  /** The file line of the row (for the item file of a history import, negative: -line). */
  line: number;
  category: UnmappedCategory;
  value: string;
}

/** What a shape's mapper gets: the map, the rows and where to report. */
export interface ShapeContext {
  map: ImportMap;
  reject(line: number, message: string): void;
  /** Counts a value the map could not translate, in the row at `line`. */
  unmapped(line: number, category: UnmappedCategory, value: string): void;
  /** Adds a row's events, or rejects the row when they are not valid. */
  emit(line: number, events: EventInput[]): void;
}

/** A row with its item key and its time (UTC ISO-8601). */
export interface KeyedRow {
  row: Row;
  key: string;
  at: string;
}

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]*$/;
const MAX_EVENT_ID = 200;

/** An event id within the event schema's 200 characters: longer ids end in a hash of the whole. */
export const boundedEventId = (id: string): string =>
  id.length <= MAX_EVENT_ID
    ? id
    : `${id.slice(0, MAX_EVENT_ID - 25)}~${createHash('sha256').update(id).digest('hex').slice(0, 24)}`;

/** Rejects the header line when a column the map reads is missing from it, naming where the map uses it. */
export const checkHeader = (read: ReadRows, wanted: [string, string][], ctx: ShapeContext, line = 1): void => {
  if (!read.columns) return;
  const header = new Set(read.columns);
  const missing = wanted.filter(([column]) => !header.has(column));
  if (missing.length === 0) return;
  ctx.reject(
    line,
    `the header has no column ${missing.map(([c, at]) => `"${c}" (${at})`).join(', ')}; its columns are ${read.columns
      .map((c) => `"${c}"`)
      .join(', ')}`.slice(0, 2000),
  );
};

/**
 * The rows grouped by item key, each group ordered by time (then line).
 * Rows without a key or with an unreadable time are rejected by line; a
 * time column that is not given (`timeColumn` undefined) leaves `at` empty.
 */
export const keyedRows = (
  rows: readonly Row[],
  ctx: ShapeContext,
  keyColumn: string,
  timeColumn: string | undefined,
  lineSign = 1,
): Map<string, KeyedRow[]> => {
  const { map } = ctx;
  const groups = new Map<string, KeyedRow[]>();
  for (const row of rows) {
    const line = row.line * lineSign;
    const rawKey = row.get(keyColumn);
    if (rawKey === undefined) {
      ctx.reject(line, `no key: column "${keyColumn}" is empty or missing`);
      continue;
    }
    const key = `${map.key.prefix ?? ''}${rawKey}`;
    if (key.length > 120 || !KEY_PATTERN.test(key)) {
      ctx.reject(line, `the key "${key.slice(0, 130)}" may hold only letters, digits and . _ : / # - (at most 120)`);
      continue;
    }
    let at = '';
    if (timeColumn !== undefined) {
      const rawTime = row.get(timeColumn);
      const parsed = rawTime === undefined ? undefined : parseImportTime(rawTime, map.timezone);
      if (!parsed) {
        ctx.reject(
          line,
          rawTime === undefined
            ? `no time: column "${timeColumn}" is empty or missing`
            : `cannot read the time "${rawTime.slice(0, 60)}" in column "${timeColumn}" (use ISO-8601 or YYYY-MM-DD HH:mm:ss)`,
        );
        continue;
      }
      at = parsed;
    }
    const group = groups.get(key) ?? [];
    group.push({ row, key, at });
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.row.line - b.row.line));
  }
  return groups;
};
