import type { EventInput, ItemField } from '../../domain/event.js';
import type { HistoryTarget, ImportFieldSpec, ImportMap } from './import.map.js';
import { parseImportTime, type ReadRows, type Row, type Value } from './import.read.js';
import { boundedEventId, checkHeader, keyedRows, type KeyedRow, type ShapeContext } from './import.rows.js';
import { itemRefOf, SNAPSHOT_FIELDS, specsOf } from './import.snapshot.js';
import { actorOfRow, CATEGORY, emptyValuesOf, translateValue, type MappedField } from './import.values.js';

/**
 * History rows: each row is one change of one field of one item — item,
 * time, actor, field, from, to — the shape of Bugzilla's `bug_activity`,
 * Jira's changelog and most tracker exports.
 *
 * An item is created at its item file's `created_at` (else at its first change)
 * by its `reporter` (or nobody known), with the values it had before its
 * first change of each field: that change's *from* value, or, for a field
 * that never changed, the item file's value (or the history rows' item
 * columns, or the field's `default`). Each later row becomes:
 *
 * - a mapped field: `field_changed` from the value Lanes knew to the row's
 *   *to*, translated; a change that translates to the same value is skipped,
 *   except a state whose source name changed (`RESOLVED` → `VERIFIED`), kept
 *   with `data.sourceState`;
 * - `labels`: one `label_added` / `label_removed` per word (comma, space or
 *   `[bracketed]` separated, as Bugzilla keywords and whiteboards are);
 * - a field the map does not name: `activity` with `data.field`, `from` and
 *   `to`, counted as an unmapped `field` (unless listed under `ignore`);
 * - a value the map cannot translate: `activity` with `data.unmapped`,
 *   counted, the item unchanged.
 *
 * Event ids: `<key>/created`, `<key>/created/<field>`,
 * `<key>@<ISO time>/<source field>` (`/+<label>`, `/-<label>`, `/unmapped`),
 * `<key>@<ISO time>/comment`, with `#2` … when a field changes twice at one
 * instant; rows at one instant are ordered by content, so any order of the
 * file's lines gives the same ids.
 */

type Known = Map<MappedField, string | null>;

/** A source field's Lanes field: exact name first, then ignoring case. */
const targetOf = (map: ImportMap, field: string): HistoryTarget | 'ignore' | undefined => {
  const spec = map.history!;
  const lower = field.toLowerCase();
  if ((spec.ignore ?? []).some((f) => f.toLowerCase() === lower)) return 'ignore';
  if (Object.hasOwn(spec.fields, field)) return spec.fields[field];
  for (const [name, target] of Object.entries(spec.fields)) if (name.toLowerCase() === lower) return target;
  return undefined;
};

const specFor = (map: ImportMap, field: MappedField): ImportFieldSpec =>
  (field === 'team'
    ? map.team
    : field === 'component'
      ? map.component
      : map.fields[field as keyof ImportMap['fields']]) ?? {};

/** The words of a keywords or whiteboard value: `[a] [b c]`, `a, b`, `a b`. */
export const labelWords = (value: Value): string[] => {
  if (value === undefined) return [];
  const words = [...value.matchAll(/\[([^\]]*)\]|[^\s,[\]]+/g)].map((m) => (m[1] ?? m[0]).trim().slice(0, 500));
  return [...new Set(words.filter((w) => w !== ''))];
};

interface ItemContext {
  key: string;
  itemRow: Row;
  itemLine: number;
  known: Known;
  raws: Map<MappedField, Value>;
  labels: Set<string>;
}

const fieldOf = (map: ImportMap, row: Row): string => row.get(map.history!.field) ?? '';

/** The columns a history map reads from the history file and from the item file. */
const columnsOf = (map: ImportMap, hasItems: boolean): { history: [string, string][]; items: [string, string][] } => {
  const history: [string, string][] = [
    [map.key.column, 'key'],
    [map.occurred_at.column, 'occurred_at'],
    [map.history!.field, 'history.field'],
    [map.history!.to, 'history.to'],
  ];
  if (map.history!.from) history.push([map.history!.from, 'history.from']);
  if (map.actor) history.push([map.actor.column, 'actor']);
  if (map.comment) history.push([map.comment, 'comment']);
  const items: [string, string][] = hasItems ? [[map.item?.key ?? map.key.column, 'item.key']] : [];
  const itemColumns = hasItems ? items : history;
  if (map.item?.created_at) itemColumns.push([map.item.created_at, 'item.created_at']);
  if (map.item?.reporter) itemColumns.push([map.item.reporter, 'item.reporter']);
  if (map.url) itemColumns.push([map.url.column, 'url']);
  for (const [field, spec] of specsOf(map)) {
    if (spec.column)
      itemColumns.push([spec.column, field === 'team' || field === 'component' ? field : `fields.${field}`]);
  }
  return { history, items };
};

/** The item file's rows by key; a key given twice rejects the later row. */
const itemRowsByKey = (items: ReadRows, ctx: ShapeContext): Map<string, Row> => {
  const out = new Map<string, Row>();
  const groups = keyedRows(items.rows, ctx, ctx.map.item?.key ?? ctx.map.key.column, undefined, -1);
  for (const [key, rows] of groups) {
    out.set(key, rows[0]!.row);
    for (const extra of rows.slice(1)) {
      ctx.reject(-extra.row.line, `the item file has "${key}" twice (first on line ${rows[0]!.row.line})`);
    }
  }
  return out;
};

/** Translates one raw value; an untranslatable one is counted and returned as undefined. */
const translate = (ctx: ShapeContext, line: number, field: MappedField, raw: Value): string | null | undefined => {
  const value = translateValue(specFor(ctx.map, field), field, raw, emptyValuesOf(ctx.map));
  if (value === undefined) {
    const category = CATEGORY[field] ?? 'field';
    ctx.unmapped(line, category, category === 'field' ? `${field}: ${raw}` : raw!);
  }
  return value;
};

/** The `created` event (and changes at creation for fields the snapshot has no place for). */
const createdEvents = (ctx: ShapeContext, item: ItemContext, rows: KeyedRow[], at: string): EventInput[] => {
  const { map } = ctx;
  const firstOf = new Map<string, KeyedRow>();
  for (const r of rows)
    if (!firstOf.has(fieldOf(map, r.row).toLowerCase())) firstOf.set(fieldOf(map, r.row).toLowerCase(), r);
  const unmapped: Record<string, string> = {};
  const source: Record<string, string> = {};
  const fields = new Set<MappedField>(specsOf(map).map(([f]) => f));
  for (const target of Object.values(map.history!.fields)) if (target !== 'labels') fields.add(target);
  for (const field of fields) {
    // The value before the first change of a source field naming this one, else the item's own value.
    const first = [...firstOf.values()].find((r) => targetOf(map, fieldOf(map, r.row)) === field);
    const spec = specFor(map, field);
    const raw = first
      ? map.history!.from
        ? first.row.get(map.history!.from)
        : undefined
      : spec.column
        ? item.itemRow.get(spec.column)
        : undefined;
    // Counted with the created event, which carries it.
    const value = translate(ctx, item.itemLine, field, raw);
    item.raws.set(field, raw);
    if (value === undefined) unmapped[field] = raw!.slice(0, 200);
    else if (raw !== undefined && value !== null && raw !== value) source[field] = raw.slice(0, 200);
    item.known.set(field, value ?? null);
  }
  for (const r of firstOf.values()) {
    if (targetOf(map, fieldOf(map, r.row)) !== 'labels') continue;
    for (const word of labelWords(map.history!.from ? r.row.get(map.history!.from) : undefined)) item.labels.add(word);
  }
  const data: Record<string, unknown> = {};
  if (Object.keys(source).length > 0) data['source'] = source;
  if (Object.keys(unmapped).length > 0) data['unmapped'] = unmapped;
  if (item.labels.size > 0) data['labels'] = [...item.labels];
  const reporter = map.item?.reporter ? actorOfRow(map, item.itemRow, map.item.reporter) : null;
  const common = {
    source: map.source,
    occurredAt: at,
    actor: reporter,
    item: itemRefOf(item.key, item.known, map, item.itemRow),
  };
  const out: EventInput[] = [
    {
      ...common,
      sourceEventId: `${item.key}/created`,
      change: { kind: 'created', ...(Object.keys(data).length > 0 ? { data } : {}) },
    },
  ];
  for (const [field, value] of item.known) {
    if (SNAPSHOT_FIELDS.includes(field) || value === null) continue;
    out.push({
      ...common,
      sourceEventId: `${item.key}/created/${field}`,
      change: { kind: 'field_changed', field: field as ItemField, to: value },
    });
  }
  return out;
};

/** The events of one history row. */
const changeEvents = (ctx: ShapeContext, item: ItemContext, entry: KeyedRow, base: string): EventInput[] => {
  const { map } = ctx;
  const { row, at } = entry;
  const name = fieldOf(map, row);
  const rawFrom = map.history!.from ? row.get(map.history!.from) : undefined;
  const rawTo = row.get(map.history!.to);
  const target = targetOf(map, name);
  const common = () => ({
    source: map.source,
    occurredAt: at,
    actor: actorOfRow(map, row),
    item: itemRefOf(item.key, item.known, map, item.itemRow),
  });
  const id = (suffix = '') => boundedEventId(`${base}/${name.slice(0, 64)}${suffix}`);
  const activity = (data: Record<string, unknown>, suffix: string): EventInput => ({
    ...common(),
    sourceEventId: id(suffix),
    change: {
      kind: 'activity',
      data: { field: name.slice(0, 200), from: rawFrom ?? null, to: rawTo ?? null, ...data },
    },
  });
  if (target === 'ignore') return [];
  if (target === undefined) {
    ctx.unmapped(row.line, 'field', name.slice(0, 200) || '(no field name)');
    return [activity({}, '')];
  }
  if (target === 'labels') {
    const before = new Set(labelWords(rawFrom));
    const after = new Set(labelWords(rawTo));
    const out: EventInput[] = [];
    for (const word of after) {
      if (before.has(word) || item.labels.has(word)) continue;
      item.labels.add(word);
      out.push({ ...common(), sourceEventId: id(`/+${word}`), change: { kind: 'label_added', target: word } });
    }
    for (const word of before) {
      if (after.has(word) || !item.labels.has(word)) continue;
      item.labels.delete(word);
      out.push({ ...common(), sourceEventId: id(`/-${word}`), change: { kind: 'label_removed', target: word } });
    }
    return out;
  }
  const to = translate(ctx, row.line, target, rawTo);
  if (to === undefined) return [activity({ unmapped: { [target]: rawTo!.slice(0, 200) } }, '/unmapped')];
  const from = item.known.get(target) ?? null;
  const rawBefore = item.raws.get(target);
  item.raws.set(target, rawTo);
  // The same value in Lanes' terms is no change, unless a state's own name moved on (RESOLVED → VERIFIED).
  if (to === from && !(target === 'state' && rawTo !== rawBefore)) return [];
  item.known.set(target, to);
  const data: Record<string, unknown> = {};
  // The source's own words, where they differ from Lanes' (an emptied value has none worth keeping).
  if (rawTo !== undefined && to !== null && rawTo !== to) {
    data[target === 'state' ? 'sourceState' : 'sourceValue'] = rawTo.slice(0, 200);
  }
  if (rawFrom !== undefined && from !== null && rawFrom !== from) {
    data[target === 'state' ? 'fromSourceState' : 'fromSourceValue'] = rawFrom.slice(0, 200);
  }
  return [
    {
      ...common(),
      sourceEventId: id(),
      change: { kind: 'field_changed', field: target, from, to, ...(Object.keys(data).length > 0 ? { data } : {}) },
    },
  ];
};

/** Rows at one instant in an order that does not depend on the file's line order. */
const byContent =
  (map: ImportMap) =>
  (a: KeyedRow, b: KeyedRow): number => {
    if (a.at !== b.at) return a.at < b.at ? -1 : 1;
    const cells = (r: KeyedRow) =>
      [fieldOf(map, r.row), map.history!.from ? r.row.get(map.history!.from) : '', r.row.get(map.history!.to)]
        .map((c) => c ?? '')
        .join('\u0000');
    const ca = cells(a);
    const cb = cells(b);
    return ca < cb ? -1 : ca > cb ? 1 : a.row.line - b.row.line;
  };

/** Maps history rows and the optional item file (see the module comment). */
export const mapHistoryFile = (read: ReadRows, items: ReadRows | undefined, ctx: ShapeContext): void => {
  const { map } = ctx;
  const columns = columnsOf(map, items !== undefined);
  checkHeader(read, columns.history, ctx);
  if (items) checkHeader(items, columns.items, ctx, -1);
  const groups = keyedRows(read.rows, ctx, map.key.column, map.occurred_at.column);
  const itemRows = items ? itemRowsByKey(items, ctx) : new Map<string, Row>();
  const keys = [...new Set([...itemRows.keys(), ...groups.keys()])];
  for (const key of keys) {
    const rows = (groups.get(key) ?? []).sort(byContent(map));
    const fileRow = itemRows.get(key);
    const itemRow = fileRow ?? rows[0]!.row;
    const itemLine = fileRow ? -fileRow.line : itemRow.line;
    let at = rows[0]?.at;
    if (map.item?.created_at) {
      const raw = itemRow.get(map.item.created_at);
      const created = raw === undefined ? undefined : parseImportTime(raw, map.timezone);
      if (raw !== undefined && created === undefined) {
        ctx.reject(
          itemLine,
          `cannot read the time "${raw.slice(0, 60)}" in column "${map.item.created_at}" (use ISO-8601 or YYYY-MM-DD HH:mm:ss)`,
        );
        continue;
      }
      // The tracker's own word, as the Jira connector takes it; a change dated before it (a cloned or moved
      // issue) keeps its own time.
      if (created !== undefined) at = created;
    }
    if (at === undefined) {
      ctx.reject(itemLine, `no time for "${key}": it has no history rows and no "item.created_at"`);
      continue;
    }
    const item: ItemContext = { key, itemRow, itemLine, known: new Map(), raws: new Map(), labels: new Set() };
    ctx.emit(itemLine, createdEvents(ctx, item, rows, at));
    let previous = '';
    let seen = new Map<string, number>();
    let lastComment: Value;
    let lastCommentAt = '';
    for (const entry of rows) {
      if (entry.at !== previous) seen = new Map();
      previous = entry.at;
      const comments = seen.get('\u0000comment') ?? 0;
      const name = fieldOf(map, entry.row).toLowerCase();
      const n = (seen.get(name) ?? 0) + 1;
      seen.set(name, n);
      const base = `${key}@${entry.at}${n > 1 ? `#${n}` : ''}`;
      const events = changeEvents(ctx, item, entry, base);
      const comment = map.comment ? entry.row.get(map.comment) : undefined;
      // Rows of one instant repeat the comment of their change; the same words at another time are another comment.
      if (comment !== undefined && (comment !== lastComment || entry.at !== lastCommentAt)) {
        seen.set('\u0000comment', comments + 1);
        events.push({
          source: map.source,
          sourceEventId: boundedEventId(`${key}@${entry.at}/comment${comments > 0 ? `#${comments + 1}` : ''}`),
          occurredAt: entry.at,
          actor: actorOfRow(map, entry.row),
          item: itemRefOf(key, item.known, map, itemRow),
          change: { kind: 'commented', text: comment.slice(0, 65_536) },
        });
      }
      if (comment !== undefined) lastCommentAt = entry.at;
      lastComment = comment ?? lastComment;
      ctx.emit(entry.row.line, events);
    }
  }
};
