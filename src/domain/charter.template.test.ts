import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseCharter } from './charter.parse.js';
import { resolveRights } from './charter.rights.js';
import { charterJsonSchema } from './charter.schema.js';
import { STARTER_CHARTER } from './charter.template.js';

type JsonSchema = Record<string, unknown>;

/**
 * Checks `value` against the subset of JSON Schema that `charterJsonSchema()`
 * uses, returning the paths that fail. Enough to show an editor would accept
 * the starter, without a validator dependency.
 */
const violations = (schema: JsonSchema, value: unknown, path = '$'): string[] => {
  const fail = (why: string): string[] => [`${path}: ${why}`];
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key] as JsonSchema[] | undefined;
    if (options && !options.some((option) => violations(option, value, path).length === 0))
      return fail(`no ${key} branch`);
  }
  if ('const' in schema && schema['const'] !== value) return fail(`expected ${JSON.stringify(schema['const'])}`);
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) return fail('not in enum');
  const type = schema['type'];
  if (type === 'object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail('expected object');
    const record = value as Record<string, unknown>;
    const properties = (schema['properties'] ?? {}) as Record<string, JsonSchema>;
    const out: string[] = [];
    for (const key of (schema['required'] ?? []) as string[])
      if (!(key in record)) out.push(`${path}.${key}: required`);
    for (const [key, child] of Object.entries(record)) {
      const sub = properties[key];
      if (sub) out.push(...violations(sub, child, `${path}.${key}`));
      else if (schema['additionalProperties'] === false) out.push(`${path}.${key}: not allowed`);
      else if (typeof schema['additionalProperties'] === 'object')
        out.push(...violations(schema['additionalProperties'] as JsonSchema, child, `${path}.${key}`));
      if (schema['propertyNames'])
        out.push(...violations(schema['propertyNames'] as JsonSchema, key, `${path}{${key}}`));
    }
    return out;
  }
  if (type === 'array') {
    if (!Array.isArray(value)) return fail('expected array');
    if (typeof schema['minItems'] === 'number' && value.length < schema['minItems']) return fail('too few items');
    return value.flatMap((item, i) => violations((schema['items'] ?? {}) as JsonSchema, item, `${path}[${i}]`));
  }
  if (type === 'string') {
    if (typeof value !== 'string') return fail('expected string');
    if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern'], 'u').test(value))
      return fail('pattern');
    if (typeof schema['minLength'] === 'number' && value.length < schema['minLength']) return fail('too short');
    return [];
  }
  if (type === 'number' && typeof value !== 'number') return fail('expected number');
  return [];
};

describe('STARTER_CHARTER', () => {
  const now = new Date('2026-06-01T12:00:00Z');

  it('passes parseCharter with zero issues, today and in 2098', () => {
    expect(parseCharter(STARTER_CHARTER, 'lanes.yaml', now).issues).toEqual([]);
    expect(parseCharter(STARTER_CHARTER, 'lanes.yaml', new Date('2098-06-01T00:00:00Z')).issues).toEqual([]);
  });

  it('starts with the editor schema hint and shows each section once', () => {
    expect(STARTER_CHARTER.split('\n')[0]).toBe('# yaml-language-server: $schema=./lanes.schema.json');
    const { charter } = parseCharter(STARTER_CHARTER, 'lanes.yaml', now);
    expect(charter?.teams).toHaveLength(1);
    expect(charter?.people).toHaveLength(5);
    expect(Object.keys(charter?.teams[0]?.decisions ?? {})).toHaveLength(1);
    expect(charter?.delegations?.[0]?.until).toBe('2099-12-31');
    expect(Object.keys(charter?.response_targets ?? {})).toEqual(['critical', 'high', 'medium', 'low']);
    expect(STARTER_CHARTER).toMatch(/^# {3}github:\n# {5}repos:/m);
    expect(STARTER_CHARTER).toMatch(/^# {3}jira:\n# {5}projects:/m);
  });

  it('resolves to a complete matrix with the delegation in force', () => {
    const { charter } = parseCharter(STARTER_CHARTER, 'lanes.yaml', now);
    const triage = resolveRights(charter!, now).domains.find((d) => d.id === 'eng.bug-triage')?.teams[0];
    expect(triage?.delegations.map((d) => d.to.name)).toEqual(['ana']);
  });
});

describe('charterJsonSchema', () => {
  const schema = charterJsonSchema();

  it('describes the charter sections for editors', () => {
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    const properties = schema['properties'] as Record<string, unknown>;
    for (const key of [
      'version',
      'workspace',
      'groups',
      'people',
      'teams',
      'domains',
      'delegations',
      'response_targets',
      'connectors',
      'trusted_sources',
    ])
      expect(properties).toHaveProperty(key);
    expect(schema['required']).toEqual(expect.arrayContaining(['version', 'workspace', 'people', 'teams']));
  });

  it('accepts the starter charter and rejects an unknown field', () => {
    const starter: unknown = parseYaml(STARTER_CHARTER);
    expect(violations(schema, starter)).toEqual([]);
    const broken = { ...(starter as Record<string, unknown>), peple: [] };
    expect(violations(schema, broken)).toEqual(['$.peple: not allowed']);
  });
});
