import { isMap, isNode, isScalar, LineCounter, parseDocument, Scalar, visit, type Document } from 'yaml';
import type { z } from 'zod';
import {
  charterSchema,
  delegationSchema,
  domainSchema,
  personSchema,
  teamSchema,
  type Charter,
} from './charter.schema.js';
import {
  CHARTER_ISSUE_CODES,
  checkCharterParts,
  NON_BLOCKING_ISSUE_CODES,
  partsOfCharter,
  suggestClosest,
  type CharterIssue,
  type CharterIssueCode,
  type CharterParts,
  type CharterPath,
  type Indexed,
  type PathIssue,
} from './charter.validate.js';
import {
  DEFAULT_YAML_LIMITS,
  textPosition,
  yamlDocumentsProblem,
  yamlTextProblem,
  yamlToJs,
  type YamlLimits,
} from './yaml.guard.js';

/**
 * `lanes.yaml` text → a charter and every issue found, each at the line and
 * column of the YAML node it is about. Three stages, each reporting all it
 * finds: YAML syntax (stops here when broken), the zod schema, and the
 * reference checks of `charter.validate.ts`. Never throws on bad input.
 */

/** The result of reading a charter. */
export interface CharterLoadResult {
  /**
   * Set only when the charter can be used: it has the right shape and every
   * issue is non-blocking (see `NON_BLOCKING_ISSUE_CODES`).
   */
  charter?: Charter;
  /** Every issue, sorted by position, at most `MAX_CHARTER_ISSUES`. */
  issues: CharterIssue[];
}

export const MAX_CHARTER_ISSUES = 200;

/** What Lanes reads of a charter: 1 MiB of YAML, 64 levels deep, aliases expanding to at most 1,000,000 values. */
export const CHARTER_YAML_LIMITS: Readonly<YamlLimits> = DEFAULT_YAML_LIMITS;
/** The largest charter file, in bytes (1 MiB); larger files are refused before they are parsed. */
export const MAX_CHARTER_BYTES = CHARTER_YAML_LIMITS.maxBytes;

type Json = unknown;

/** `teams[1].trio.product` */
export const formatCharterPath = (path: CharterPath): string =>
  path.reduce<string>(
    (out, part) =>
      typeof part === 'number'
        ? `${out}[${part}]`
        : /^[A-Za-z_][\w-]*$/.test(part)
          ? out === ''
            ? part
            : `${out}.${part}`
          : `${out}[${JSON.stringify(part)}]`,
    '',
  );

const isRecord = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const valueAt = (root: Json, path: CharterPath): Json => {
  let current = root;
  for (const part of path) {
    if (Array.isArray(current) && typeof part === 'number') current = current[part];
    else if (isRecord(current) && typeof part === 'string' && Object.hasOwn(current, part)) current = current[part];
    else return undefined;
  }
  return current;
};

// ---------------------------------------------------------------------------
// Positions

interface Position {
  line: number;
  col: number;
}

/**
 * The offset in the source of character `index` of a one-line scalar's value
 * (plain, 'single' or "double" quoted), or undefined when it cannot be told.
 */
const scalarSourceOffset = (node: unknown, text: string, index: number): number | undefined => {
  if (!isScalar(node) || !node.range || typeof node.value !== 'string') return undefined;
  const [start, end] = node.range;
  const source = text.slice(start, end);
  if (source.includes('\n')) return undefined;
  if (node.type === Scalar.PLAIN) return index <= source.length ? start + index : undefined;
  if (node.type !== Scalar.QUOTE_SINGLE && node.type !== Scalar.QUOTE_DOUBLE) return undefined;
  const hexLength: Record<string, number> = { x: 2, u: 4, U: 8 };
  let at = 1; // after the opening quote
  for (let i = 0; i < index && at < source.length - 1; i++) {
    if (node.type === Scalar.QUOTE_SINGLE) at += source.startsWith("''", at) ? 2 : 1;
    else if (source[at] !== '\\') at += 1;
    else at += 2 + (hexLength[source[at + 1] ?? ''] ?? 0);
  }
  return start + at;
};

/**
 * Finds the source position of a path, falling back to the nearest node that
 * exists; `offset` points inside a string value (see `scalarSourceOffset`).
 */
const positionOf = (
  doc: Document,
  counter: LineCounter,
  path: CharterPath,
  at: 'key' | 'value',
  inValue?: { text: string; offset: number },
): Position => {
  const start = (node: unknown): number | undefined => (isNode(node) && node.range ? node.range[0] : undefined);
  let offset: number | undefined;
  if (at === 'key' && path.length > 0) {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    const last = path[path.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === last);
      offset = start(pair?.key);
    }
  }
  if (at === 'value' && inValue) offset = scalarSourceOffset(doc.getIn(path, true), inValue.text, inValue.offset);
  for (let n = path.length; offset === undefined && n > 0; n--) {
    offset = start(doc.getIn(path.slice(0, n), true));
  }
  offset ??= start(doc.contents) ?? 0;
  return counter.linePos(offset);
};

// ---------------------------------------------------------------------------
// Schema issues

interface SchemaNode {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, SchemaNode>;
      element?: SchemaNode;
      valueType?: SchemaNode;
      innerType?: SchemaNode;
      in?: SchemaNode;
    };
  };
}

/** The field names a strict object accepts at `path`, for "did you mean" on unknown keys. */
const knownKeysAt = (path: CharterPath): string[] => {
  let node: SchemaNode | undefined = charterSchema as unknown as SchemaNode;
  const unwrap = (n: SchemaNode | undefined): SchemaNode | undefined => {
    let current = n;
    for (let i = 0; current && i < 10; i++) {
      const def: SchemaNode['_zod']['def'] = current._zod.def;
      if (['optional', 'default', 'nullable', 'prefault', 'readonly', 'nonoptional'].includes(def.type))
        current = def.innerType;
      else if (def.type === 'pipe') current = def.in;
      else break;
    }
    return current;
  };
  for (const part of path) {
    const def: SchemaNode['_zod']['def'] | undefined = unwrap(node)?._zod.def;
    if (!def) return [];
    if (def.type === 'object') node = def.shape?.[String(part)];
    else if (def.type === 'array') node = def.element;
    else if (def.type === 'record') node = def.valueType;
    else return [];
  }
  const def = unwrap(node)?._zod.def;
  return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
};

const unionMessage = (issue: z.core.$ZodIssueInvalidUnion): string => {
  const branches = issue.errors.map((branch) => branch[0]).filter((i) => i !== undefined);
  if (branches.length > 0 && branches.every((b) => b.code === 'invalid_type')) {
    const expected = branches.map((b) => (b as z.core.$ZodIssueInvalidType).expected).join(' or ');
    return `expected ${expected}`;
  }
  const messages = [...new Set(branches.map((b) => b.message))];
  return messages.length > 0 ? `expected one of: ${messages.join('; ')}` : issue.message;
};

/** The pattern problem a `superRefine` of `decision.rules.ts` attached to its issue (`params.pattern`). */
const patternParams = (params: Record<string, unknown> | undefined): { index: number; hint: string } | undefined => {
  const pattern = params?.['pattern'];
  return isRecord(pattern) && typeof pattern['index'] === 'number' && typeof pattern['hint'] === 'string'
    ? { index: pattern['index'], hint: pattern['hint'] }
    : undefined;
};

const schemaIssues = (error: z.ZodError, raw: Json): PathIssue[] => {
  const out: PathIssue[] = [];
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const where = formatCharterPath(path);
    const inWhere = where === '' ? 'at the top level' : `in ${where}`;
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(path);
      for (const key of issue.keys) {
        const suggestion = suggestClosest(key, known);
        out.push({
          code: 'LANES_CHARTER_SCHEMA',
          path: [...path, key],
          at: 'key',
          message: `unknown field "${key}" ${inWhere}.`,
          hint: suggestion
            ? `fix the spelling (did you mean "${suggestion}"?)`
            : `remove it; allowed here: ${known.join(', ')}`,
          ...(suggestion ? { suggestion } : {}),
        });
      }
      continue;
    }
    const parentPath = path.slice(0, -1);
    const missing =
      issue.code === 'invalid_type' &&
      path.length > 0 &&
      valueAt(raw, path) === undefined &&
      valueAt(raw, parentPath) !== undefined;
    if (missing) {
      const field = String(path[path.length - 1]);
      const parent = formatCharterPath(parentPath);
      out.push({
        code: 'LANES_CHARTER_SCHEMA',
        path: parentPath,
        at: 'value',
        message: `missing required field "${field}" ${parent === '' ? 'at the top level' : `in ${parent}`}.`,
        hint: `add ${field}: (expected ${(issue as z.core.$ZodIssueInvalidType).expected})`,
      });
      continue;
    }
    const pattern = issue.code === 'custom' ? patternParams(issue.params) : undefined;
    if (pattern) {
      out.push({
        code: 'LANES_CHARTER_PATTERN',
        path,
        at: 'value',
        message: `${where}: ${issue.message}.`,
        hint: pattern.hint,
        offset: pattern.index,
      });
      continue;
    }
    const detail = issue.code === 'invalid_union' ? unionMessage(issue) : issue.message;
    out.push({
      code: 'LANES_CHARTER_SCHEMA',
      path,
      at: 'value',
      message: `${where === '' ? 'the charter' : where}: ${detail}.`.replace(/\.\.$/, '.'),
      hint: CHARTER_ISSUE_CODES.LANES_CHARTER_SCHEMA,
    });
  }
  return out;
};

/**
 * The entries that are valid on their own, when the charter as a whole is not,
 * so the reference checks can still run on them (see `CharterParts`).
 */
const salvageParts = (raw: Record<string, Json>): CharterParts => {
  const valid = <T>(list: Json, schema: z.ZodType<T>): Indexed<T>[] => {
    if (!Array.isArray(list)) return [];
    const out: Indexed<T>[] = [];
    list.forEach((item, index) => {
      const parsed = schema.safeParse(item);
      if (parsed.success) out.push({ index, value: parsed.data });
    });
    return out;
  };
  const ids = (list: Json): string[] =>
    Array.isArray(list)
      ? list.flatMap((item) => (isRecord(item) && typeof item['id'] === 'string' ? [item['id']] : []))
      : [];
  const groups = charterSchema.shape.groups.safeParse(raw['groups']);
  const connectors = charterSchema.shape.connectors.safeParse(raw['connectors']);
  const decisionRules = charterSchema.shape.decision_rules.safeParse(raw['decision_rules']);
  const workspace = raw['workspace'];
  const timezone = isRecord(workspace) && typeof workspace['timezone'] === 'string' ? workspace['timezone'] : 'UTC';
  return {
    timezone,
    groups: groups.success ? (groups.data ?? {}) : {},
    people: valid(raw['people'], personSchema),
    teams: valid(raw['teams'], teamSchema),
    domains: valid(raw['domains'], domainSchema),
    delegations: valid(raw['delegations'], delegationSchema),
    connectors: connectors.success ? connectors.data : undefined,
    decisionRules: decisionRules.success ? decisionRules.data : undefined,
    declared: {
      people: ids(raw['people']),
      teams: ids(raw['teams']),
      domains: ids(raw['domains']),
      groups: isRecord(raw['groups']) ? Object.keys(raw['groups']) : [],
    },
  };
};

// ---------------------------------------------------------------------------
// The pipeline

const finish = (file: string, issues: CharterIssue[], charter: Charter | undefined): CharterLoadResult => {
  issues.sort((a, b) => a.line - b.line || a.col - b.col || a.code.localeCompare(b.code));
  if (issues.length > MAX_CHARTER_ISSUES) {
    const rest = issues.length - (MAX_CHARTER_ISSUES - 1);
    const last = issues[MAX_CHARTER_ISSUES - 2];
    issues.splice(MAX_CHARTER_ISSUES - 1);
    issues.push({
      file,
      line: last?.line ?? 1,
      col: last?.col ?? 1,
      code: 'LANES_CHARTER_TOO_MANY_ISSUES',
      message: `${rest} more issues are not shown.`,
      hint: CHARTER_ISSUE_CODES.LANES_CHARTER_TOO_MANY_ISSUES,
      severity: 'error',
      path: '',
    });
  }
  const usable = charter !== undefined && issues.every((i) => NON_BLOCKING_ISSUE_CODES.has(i.code));
  return usable ? { charter, issues } : { issues };
};

type MakeIssue = (
  code: CharterIssueCode,
  position: Position,
  message: string,
  hint: string,
  path?: string,
  suggestion?: string,
) => CharterIssue;

const issueMaker =
  (file: string): MakeIssue =>
  (code, { line, col }, message, hint, path = '', suggestion) => ({
    file,
    line,
    col,
    code,
    message,
    hint,
    severity: 'error',
    path,
    ...(suggestion ? { suggestion } : {}),
  });

type YamlRead = { doc: Document; counter: LineCounter; raw: Json } | { issues: CharterIssue[] };

/** The YAML stage: limits, syntax, aliases. Issues stop the pipeline here. */
const readYaml = (text: string, issue: MakeIssue): YamlRead => {
  const tooLarge = yamlTextProblem(text, 'the charter', CHARTER_YAML_LIMITS);
  if (tooLarge) {
    const hint = CHARTER_ISSUE_CODES.LANES_CHARTER_TOO_LARGE;
    return {
      issues: [issue('LANES_CHARTER_TOO_LARGE', textPosition(text, tooLarge.offset), `${tooLarge.message}.`, hint)],
    };
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: counter,
    keepSourceTokens: true,
    prettyErrors: false,
    uniqueKeys: true,
  });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((error) => {
      const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      const hint =
        error.code === 'DUPLICATE_KEY'
          ? 'remove or rename one of the two keys; each key may appear once per mapping'
          : error.code === 'MULTIPLE_DOCS'
            ? 'keep one YAML document in lanes.yaml (remove the extra ---)'
            : CHARTER_ISSUE_CODES.LANES_CHARTER_YAML_SYNTAX;
      const position = counter.linePos(error.pos[0]);
      return issue('LANES_CHARTER_YAML_SYNTAX', position, `${message}.`.replace(/\.\.$/, '.'), hint);
    });
    return { issues };
  }
  const expanded = yamlDocumentsProblem([doc], 'the charter', CHARTER_YAML_LIMITS);
  if (expanded) {
    const hint = CHARTER_ISSUE_CODES.LANES_CHARTER_TOO_LARGE;
    return {
      issues: [issue('LANES_CHARTER_TOO_LARGE', counter.linePos(expanded.offset), `${expanded.message}.`, hint)],
    };
  }
  try {
    return { doc, counter, raw: yamlToJs(doc) };
  } catch (error) {
    // An alias that cannot be resolved: point at the first alias.
    let offset = 0;
    visit(doc, {
      Alias(_, node) {
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const hint = CHARTER_ISSUE_CODES.LANES_CHARTER_YAML_SYNTAX;
    return {
      issues: [issue('LANES_CHARTER_YAML_SYNTAX', counter.linePos(offset), `${(error as Error).message}.`, hint)],
    };
  }
};

/**
 * Parses and validates the text of a `lanes.yaml`. `file` is only used in the
 * issues; `now` decides which delegations have expired. Text over the limits
 * of `CHARTER_YAML_LIMITS` gives one LANES_CHARTER_TOO_LARGE issue, before
 * anything is parsed.
 */
export const parseCharter = (text: string, file: string, now: Date): CharterLoadResult => {
  const issue = issueMaker(file);
  const read = readYaml(text, issue);
  if ('issues' in read) return finish(file, read.issues, undefined);
  const { doc, counter, raw } = read;

  if (raw === null || raw === undefined) {
    const hint = CHARTER_ISSUE_CODES.LANES_CHARTER_EMPTY;
    return finish(file, [issue('LANES_CHARTER_EMPTY', { line: 1, col: 1 }, 'the charter is empty.', hint)], undefined);
  }
  if (!isRecord(raw)) {
    const kind = Array.isArray(raw) ? 'a list' : `a ${typeof raw}`;
    return finish(
      file,
      [
        issue(
          'LANES_CHARTER_SCHEMA',
          positionOf(doc, counter, [], 'value'),
          `the charter must be a mapping of fields (version, workspace, people, teams, …), not ${kind}.`,
          'start from `lanes init`, which writes a commented example',
        ),
      ],
      undefined,
    );
  }

  const parsed = charterSchema.safeParse(raw);
  const pathIssues: PathIssue[] = parsed.success ? [] : schemaIssues(parsed.error, raw);
  pathIssues.push(...checkCharterParts(parsed.success ? partsOfCharter(parsed.data) : salvageParts(raw), now));

  const issues = pathIssues.map((p) => {
    const inValue = p.offset === undefined ? undefined : { text, offset: p.offset };
    const position = positionOf(doc, counter, p.path, p.at, inValue);
    return issue(p.code, position, p.message, p.hint, formatCharterPath(p.path), p.suggestion);
  });
  return finish(file, issues, parsed.success ? parsed.data : undefined);
};
