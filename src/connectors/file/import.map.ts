import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { NORMALIZED_STATES, PRIORITIES, SEVERITIES } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import { textPosition, yamlDocumentsProblem, yamlTextProblem, yamlToJs } from '../../domain/yaml.guard.js';
import { IDENTITY_KINDS, ITEM_KINDS } from '../../domain/event.js';

/**
 * The map file of `lanes import FILE.csv|FILE.jsonl --map MAP.yaml`: how the
 * rows of an export from a tracker Lanes does not speak become events.
 *
 * ```yaml
 * source: zendesk                       # event source name (lower-case)
 * key: { column: ticket_id, prefix: "ZD-" }
 * occurred_at: updated_at               # ISO-8601, or "YYYY-MM-DD HH:mm:ss" in `timezone` (default UTC)
 * timezone: Europe/Berlin               # optional
 * actor: { column: author_email, kind: email }
 * team: { value: payments }             # or { column: group, values: { Billing: payments } }
 * fields:
 *   title: subject
 *   state: { column: status, values: { open: acknowledged, solved: done } }
 * comment: body
 * ```
 *
 * A column is a CSV header, or a key or dotted path (`fields.status.name`) of
 * a JSONL object. A field is a column name, `{ column, values }` (a value map),
 * or `{ value }` (the same for every row).
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

/** A field read from a column (optionally through a value map) or given once for every row. */
const fieldSpec = <T extends string>(value: z.ZodType<T>) =>
  z.preprocess(
    asColumn,
    z
      .strictObject({
        column: column.optional(),
        values: z.record(z.string(), value).optional(),
        value: value.optional(),
      })
      .refine((s) => (s.column === undefined) !== (s.value === undefined), {
        message: 'give either "column" (read from each row) or "value" (the same for every row)',
      })
      .refine((s) => s.values === undefined || s.column !== undefined, {
        message: '"values" translates a column, so it needs "column"',
      }),
  );

const freeText = (max: number) => z.string().min(1).max(max);

export const importMapSchema = z.strictObject({
  source: z
    .string()
    .max(64)
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits and . _ - only'),
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
  team: fieldSpec(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a team id from `teams`')).optional(),
  component: fieldSpec(freeText(120)).optional(),
  url: z.preprocess(asColumn, z.strictObject({ column })).optional(),
  fields: z
    .strictObject({
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
    })
    .default({}),
  comment: column.optional(),
});

export type ImportMap = z.output<typeof importMapSchema>;
export type ImportFieldSpec = NonNullable<ImportMap['fields']['title']>;

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
