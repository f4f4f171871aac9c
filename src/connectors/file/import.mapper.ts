import { CsvError, parse as parseCsv } from 'csv-parse/sync';
import {
  kindOfIssueType,
  normalizePriority,
  normalizeSeverity,
  normalizeState,
  type UnmappedCategory,
} from '../../domain/connector.mapping.js';
import {
  ITEM_KINDS,
  validateEventBatch,
  type EventInput,
  type Identity,
  type ItemField,
  type ItemRef,
} from '../../domain/event.js';
import type { UnmappedSink } from '../connector.types.js';
import type { ImportFieldSpec, ImportMap } from './import.map.js';

/**
 * Rows of a CSV or JSONL export → events, as an import map says. Each row is
 * the state of one item at its `occurred_at`; rows are grouped by key and
 * ordered by time. An item's first row becomes `created` with the snapshot,
 * each later row one `field_changed` per field whose value changed, and a
 * non-empty comment column a `commented` (unless it repeats the item's
 * previous comment, as "last comment" columns of snapshot exports do).
 *
 * Event ids come from the row's key and time only, never from the file's
 * line numbers: `<key>/created`, `<key>@<ISO time>/<field>`,
 * `<key>@<ISO time>/comment` (with `#2`, `#3` … for further rows of one item
 * at the same instant), so importing the same data again stores nothing new.
 *
 * A value a value map (or, for kind, state, severity and priority, Lanes'
 * defaults) cannot translate is counted as unmapped, kept raw in the row's
 * `data.unmapped`, and changes nothing: guessing would corrupt the item, and
 * once the map is fixed a re-import adds the missing change under its own id.
 */

export interface ImportRejection {
  line: number;
  code: 'LANES_IMPORT_INVALID';
  message: string;
}

export interface ImportMapping {
  events: EventInput[];
  rejections: ImportRejection[];
  /** Data rows read (blank lines and the CSV header not counted). */
  rows: number;
  /** The file line each event came from, by event index. */
  lineOf: number[];
}

type Value = string | undefined;

interface Row {
  line: number;
  get(column: string): Value;
}

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]*$/;

const textOf = (value: unknown): Value => {
  if (value === null || value === undefined) return undefined;
  const text =
    typeof value === 'string' ? value.trim() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text === '' ? undefined : text;
};

// ---------------------------------------------------------------- reading

const readCsv = (text: string): { rows: Row[]; rejections: ImportRejection[]; columns?: string[] } => {
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

/** Every column the map reads, with where the map names it (`fields.title`). */
const columnsOfMap = (map: ImportMap): [string, string][] => {
  const out: [string, string][] = [
    [map.key.column, 'key'],
    [map.occurred_at.column, 'occurred_at'],
  ];
  if (map.actor) out.push([map.actor.column, 'actor']);
  if (map.actor?.name) out.push([map.actor.name, 'actor.name']);
  if (map.url) out.push([map.url.column, 'url']);
  if (map.comment) out.push([map.comment, 'comment']);
  if (map.team?.column) out.push([map.team.column, 'team']);
  if (map.component?.column) out.push([map.component.column, 'component']);
  for (const [field, spec] of Object.entries(map.fields)) if (spec?.column) out.push([spec.column, `fields.${field}`]);
  return out;
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

const readJsonl = (text: string): { rows: Row[]; rejections: ImportRejection[] } => {
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

// ---------------------------------------------------------------- values

type MappedField = 'team' | 'component' | ItemField;

const CATEGORY: Partial<Record<MappedField, UnmappedCategory>> = {
  kind: 'issue_type',
  state: 'state',
  severity: 'severity',
  priority: 'priority',
  team: 'scope',
  component: 'scope',
  assignee: 'identity',
};

const LIMITS: Partial<Record<MappedField, number>> = {
  title: 500,
  component: 120,
  assignee: 320,
  customer: 200,
  resolution: 200,
  milestone: 200,
  sprint: 200,
  estimate: 32,
};

/** Lanes' own vocabulary for the fields that have one, used when the map's value map says nothing. */
const byDefault = (field: MappedField, raw: string): string | undefined => {
  switch (field) {
    case 'kind':
      return (ITEM_KINDS as readonly string[]).includes(raw.toLowerCase())
        ? raw.toLowerCase()
        : kindOfIssueType(undefined, raw);
    case 'state':
      return normalizeState(undefined, raw.replace(/_/g, ' ')) ?? normalizeState(undefined, raw);
    case 'severity':
      return normalizeSeverity(undefined, raw);
    case 'priority':
      return normalizePriority(undefined, raw);
    case 'team':
      return /^[a-z0-9][a-z0-9._-]*$/.test(raw) && raw.length <= 64 ? raw : undefined;
    default:
      return raw.slice(0, LIMITS[field] ?? 200);
  }
};

const ENUMERATED = new Set<MappedField>(['kind', 'state', 'severity', 'priority', 'team']);

/** `{ raw, value }`; value null when the row leaves the field empty, undefined when it cannot be translated. */
const resolve = (
  spec: ImportFieldSpec,
  field: MappedField,
  row: Row,
): { raw: Value; value: string | null | undefined } => {
  if (spec.value !== undefined) return { raw: spec.value, value: spec.value };
  const raw = row.get(spec.column!);
  if (raw === undefined) return { raw, value: null };
  if (spec.values) {
    if (Object.hasOwn(spec.values, raw)) return { raw, value: spec.values[raw]! };
    const wanted = raw.toLowerCase();
    for (const [k, v] of Object.entries(spec.values)) if (k.trim().toLowerCase() === wanted) return { raw, value: v };
    // A value map on a free-text field lists exceptions; an enumerated field must translate.
    if (!ENUMERATED.has(field)) return { raw, value: undefined };
  }
  return { raw, value: byDefault(field, raw) };
};

// ---------------------------------------------------------------- mapping

interface Entry {
  row: Row;
  key: string;
  at: string;
}

const SNAPSHOT_FIELDS = ['title', 'kind', 'team', 'component', 'severity', 'priority', 'assignee', 'state', 'customer'];
const ORDER: MappedField[] = [
  'title',
  'kind',
  'team',
  'component',
  'severity',
  'priority',
  'assignee',
  'state',
  'customer',
  'resolution',
  'milestone',
  'sprint',
  'estimate',
];

const specsOf = (map: ImportMap): [MappedField, ImportFieldSpec][] => {
  const all: Partial<Record<MappedField, ImportFieldSpec | undefined>> = {
    ...map.fields,
    team: map.team,
    component: map.component,
  };
  return ORDER.flatMap((f) => (all[f] ? [[f, all[f]] as [MappedField, ImportFieldSpec]] : []));
};

/**
 * Maps an export file. Rows without a key or with an unreadable time, and
 * lines that are not records, come back as rejections with their line
 * numbers; everything else becomes events that pass `validateEventBatch`.
 */
export const mapImportFile = (
  text: string,
  format: 'csv' | 'jsonl',
  map: ImportMap,
  ctx: { unmapped: UnmappedSink },
): ImportMapping => {
  const read: { rows: Row[]; rejections: ImportRejection[]; columns?: string[] } =
    format === 'csv' ? readCsv(text) : readJsonl(text);
  const rejections = [...read.rejections];
  const reject = (line: number, message: string) => rejections.push({ line, code: 'LANES_IMPORT_INVALID', message });
  if (read.columns) {
    // A column the map names but the header lacks (a typo, another export's name) would leave its field
    // empty on every row without a word: the header line is rejected instead.
    const header = new Set(read.columns);
    const missing = columnsOfMap(map).filter(([column]) => !header.has(column));
    if (missing.length > 0) {
      reject(
        1,
        `the header has no column ${missing.map(([c, at]) => `"${c}" (${at})`).join(', ')}; its columns are ${read.columns
          .map((c) => `"${c}"`)
          .join(', ')}`.slice(0, 2000),
      );
    }
  }

  const groups = new Map<string, Entry[]>();
  for (const row of read.rows) {
    const rawKey = row.get(map.key.column);
    if (rawKey === undefined) {
      reject(row.line, `no key: column "${map.key.column}" is empty or missing`);
      continue;
    }
    const key = `${map.key.prefix ?? ''}${rawKey}`;
    if (key.length > 120 || !KEY_PATTERN.test(key)) {
      reject(row.line, `the key "${key.slice(0, 130)}" may hold only letters, digits and . _ : / # - (at most 120)`);
      continue;
    }
    const rawTime = row.get(map.occurred_at.column);
    const at = rawTime === undefined ? undefined : parseImportTime(rawTime, map.timezone);
    if (!at) {
      reject(
        row.line,
        rawTime === undefined
          ? `no time: column "${map.occurred_at.column}" is empty or missing`
          : `cannot read the time "${rawTime.slice(0, 60)}" in column "${map.occurred_at.column}" (use ISO-8601 or YYYY-MM-DD HH:mm:ss)`,
      );
      continue;
    }
    const group = groups.get(key) ?? [];
    group.push({ row, key, at });
    groups.set(key, group);
  }

  const specs = specsOf(map);
  const events: EventInput[] = [];
  const lineOf: number[] = [];
  for (const [key, group] of groups) {
    group.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.row.line - b.row.line));
    const known = new Map<MappedField, string | null>();
    const raws = new Map<MappedField, Value>();
    let lastComment: Value;
    let previousAt = '';
    let sameInstant = 1;
    group.forEach(({ row, at }, index) => {
      sameInstant = at === previousAt ? sameInstant + 1 : 1;
      previousAt = at;
      const base = `${key}@${at}${sameInstant > 1 ? `#${sameInstant}` : ''}`;
      const actor = actorOf(map, row);
      const unmapped: Record<string, string> = {};
      const sourceValues: Record<string, string> = {};
      const changes: [MappedField, string | null, string | null | undefined][] = [];
      for (const [field, spec] of specs) {
        const { raw, value } = resolve(spec, field, row);
        if (index > 0 && raw === raws.get(field)) continue;
        raws.set(field, raw);
        if (value === undefined) {
          unmapped[field] = raw!.slice(0, 200);
          const category = CATEGORY[field] ?? 'field';
          ctx.unmapped(category, category === 'field' ? `${field}: ${raw}` : raw!);
          continue;
        }
        const translated = spec.values !== undefined || ENUMERATED.has(field);
        if (translated && raw !== undefined && raw !== value) sourceValues[field] = raw.slice(0, 200);
        if (index > 0 && value === (known.get(field) ?? null)) continue;
        changes.push([field, known.get(field) ?? null, value]);
        known.set(field, value);
      }
      const data = (extra: Record<string, unknown> = {}): Record<string, unknown> | undefined => {
        const out = { ...extra, ...(Object.keys(unmapped).length > 0 ? { unmapped } : {}) };
        return Object.keys(out).length > 0 ? out : undefined;
      };
      const rowEvents: EventInput[] = [];
      const common = { source: map.source, occurredAt: at, actor, item: itemOf(key, known, map, row) };
      if (index === 0) {
        const createdData = data(Object.keys(sourceValues).length > 0 ? { source: sourceValues } : {});
        rowEvents.push({
          ...common,
          sourceEventId: `${key}/created`,
          change: { kind: 'created', ...(createdData ? { data: createdData } : {}) },
        });
        // Fields the snapshot has no place for become changes at creation.
        for (const [field, , to] of changes) {
          if (SNAPSHOT_FIELDS.includes(field) || to === null || to === undefined) continue;
          rowEvents.push({
            ...common,
            sourceEventId: `${key}/created/${field}`,
            change: { kind: 'field_changed', field: field as ItemField, to },
          });
        }
      } else {
        for (const [field, from, to] of changes) {
          const source = sourceValues[field];
          const fieldData = data(source ? { [field === 'state' ? 'sourceState' : 'sourceValue']: source } : {});
          rowEvents.push({
            ...common,
            sourceEventId: `${base}/${field}`,
            change: {
              kind: 'field_changed',
              field: field as ItemField,
              from,
              to: to ?? null,
              ...(fieldData ? { data: fieldData } : {}),
            },
          });
        }
      }
      const comment = map.comment ? row.get(map.comment) : undefined;
      if (comment !== undefined && comment !== lastComment) {
        // On later rows the comment carries what the row could not translate; the created event does at first.
        const commentData = index > 0 ? data() : undefined;
        rowEvents.push({
          ...common,
          sourceEventId: `${base}/comment`,
          change: { kind: 'commented', text: comment.slice(0, 65_536), ...(commentData ? { data: commentData } : {}) },
        });
      }
      lastComment = comment ?? lastComment;

      const checked = validateEventBatch(rowEvents);
      if (!checked.ok) {
        reject(row.line, checked.rejections.map((r) => r.message).join('; '));
        return;
      }
      for (const event of rowEvents) {
        events.push(event);
        lineOf.push(row.line);
      }
    });
  }
  rejections.sort((a, b) => a.line - b.line);
  return { events, rejections, rows: read.rows.length + read.rejections.length, lineOf };
};

const actorOf = (map: ImportMap, row: Row): Identity | null => {
  if (!map.actor) return null;
  const id = row.get(map.actor.column);
  if (!id) return null;
  const name = map.actor.name ? row.get(map.actor.name) : undefined;
  return { kind: map.actor.kind, id: id.slice(0, 320), ...(name ? { name: name.slice(0, 200) } : {}) };
};

/** The item as the rows so far describe it. */
const itemOf = (key: string, known: Map<MappedField, string | null>, map: ImportMap, row: Row): ItemRef => {
  const item: Record<string, string> = { key };
  for (const field of SNAPSHOT_FIELDS) {
    const value = known.get(field as MappedField);
    if (value !== undefined && value !== null) item[field] = value;
  }
  const url = map.url ? row.get(map.url.column) : undefined;
  if (url && /^https?:\/\/\S+$/.test(url) && url.length <= 2000) item['url'] = url;
  return item as ItemRef;
};
