import fc from 'fast-check';
import { parseAllDocuments, parseDocument, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_YAML_LIMITS,
  MIB,
  textPosition,
  utf8Length,
  yamlDocumentsProblem,
  yamlTextProblem,
  yamlToJs,
} from './yaml.guard.js';
import { BILLION_LAUGHS } from './yaml.guard.test-helper.js';

const check = (text: string) =>
  yamlTextProblem(text, 'the file') ?? yamlDocumentsProblem(parseAllDocuments(text) as never, 'the file');

describe('YAML limits', () => {
  it('refuse a billion laughs at the alias where it blows past the limit', () => {
    const problem = check(BILLION_LAUGHS);
    expect(problem?.message).toBe('the file expands to more than 1,000,000 values (through its aliases)');
    expect(textPosition(BILLION_LAUGHS, problem!.offset).line).toBe(7);
  });

  it('refuse one big list aliased many times, aliases inside their own anchor, and too many anchors', () => {
    const wide = `x: &x [${Array(20_000).fill('1').join(',')}]\ny: [${Array(60).fill('*x').join(',')}]`;
    expect(check(wide)?.message).toMatch(/more than 1,000,000 values/);
    expect(check('a: &a [1, *a]')?.message).toBe('the file uses the alias *a inside its own anchor (a cycle)');
    expect(check('a: *b\nb: &b 1')?.message).toMatch(/before its anchor/);
    const anchors = Array.from({ length: 1001 }, (_, i) => `k${i}: &a${i} v`).join('\n');
    expect(check(anchors)?.message).toBe('the file has more than 1000 anchors and aliases');
  });

  it('refuse deep nesting before the parser sees it, in flow and block style', () => {
    for (const deep of [
      '['.repeat(100_000) + ']'.repeat(100_000),
      `${'- '.repeat(50_000)}x`,
      Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      `x: {a: ${'['.repeat(200)}${']'.repeat(200)}}`,
      `\uFEFF${'- '.repeat(50_000)}x`,
      `a: |\n  text\n${'? '.repeat(50_000)}x`,
    ]) {
      expect(yamlTextProblem(deep, 'the file')?.message).toBe(
        'the file is nested or indented too deeply here; Lanes reads at most 64 levels',
      );
    }
    // A chain of aliases nests deeper than the text shows.
    const chain = Array.from({ length: 100 }, (_, i) => `a${i}: &a${i} [${i === 0 ? '1' : `*a${i - 1}`}]`).join('\n');
    expect(yamlTextProblem(chain, 'the file')).toBeUndefined();
    expect(check(chain)?.message).toBe('the file is nested more than 64 levels deep');
  });

  it('bound the nesting from above, whatever the style: never too shallow, and quiet on ordinary depths', () => {
    const nested = (kinds: readonly boolean[]): unknown =>
      kinds.reduceRight<unknown>((inner, isMap) => (isMap ? { k: inner } : [inner]), 'x');
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom('block' as const, 'flow' as const),
        (kinds, indent, collectionStyle) => {
          const text = stringify(nested(kinds), { indent, collectionStyle });
          const problem = yamlTextProblem(text, 'the file');
          if (kinds.length > 4 * DEFAULT_YAML_LIMITS.maxDepth) expect(problem).toBeDefined();
          if (kinds.length <= 30 && indent <= 2) expect(problem).toBeUndefined();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuse text over the byte limit, counting UTF-8 bytes', () => {
    expect(yamlTextProblem(`a: "${'x'.repeat(MIB)}"`, 'the file')?.message).toBe(
      'the file is 1,048,581 bytes; Lanes reads at most 1 MiB',
    );
    const accents = `a: "${'é'.repeat(600_000)}"`; // 600,006 characters, 1,200,005 bytes
    expect(yamlTextProblem(accents, 'the file')?.message).toMatch(/^the file is 1,200,005 bytes/);
    expect(utf8Length('aé€😀')).toBe(1 + 2 + 3 + 4);
  });

  it('let ordinary documents through, aliases, block scalars and long lines included', () => {
    const text = [
      'defaults: &defaults { decides: engineering, consulted: [product] }',
      'domains:',
      '  - { id: eng.a, <<: *defaults }',
      '  - id: eng.b',
      '    raci: *defaults',
      'note: |',
      `${'                    indented text\n'.repeat(50)}`,
      `long: [${Array(5000).fill('{a: [1, 2]}').join(', ')}]`,
    ].join('\n');
    expect(check(text)).toBeUndefined();
    const value = yamlToJs(parseDocument(text)) as { domains: Array<Record<string, unknown>> };
    expect(value.domains[1]).toEqual({ id: 'eng.b', raci: { decides: 'engineering', consulted: ['product'] } });
    expect(DEFAULT_YAML_LIMITS).toEqual({ maxBytes: MIB, maxDepth: 64, maxNodes: 1_000_000, maxAnchors: 1000 });
  });

  it('position problems found before parsing', () => {
    expect(textPosition('ab\ncd\nef', 0)).toEqual({ line: 1, col: 1 });
    expect(textPosition('ab\ncd\nef', 4)).toEqual({ line: 2, col: 2 });
    expect(textPosition('ab\ncd\nef', 6)).toEqual({ line: 3, col: 1 });
  });
});
