import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { NORMALIZED_STATES, PRIORITIES, SEVERITIES } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import { textPosition, yamlDocumentsProblem, yamlTextProblem, yamlToJs } from '../../domain/yaml.guard.js';
import { IDENTITY_KINDS, ITEM_FIELDS, ITEM_KINDS } from '../../domain/event.js';

/**
 * The map file of `lanes import FILE.csv|FILE.jsonl --map MAP.yaml`: how the
 * rows of an export from a tracker Lanes does not speak become events. A file
 * has one of two shapes:
 *
 * - `snapshot` (the default): each row is the state of one item at a time.
 * - `history`: each row is one change to one field (item, time, actor, field,
 *   from, to), the shape of Bugzilla's `bug_activity`, Jira's changelog and
 *   most exports; `history` names those columns and which source field is
 *   which Lanes field.
 *
 * ```yaml
 * source: zendesk                       # event source name (lower-case)
 * key: { column: ticket_id, prefix: "ZD-" }
 * occurred_at: updated_at               # ISO-8601, or "YYYY-MM-DD HH:mm:ss" in `timezone` (default UTC)
 * timezone: Europe/Berlin               # optional
 * actor: { column: author_email, kind: email }
 * team: { value: payments }             # or { column: group, values: { Billing: payments } }
 * empty: ["--", "---"]                  # values that mean "no value" in every field
 * fields:
 *   title: subject
 *   state: { column: status, values: { open: acknowledged, solved: done } }
 * comment: body
 * ```
 *
 * A column is a CSV header, or a key or dotted path (`fields.status.name`) of
 * a JSONL object. A field is a column name, `{ column, values, default }` (a
 * value map; a value mapped to `~` or `""` means no value), or `{ value }`
 * (the same for every row). In a history map a field may also be
 * `{ values }` alone: the value map of its history rows.
 */

const column = z.string().min(1).max(200);

const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

const asColumn = (value: unknown): unknown => (typeof value === 'string' ? { column: value } : value);

/** A value map's entry: a Lanes value, or `~`/`""` for "no value". */
const mapped = <T extends string>(value: z.ZodType<T>) => z.preprocess((v) => (v === '' ? null : v), value.nullable());

/**
 * A field read from a column (optionally through a value map, with a default
 * for rows that leave it empty) or given once for every row.
 */
const fieldSpec = <T extends string>(value: z.ZodType<T>) =>
  z.preprocess(
    asColumn,
    z
      .strictObject({
        column: column.optional(),
        values: z.record(z.string(), mapped(value)).optional(),
        value: value.optional(),
        default: value.optional().describe('The value when a row leaves the field empty.'),
      })
      .refine((s) => s.column === undefined || s.value === undefined, {
        message: 'give either "column" (read from each row) or "value" (the same for every row)',
      })
      .refine((s) => s.value === undefined || (s.values === undefined && s.default === undefined), {
        message: '"value" is the same for every row: it takes no "values" or "default"',
      }),
  );

const freeText = (max: number) => z.string().min(1).max(max);

const teamValue = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a team id from `teams`');

const mappedFields = {
  title: fieldSpec(freeText(500)).optional(),
  kind: fieldSpec(z.enum(ITEM_KINDS)).optional(),
  state: fieldSpec(z.enum(NORMALIZED_STATES)).optional(),
  severity: fieldSpec(z.enum(SEVERITIES)).optional(),
  priority: fieldSpec(z.enum(PRIORITIES)).optional(),
  assignee: fieldSpec(freeText(320)).optional(),
  customer: fieldSpec(freeText(200)).optional(),
  resolution: fieldSpec(freeText(200)).optional(),
  milestone: fieldSpec(freeText(200)).optional(),
  sprint: fieldSpec(freeText(200)).optional(),
  estimate: fieldSpec(freeText(32)).optional(),
};

/** What a source field of a history row may become: an item field, or the item's labels. */
export const HISTORY_TARGETS = [...ITEM_FIELDS, 'labels'] as const;
export type HistoryTarget = (typeof HISTORY_TARGETS)[number];

const historySpec = z.strictObject({
  field: column.describe('Column naming the field a row changes (Bugzilla `fieldname`).'),
  from: column.optional().describe('Column with the value before (Bugzilla `removed`).'),
  to: column.describe('Column with the value after (Bugzilla `added`).'),
  fields: z
    .record(z.string().min(1).max(200), z.enum(HISTORY_TARGETS))
    .describe('Source field name → Lanes field (`bug_status: state`, `keywords: labels`).'),
  ignore: z
    .array(z.string().min(1).max(200))
    .max(1000)
    .optional()
    .describe('Source fields to skip without counting them as unmapped (`cc`).'),
});

const itemSpec = z.strictObject({
  key: column.optional().describe("Key column of the item file (default: the map's key column)."),
  created_at: column.optional().describe('Column with the time the item was created.'),
  reporter: column.optional().describe('Column with who reported it (same identity kind as `actor`).'),
});

const rawImportMapSchema = z.strictObject({
  source: z
    .string()
    .max(64)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits and . _ - only'),
  shape: z.enum(['snapshot', 'history']).default('snapshot'),
  key: z.preprocess(asColumn, z.strictObject({ column, prefix: z.string().max(40).optional() })),
  occurred_at: z.preprocess(asColumn, z.strictObject({ column })),
  timezone: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Berlin').optional(),
  actor: z
    .preprocess(
      asColumn,
      z.strictObject({
        column,
        kind: z.enum(IDENTITY_KINDS).default('email'),
        name: column.optional().describe('Column with a display name.'),
      }),
    )
    .optional(),
  bots: z
    .array(z.string().min(1).max(320))
    .max(1000)
    .optional()
    .describe('Actors of this file that are bots (stored as `bot:<id>`; never held against the charter).'),
  empty: z
    .array(z.string().max(320))
    .max(1000)
    .optional()
    .describe('Values that mean "no value" in every field (`--`, `---`, `nobody@example.org`).'),
  team: fieldSpec(teamValue).optional(),
  component: fieldSpec(freeText(120)).optional(),
  url: z.preprocess(asColumn, z.strictObject({ column })).optional(),
  fields: z.strictObject(mappedFields).default({}),
  comment: column.optional(),
  history: historySpec.optional(),
  item: itemSpec.optional(),
});

export const importMapSchema = rawImportMapSchema.superRefine((map, ctx) => {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (map.shape === 'history') {
    if (!map.history) issue(['history'], 'a history map needs "history" (field, from, to and fields)');
    return;
  }
  if (map.history) issue(['history'], '"history" needs `shape: history`');
  if (map.item) issue(['item'], '"item" needs `shape: history`');
  const specs: [(string | number)[], ImportFieldSpec | undefined][] = [
    [['team'], map.team],
    [['component'], map.component],
    ...Object.entries(map.fields).map(([f, s]): [(string | number)[], ImportFieldSpec | undefined] => [
      ['fields', f],
      s,
    ]),
  ];
  for (const [path, spec] of specs) {
    if (spec && spec.column === undefined && spec.value === undefined) {
      issue(path, 'give either "column" (read from each row) or "value" (the same for every row)');
    }
  }
});

export type ImportMap = z.output<typeof importMapSchema>;
/** One field of a map: column, value map, default, or a value for every row. */
export interface ImportFieldSpec {
  column?: string | undefined;
  values?: Record<string, string | null> | undefined;
  value?: string | undefined;
  default?: string | undefined;
}

export interface ImportMapIssue {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

type Path = (string | number)[];

/** The position of a path's key or value, falling back to the nearest node that exists. */
const positionOf = (doc: Document, counter: LineCounter, path: Path, at: 'key' | 'value') => {
  const start = (node: unknown): number | undefined => (isNode(node) && node.range ? node.range[0] : undefined);
  let offset: number | undefined;
  if (at === 'key' && path.length > 0) {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === path[path.length - 1]);
      offset = start(pair?.key);
    }
  }
  for (let n = path.length; offset === undefined && n > 0; n--) offset = start(doc.getIn(path.slice(0, n), true));
  offset ??= start(doc.contents) ?? 0;
  return counter.linePos(offset);
};

const fail = (file: string, issues: ImportMapIssue[]): never => {
  issues.sort((a, b) => a.line - b.line || a.col - b.col);
  const lines = issues.map((i) => `${i.file}:${i.line}:${i.col}: ${i.path ? `${i.path}: ` : ''}${i.message}`);
  throw new AppError('LANES_IMPORT_INVALID', `the import map ${file} is not valid:\n${lines.join('\n')}`, { issues });
};

/**
 * Parses and checks an import map. Throws `AppError('LANES_IMPORT_INVALID')`
 * listing every problem as `file:line:col`, with the issues in `details.issues`
 * — also for a map over the limits of `yaml.guard.ts` (1 MiB, 64 levels,
 * aliases expanding to at most 1,000,000 values).
 */
export const parseImportMap = (text: string, file: string): ImportMap => {
  const tooLarge = yamlTextProblem(text, 'the map');
  if (tooLarge)
    return fail(file, [{ file, ...textPosition(text, tooLarge.offset), path: '', message: tooLarge.message }]);
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return fail(
      file,
      doc.errors.map((error) => ({
        file,
        ...counter.linePos(error.pos[0]),
        path: '',
        message: error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
      })),
    );
  }
  const expanded = yamlDocumentsProblem([doc], 'the map');
  if (expanded) return fail(file, [{ file, ...counter.linePos(expanded.offset), path: '', message: expanded.message }]);
  let raw: unknown;
  try {
    raw = yamlToJs(doc);
  } catch (error) {
    return fail(file, [{ file, line: 1, col: 1, path: '', message: (error as Error).message }]);
  }
  const parsed = importMapSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  return fail(
    file,
    parsed.error.issues.flatMap((issue) => {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => ({
          file,
          ...positionOf(doc, counter, [...path, key], 'key'),
          path: [...path, key].join('.'),
          message: `unknown field "${key}"`,
        }));
      }
      const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
      return [
        {
          file,
          ...positionOf(doc, counter, missing ? path.slice(0, -1) : path, 'value'),
          path: path.join('.'),
          message: missing ? `missing required field "${String(path[path.length - 1])}"` : issue.message,
        },
      ];
    }),
  );
};
