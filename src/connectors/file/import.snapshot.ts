import type { EventInput, ItemField, ItemRef } from '../../domain/event.js';
import type { ImportFieldSpec, ImportMap } from './import.map.js';
import type { ReadRows, Row, Value } from './import.read.js';
import { checkHeader, keyedRows, type ShapeContext } from './import.rows.js';
import { actorOfRow, CATEGORY, emptyValuesOf, ENUMERATED, resolveField, type MappedField } from './import.values.js';

/**
 * Snapshot rows: each row is the state of one item at its `occurred_at`;
 * rows are grouped by key and ordered by time. An item's first row becomes
 * `created` with the snapshot, each later row one `field_changed` per field
 * whose value changed, and a non-empty comment column a `commented` (unless it
 * repeats the item's previous comment, as "last comment" columns of snapshot
 * exports do). A row whose only news is a value the map cannot translate
 * becomes an `activity` event carrying it in `data.unmapped`.
 *
 * Event ids: `<key>/created`, `<key>@<ISO time>/<field>`,
 * `<key>@<ISO time>/comment`, `<key>@<ISO time>/unmapped` (with `#2`, `#3` …
 * for further rows of one item at the same instant).
 */

/** Fields the item snapshot of an event carries; the others become changes at creation. */
export const SNAPSHOT_FIELDS = [
  'title',
  'kind',
  'team',
  'component',
  'severity',
  'priority',
  'assignee',
  'state',
  'customer',
];

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

/** The map's fields in a fixed order, team and component included. */
export const specsOf = (map: ImportMap): [MappedField, ImportFieldSpec][] => {
  const all: Partial<Record<MappedField, ImportFieldSpec | undefined>> = {
    ...map.fields,
    team: map.team,
    component: map.component,
  };
  return ORDER.flatMap((f) => (all[f] ? [[f, all[f]] as [MappedField, ImportFieldSpec]] : []));
};

/** Every column a snapshot map reads, with where the map names it (`fields.title`). */
const columnsOfMap = (map: ImportMap): [string, string][] => {
  const out: [string, string][] = [
    [map.key.column, 'key'],
    [map.occurred_at.column, 'occurred_at'],
  ];
  if (map.actor) out.push([map.actor.column, 'actor']);
  if (map.actor?.name) out.push([map.actor.name, 'actor.name']);
  if (map.url) out.push([map.url.column, 'url']);
  if (map.comment) out.push([map.comment, 'comment']);
  for (const [field, spec] of specsOf(map)) {
    if (spec.column) out.push([spec.column, field === 'team' || field === 'component' ? field : `fields.${field}`]);
  }
  return out;
};

/** The item as the rows so far describe it. */
export const itemRefOf = (key: string, known: Map<MappedField, string | null>, map: ImportMap, row: Row): ItemRef => {
  const item: Record<string, string> = { key };
  for (const field of SNAPSHOT_FIELDS) {
    const value = known.get(field as MappedField);
    if (value !== undefined && value !== null) item[field] = value;
  }
  const url = map.url ? row.get(map.url.column) : undefined;
  if (url && /^https?:\/\/\S+$/.test(url) && url.length <= 2000) item['url'] = url;
  return item as ItemRef;
};

type Change = [MappedField, string | null, string | null];

/** The events of one row of an item: creation or changes, then a comment. */
const rowEvents = (
  ctx: ShapeContext,
  state: { known: Map<MappedField, string | null>; lastComment: Value },
  args: { key: string; at: string; base: string; row: Row; first: boolean; changes: Change[] },
  unmapped: Record<string, string>,
  sourceValues: Record<string, string>,
): EventInput[] => {
  const { map } = ctx;
  const { key, at, base, row, first, changes } = args;
  const data = (extra: Record<string, unknown> = {}): Record<string, unknown> | undefined => {
    const out = { ...extra, ...(Object.keys(unmapped).length > 0 ? { unmapped } : {}) };
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const out: EventInput[] = [];
  const common = {
    source: map.source,
    occurredAt: at,
    actor: actorOfRow(map, row),
    item: itemRefOf(key, state.known, map, row),
  };
  if (first) {
    const createdData = data(Object.keys(sourceValues).length > 0 ? { source: sourceValues } : {});
    out.push({
      ...common,
      sourceEventId: `${key}/created`,
      change: { kind: 'created', ...(createdData ? { data: createdData } : {}) },
    });
    // Fields the snapshot has no place for become changes at creation.
    for (const [field, , to] of changes) {
      if (SNAPSHOT_FIELDS.includes(field) || to === null) continue;
      out.push({
        ...common,
        sourceEventId: `${key}/created/${field}`,
        change: { kind: 'field_changed', field: field as ItemField, to },
      });
    }
  } else {
    for (const [field, from, to] of changes) {
      const source = sourceValues[field];
      const fieldData = data(source ? { [field === 'state' ? 'sourceState' : 'sourceValue']: source } : {});
      out.push({
        ...common,
        sourceEventId: `${base}/${field}`,
        change: {
          kind: 'field_changed',
          field: field as ItemField,
          from,
          to,
          ...(fieldData ? { data: fieldData } : {}),
        },
      });
    }
  }
  const comment = map.comment ? row.get(map.comment) : undefined;
  if (comment !== undefined && comment !== state.lastComment) {
    // On later rows the comment carries what the row could not translate; the created event does at first.
    const commentData = first ? undefined : data();
    out.push({
      ...common,
      sourceEventId: `${base}/comment`,
      change: { kind: 'commented', text: comment.slice(0, 65_536), ...(commentData ? { data: commentData } : {}) },
    });
  }
  state.lastComment = comment ?? state.lastComment;
  if (out.length === 0 && Object.keys(unmapped).length > 0) {
    // Nothing else carries the untranslated value: an activity keeps it in the log.
    out.push({ ...common, sourceEventId: `${base}/unmapped`, change: { kind: 'activity', data: { unmapped } } });
  }
  return out;
};

/** Maps snapshot rows (see the module comment). */
export const mapSnapshotFile = (read: ReadRows, ctx: ShapeContext): void => {
  const { map } = ctx;
  checkHeader(read, columnsOfMap(map), ctx);
  const groups = keyedRows(read.rows, ctx, map.key.column, map.occurred_at.column);
  const specs = specsOf(map);
  const empty = emptyValuesOf(map);
  for (const [key, group] of groups) {
    const state = { known: new Map<MappedField, string | null>(), lastComment: undefined as Value };
    const raws = new Map<MappedField, Value>();
    let previousAt = '';
    let sameInstant = 1;
    group.forEach(({ row, at }, index) => {
      sameInstant = at === previousAt ? sameInstant + 1 : 1;
      previousAt = at;
      const base = `${key}@${at}${sameInstant > 1 ? `#${sameInstant}` : ''}`;
      const unmapped: Record<string, string> = {};
      const sourceValues: Record<string, string> = {};
      const changes: Change[] = [];
      for (const [field, spec] of specs) {
        const { raw, value } = resolveField(spec, field, row, empty);
        if (index > 0 && raw === raws.get(field)) continue;
        raws.set(field, raw);
        if (value === undefined) {
          unmapped[field] = raw!.slice(0, 200);
          const category = CATEGORY[field] ?? 'field';
          ctx.unmapped(row.line, category, category === 'field' ? `${field}: ${raw}` : raw!);
          continue;
        }
        const translated = spec.values !== undefined || ENUMERATED.has(field);
        if (translated && raw !== undefined && value !== null && raw !== value) sourceValues[field] = raw.slice(0, 200);
        if (index > 0 && value === (state.known.get(field) ?? null)) continue;
        changes.push([field, state.known.get(field) ?? null, value]);
        state.known.set(field, value);
      }
      const args = { key, at, base, row, first: index === 0, changes };
      ctx.emit(row.line, rowEvents(ctx, state, args, unmapped, sourceValues));
    });
  }
};
