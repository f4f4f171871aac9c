import { CsvError, parse as parseCsv } from 'csv-parse/sync';

/**
 * Reading the rows of an import file (CSV with a header, or JSONL) and the
 * times in them. Every row keeps the line it starts on, for rejections.
 */

export interface ImportRejection {
  line: number;
  /** Set when the line is in the item file of a history import (`--items`). */
  file?: 'items';
  code: 'LANES_IMPORT_INVALID';
  message: string;
}

export type Value = string | undefined;

/** One record of the file: a cell by column name (or dotted JSON path), trimmed; undefined when empty. */
export interface Row {
  line: number;
  get(column: string): Value;
}

export interface ReadRows {
  rows: Row[];
  rejections: ImportRejection[];
  /** The CSV header's columns (JSONL has none). */
  columns?: string[];
}

const textOf = (value: unknown): Value => {
  if (value === null || value === undefined) return undefined;
  const text =
    typeof value === 'string' ? value.trim() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text === '' ? undefined : text;
};

/** Reads a file of either format. */
export const readRows = (text: string, format: 'csv' | 'jsonl'): ReadRows =>
  format === 'csv' ? readCsv(text) : readJsonl(text);

/** Rows of a CSV file with its header's columns; a record that cannot be read rejects the rest by line. */
export const readCsv = (text: string): ReadRows => {
  let records: { record: string[]; info: { bytes: number } }[];
  try {
    records = parseCsv(text, {
      bom: true,
      info: true,
      relax_quotes: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }) as unknown as { record: string[]; info: { bytes: number } }[];
  } catch (error) {
    // A quote never closed, and the like: the file cannot be read past that point, so nothing of it is.
    if (!(error instanceof CsvError)) throw error;
    const line = (error as CsvError & { lines?: number }).lines ?? 1;
    return { rows: [], rejections: [{ line, code: 'LANES_IMPORT_INVALID', message: `not CSV: ${error.message}` }] };
  }
  // csv-parse reports where a record ends; count lines ourselves to name where it starts.
  const bytes = Buffer.from(text);
  let offset = 0;
  let line = 1;
  const startLine = (end: number): number => {
    while (offset < bytes.length && (bytes[offset] === 10 || bytes[offset] === 13)) {
      if (bytes[offset] === 10) line += 1;
      offset += 1;
    }
    const at = line;
    for (; offset < Math.min(end, bytes.length); offset++) if (bytes[offset] === 10) line += 1;
    return at;
  };
  const rows: Row[] = [];
  const rejections: ImportRejection[] = [];
  const [header, ...body] = records;
  if (!header) return { rows, rejections };
  startLine(header.info.bytes);
  const columns = header.record.map((c) => c.trim());
  for (const { record, info } of body) {
    const at = startLine(info.bytes);
    if (record.length !== columns.length) {
      rejections.push({
        line: at,
        code: 'LANES_IMPORT_INVALID',
        message: `the row has ${record.length} fields, the header ${columns.length}`,
      });
      continue;
    }
    const values = new Map(columns.map((c, i) => [c, record[i]]));
    rows.push({ line: at, get: (c) => textOf(values.get(c)) });
  }
  return { rows, rejections, columns };
};

const valueAtPath = (object: Record<string, unknown>, column: string): unknown => {
  if (Object.hasOwn(object, column)) return object[column];
  let current: unknown = object;
  for (const part of column.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = Array.isArray(current) ? current[Number(part)] : (current as Record<string, unknown>)[part];
  }
  return current;
};

/** Rows of a JSONL file, one object a line; blank lines are skipped but keep their numbers. */
export const readJsonl = (text: string): ReadRows => {
  const rows: Row[] = [];
  const rejections: ImportRejection[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((source, index) => {
      const line = index + 1;
      if (source.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(source);
      } catch (error) {
        rejections.push({ line, code: 'LANES_IMPORT_INVALID', message: `not JSON: ${(error as Error).message}` });
        return;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        rejections.push({ line, code: 'LANES_IMPORT_INVALID', message: 'each line must be a JSON object' });
        return;
      }
      const object = value as Record<string, unknown>;
      rows.push({ line, get: (c) => textOf(valueAtPath(object, c)) });
    });
  return { rows, rejections };
};

// ---------------------------------------------------------------- time

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** How far `timeZone` is ahead of UTC at the instant `utcMs`. */
const zoneOffsetMs = (utcMs: number, timeZone: string): number => {
  let format = zoneFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    zoneFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(utcMs)).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(
    parts['year']!,
    parts['month']! - 1,
    parts['day'],
    parts['hour'],
    parts['minute'],
    parts['second'],
  );
  return wall - Math.floor(utcMs / 1000) * 1000;
};

const NAIVE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?$/;
const ZONED = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** An ISO-8601 instant, or a wall-clock time in `timeZone` (UTC when not given); undefined when unreadable. */
export const parseImportTime = (raw: string, timeZone?: string): string | undefined => {
  const value = raw.trim();
  if (ZONED.test(value)) {
    const ms = Date.parse(value.replace(' ', 'T').replace(/\s+/, '').replace(',', '.'));
    return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
  }
  const m = NAIVE.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0)) as number[];
  const millis = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const wall = Date.UTC(year!, month! - 1, day, hour, minute, second, millis);
  const check = new Date(wall);
  if (
    !Number.isFinite(wall) ||
    check.getUTCMonth() !== month! - 1 ||
    check.getUTCDate() !== day ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59
  ) {
    return undefined;
  }
  if (!timeZone || timeZone === 'UTC') return check.toISOString();
  const first = wall - zoneOffsetMs(wall, timeZone);
  return new Date(wall - zoneOffsetMs(first, timeZone)).toISOString();
};
