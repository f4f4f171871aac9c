import {
  kindOfIssueType,
  normalizePriority,
  normalizeSeverity,
  normalizeState,
  type UnmappedCategory,
} from '../../domain/connector.mapping.js';
import { ITEM_KINDS, type Identity, type ItemField } from '../../domain/event.js';
import type { ImportFieldSpec, ImportMap } from './import.map.js';
import type { Row, Value } from './import.read.js';

/**
 * Translating the values of an import file into Lanes' vocabulary: the map's
 * value maps first, then Lanes' defaults (for kind, state, severity, priority
 * and team), with the map's `empty` values and values mapped to `~` meaning
 * "no value", and a field's `default` standing in for no value.
 */

export type MappedField = 'team' | 'component' | ItemField;

/** What an untranslatable value of a field is counted under in `lanes sources`. */
export const CATEGORY: Partial<Record<MappedField, UnmappedCategory>> = {
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

/** Fields whose values must be translated into a closed vocabulary; the others are free text. */
export const ENUMERATED = new Set<MappedField>(['kind', 'state', 'severity', 'priority', 'team']);

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

const emptyValues = new WeakMap<ImportMap, ReadonlySet<string>>();

/** The map's `empty` values, compared case-insensitively (made once per map). */
export const emptyValuesOf = (map: ImportMap): ReadonlySet<string> => {
  let set = emptyValues.get(map);
  if (!set) emptyValues.set(map, (set = new Set((map.empty ?? []).map((v) => v.trim().toLowerCase()))));
  return set;
};

/**
 * A raw value of a field in Lanes' terms: the value, null for "no value"
 * (an empty cell, one of the map's `empty` values, or a value mapped to `~`;
 * the field's `default` when it has one), undefined when it cannot be
 * translated. On a free-text field a value map names exceptions and every
 * other value passes as it is; an enumerated field falls back to Lanes'
 * defaults.
 */
export const translateValue = (
  spec: ImportFieldSpec,
  field: MappedField,
  raw: Value,
  empty: ReadonlySet<string>,
): string | null | undefined => {
  if (spec.value !== undefined) return spec.value;
  const none = spec.default ?? null;
  if (raw === undefined || empty.has(raw.toLowerCase())) return none;
  if (spec.values) {
    if (Object.hasOwn(spec.values, raw)) return spec.values[raw] ?? none;
    const wanted = raw.toLowerCase();
    for (const [k, v] of Object.entries(spec.values)) if (k.trim().toLowerCase() === wanted) return v ?? none;
  }
  return byDefault(field, raw);
};

/** `{ raw, value }` of a field in a row (see `translateValue`). */
export const resolveField = (
  spec: ImportFieldSpec,
  field: MappedField,
  row: Row,
  empty: ReadonlySet<string>,
): { raw: Value; value: string | null | undefined } => {
  if (spec.value !== undefined) return { raw: spec.value, value: spec.value };
  const raw = spec.column === undefined ? undefined : row.get(spec.column);
  return { raw, value: translateValue(spec, field, raw, empty) };
};

/** The identity of a row's actor (`actor.column`); the map's `bots` become `bot:` identities. */
export const actorOfRow = (map: ImportMap, row: Row, column = map.actor?.column): Identity | null => {
  if (!map.actor || column === undefined) return null;
  const id = row.get(column);
  if (!id || emptyValuesOf(map).has(id.toLowerCase())) return null;
  const name = map.actor.name ? row.get(map.actor.name) : undefined;
  const bot = (map.bots ?? []).some((b) => b.toLowerCase() === id.toLowerCase());
  return { kind: bot ? 'bot' : map.actor.kind, id: id.slice(0, 320), ...(name ? { name: name.slice(0, 200) } : {}) };
};
