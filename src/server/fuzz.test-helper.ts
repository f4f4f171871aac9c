import fc from 'fast-check';
import { z } from 'zod';
import { sql } from 'kysely';
import type { Database } from '../store/database.js';
import type { RouteSpec } from './route.js';

/**
 * Generators of hostile requests for the property test of every write route:
 * a plausible body derived from the route's own zod schema, then broken in
 * one place, or replaced by something that is not what the route reads at all.
 */

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  format?: string;
  minLength?: number;
  minimum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  default?: unknown;
};

const STRING_BY_FORMAT: Record<string, string> = {
  email: 'member@acme.example',
  'date-time': '2026-05-01T12:00:00Z',
  date: '2026-05-01',
  uri: 'https://example.com/hook',
  url: 'https://example.com/hook',
  uuid: '6f1c7c8e-3c1a-4d5e-9f60-0d9b4c1e2a77',
};

/** One value the schema accepts, as far as a JSON Schema says (patterns and refinements aside). */
export const plausibleValue = (s: JsonSchema | undefined, depth = 0): unknown => {
  if (!s || depth > 8) return null;
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  const union = s.anyOf ?? s.oneOf;
  if (union?.length) return plausibleValue(union.find((u) => u.type !== 'null') ?? union[0], depth + 1);
  if (s.allOf?.length) return plausibleValue(s.allOf[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'string':
      return STRING_BY_FORMAT[s.format ?? ''] ?? 'x'.repeat(Math.max(1, s.minLength ?? 1));
    case 'integer':
    case 'number':
      return Math.max(1, s.minimum ?? (s.exclusiveMinimum ?? 0) + 1);
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, (_, i) =>
        plausibleValue(s.prefixItems?.[i] ?? s.items, depth + 1),
      );
    case 'object':
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, plausibleValue(v, depth + 1)]));
    default:
      return s.default ?? null;
  }
};

/**
 * Valid bodies for routes whose schema cannot say enough (an event batch is
 * checked in the domain; a token's scopes, an SLO's YAML), so that mutations
 * reach storage. PAY-1 is an item the test creates first.
 */
export const SEED_BODIES: Readonly<Record<string, unknown>> = {
  'POST /api/v1/events': {
    events: [
      {
        source: 'deploys',
        sourceEventId: 'fuzz-1',
        occurredAt: '2026-05-01T12:00:00Z',
        actor: { kind: 'email', id: 'pm@acme.example', name: 'PM' },
        item: { key: 'PAY-1', kind: 'bug', title: 'Refund fails', component: 'ledger', severity: 'high' },
        change: { kind: 'commented', text: 'still failing', data: { n: 1 } },
        payload: { raw: { nested: [1, 'two'] } },
      },
    ],
  },
  'POST /api/v1/tokens': { name: 'fuzz', scopes: ['read'] },
  'POST /api/v1/users': { email: 'new@acme.example', name: 'New', role: 'stakeholder', password: 'a-long-password-1' },
  'POST /api/v1/subscriptions': { target: { kind: 'item', key: 'PAY-1' }, channel: 'feed', cadence: 'immediate' },
  'PUT /api/v1/slos': {
    yaml: [
      'apiVersion: openslo/v1',
      'kind: SLO',
      'metadata: { name: checkout-availability, labels: { lanes.dev/team: payments } }',
      'spec:',
      '  service: checkout',
      '  indicator:',
      '    metadata: { name: checkout-sli }',
      '    spec:',
      '      ratioMetric:',
      '        good: { metricSource: { type: push, spec: {} } }',
      '        total: { metricSource: { type: push, spec: {} } }',
      '  budgetingMethod: Occurrences',
      '  objectives: [{ target: 0.99 }]',
      '  timeWindow: [{ duration: 28d, isRolling: true }]',
    ].join('\n'),
  },
};

/** A plausible body for a route: its seed, or one derived from its schema. */
export const plausibleBody = (route: RouteSpec): unknown =>
  SEED_BODIES[`${route.method} ${route.url}`] ?? plausibleInput(route.body);

/** A plausible input for a zod schema (body or query). */
export const plausibleInput = (schema: z.ZodType | undefined): unknown =>
  schema ? plausibleValue(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema) : undefined;

const HOSTILE_TEXT = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  "'; DROP TABLE event; --",
  '" OR 1=1 --',
  '../../../etc/passwd',
  '%00%2e%2e%2f',
  '\ud800',
  '\u202e\u0644\u0627',
  '🙂'.repeat(300),
  'x'.repeat(70_000),
  '1e309',
  '__proto__',
  'constructor',
  '2026-02-30T25:61:00Z',
  'http://169.254.169.254/latest/meta-data',
];

/** Strings a client should not be trusted with. */
export const hostileText = (): fc.Arbitrary<string> =>
  fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...HOSTILE_TEXT) }, fc.string({ maxLength: 40 }));

/** Any JSON value, mostly of the wrong type or size. */
export const hostileValue = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 4, arbitrary: hostileText() },
    fc.constantFrom(0, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 2, 1e308, 0.5, true, false, null, [], {}),
    fc.integer(),
    fc.jsonValue({ maxDepth: 3 }),
  );

type Path = (string | number)[];
const leafPaths = (value: unknown, path: Path = []): Path[] => {
  if (Array.isArray(value)) return [path, ...value.flatMap((v, i) => leafPaths(v, [...path, i]))];
  if (value !== null && typeof value === 'object') {
    return [path, ...Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...path, k]))];
  }
  return [path];
};

const setAt = (value: unknown, path: Path, replacement: unknown): unknown => {
  if (path.length === 0) return replacement;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = path as [string | number, ...Path];
  copy[head] = setAt(copy[head], rest, replacement);
  return copy;
};

/** The plausible value broken in one place: a field replaced, removed, or an unknown one added. */
export const mutated = (plausible: unknown): fc.Arbitrary<unknown> => {
  const paths = leafPaths(plausible);
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.tuple(fc.constantFrom(...paths), hostileValue()).map(([p, v]) => setAt(plausible, p, v)),
    },
    fc.constantFrom(...paths).map((p) => setAt(plausible, p, undefined)),
    fc
      .tuple(hostileText(), hostileValue())
      .map(([k, v]) =>
        plausible !== null && typeof plausible === 'object' ? { ...plausible, [k || 'extra']: v } : plausible,
      ),
    fc.constant(plausible),
  );
};

/** The plausible value with one field (any) set to `value`. */
const mutatedAt = (plausible: unknown, value: unknown): fc.Arbitrary<unknown> =>
  fc.constantFrom(...leafPaths(plausible)).map((p) => setAt(plausible, p, value));

/** Stands for a deeply nested value in a body (too deep to build as an object). */
const DEEP = 'deep-placeholder-7f3a';

/** What goes on the wire. */
export interface WireBody {
  contentType: string | undefined;
  payload: string | Buffer | undefined;
}

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** A body for a route: mostly JSON near what it expects, sometimes anything at all. */
export const wireBody = (route: RouteSpec, bodyLimit: number): fc.Arbitrary<WireBody> => {
  const near = route.body ? mutated(plausibleBody(route)) : fc.jsonValue({ maxDepth: 3 });
  const contentType = fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    fc.constantFrom(
      undefined,
      'text/plain',
      'application/json; charset=latin1',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      'application/vnd.api+json',
      'application/json, text/html',
      '*/*',
    ),
  );
  const deepLeaf = route.body
    ? fc
        .tuple(mutatedAt(plausibleBody(route), DEEP), fc.integer({ min: 60, max: 100_000 }))
        .map(([v, depth]) => (JSON.stringify(v) ?? '').replace(`"${DEEP}"`, nested(depth)))
    : fc.constant(nested(100_000));
  const text = fc.oneof(
    near.map((v) => JSON.stringify(v) ?? ''),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.integer({ min: 60, max: 100_000 }).map(nested),
    fc.integer({ min: 60, max: 20_000 }).map((d) => '<a>'.repeat(d) + '</a>'.repeat(d)),
    fc.constantFrom(
      '{"title":"a\u0000b"}',
      '{',
      '',
      'null',
      'SF:/x\nDA:1,1\nend_of_record',
      `"${'x'.repeat(bodyLimit)}"`,
    ),
    hostileText(),
  );
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ contentType, payload: near.map((v) => JSON.stringify(v) ?? 'null') }) },
    { weight: 3, arbitrary: fc.record({ contentType, payload: text }) },
    { weight: 3, arbitrary: fc.record({ contentType: fc.constant('application/json'), payload: deepLeaf }) },
    fc.record({ contentType, payload: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)) }),
    fc.record({ contentType, payload: fc.constant(undefined) }),
  );
};

const PLAUSIBLE_PARAM: Record<string, string[]> = {
  key: ['PAY-1', 'PAY/1#2'],
  email: ['member@acme.example', 'stakeholder@acme.example', 'nobody@acme.example'],
  id: ['000000000000', 'id-000001'],
  name: ['checkout-availability'],
  provider: ['github', 'jira', 'linear', 'gitlab'],
  token: ['0123456789abcdef'],
};

/** Percent-encodes a parameter; a lone surrogate (not encodable) goes as a bad escape instead. */
const encodeParam = (value: string): string => {
  try {
    return encodeURIComponent(value) || '%20';
  } catch {
    return '%ED%A0%80';
  }
};

/** A path with its parameters filled with plausible or hostile values. */
export const wirePath = (route: RouteSpec): fc.Arbitrary<string> => {
  const names = [...route.url.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
  const value = (name: string) =>
    fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom(...(PLAUSIBLE_PARAM[name] ?? ['x1'])) },
      hostileText().map((s) => s.slice(0, 400)),
    );
  return fc
    .tuple(...names.map(value))
    .map((values) => names.reduce((url, name, i) => url.replace(`:${name}`, encodeParam(values[i] ?? '')), route.url));
};

/** A query string near what the route reads, if it reads one. */
export const wireQuery = (route: RouteSpec): fc.Arbitrary<Record<string, string>> => {
  if (!route.query) return fc.constant({});
  return mutated(plausibleInput(route.query)).map((q) =>
    Object.fromEntries(
      Object.entries(q !== null && typeof q === 'object' ? q : {})
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    ),
  );
};

/**
 * Tables a refused request may write by design: sign-in attempt windows count
 * refused sign-ins; `meta` gets the server's signing key the first time a
 * link is checked.
 */
const BOOKKEEPING = new Set(['rate_limit_window', 'meta']);

/** Rows per table, in one statement: every table of the schema but the bookkeeping ones. */
export const tableCounter = async (database: Database): Promise<() => Promise<Record<string, number>>> => {
  const names =
    database.engine === 'sqlite'
      ? await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'
          AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'kysely_%' AND name NOT LIKE '%_fts%'`.execute(database.db)
      : await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
          AND table_name NOT LIKE 'kysely_%'`.execute(database.db);
  const tables = names.rows.map((r) => r.name).filter((n) => !BOOKKEEPING.has(n));
  const query = sql.join(
    tables.map((t) => sql`SELECT ${t} AS name, count(*) AS n FROM ${sql.table(t)}`),
    sql` UNION ALL `,
  );
  return async () => {
    const { rows } = await sql<{ name: string; n: number | string }>`${query}`.execute(database.db);
    return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
  };
};
