import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURE_TITLE } from './decision.rules.js';
import { checkLinearPattern, compileLinearPattern, linearPattern } from './linear.regex.js';

describe('linear patterns', () => {
  it('answer the catastrophic-backtracking pattern of the finding correctly, however long the text', () => {
    const nested = linearPattern('^(a+)+$', { caseInsensitive: true });
    expect(nested.test(`${'a'.repeat(29)}!`)).toBe(false);
    expect(nested.test(`${'a'.repeat(100_000)}!`)).toBe(false);
    expect(nested.test('a'.repeat(100_000))).toBe(true);
    expect(nested.test('A'.repeat(29))).toBe(true);
  });

  it('match like a case-insensitive JavaScript RegExp on the patterns people write', () => {
    const patterns = [
      ARCHITECTURE_TITLE,
      '^\\[?rfc\\b',
      'design|roadmap',
      '^(adr|rfc)-\\d+',
      'q[1-4] okr$',
      '(?:a|b)+c',
    ];
    fc.assert(
      fc.property(fc.constantFrom(...patterns), fc.string({ maxLength: 40 }), (source, text) => {
        expect(linearPattern(source, { caseInsensitive: true }).test(text)).toBe(new RegExp(source, 'iu').test(text));
      }),
      { numRuns: 500 },
    );
    const adr = linearPattern(ARCHITECTURE_TITLE, { caseInsensitive: true });
    expect(
      ['ADR-12: use Kafka', '[RFC] retries', 'Design Doc: checkout', 'Technical design of search'].map(adr.test),
    ).toEqual([true, true, true, true]);
    expect(adr.test('Fix the adrenaline typo')).toBe(false);
    expect(linearPattern('straße').test('STRASSE')).toBe(false);
    expect(linearPattern('é', { caseInsensitive: true }).test('CAFÉ')).toBe(true);
  });

  it.each([
    ['(?=x)', 0, /lookahead/, /match the following text itself/],
    ['ab(?!x)', 2, /lookahead/, /match the following text itself/],
    ['(?<=x)y', 0, /lookbehind/, /match the preceding text itself/],
    ['a(?<!x)', 1, /lookbehind/, /match the preceding text itself/],
    ['(a)\\1', 3, /backreferences/, /spell the repeated text out/],
    ['(?<n>a)\\k<n>', 7, /backreferences/, /spell the repeated text out/],
    ['x{2}+', 4, /possessive/, /drop the extra `\+`/],
    ['a*+b', 2, /possessive/, /drop the extra `\+`/],
    ['(?>ab)', 0, /atomic/, /plain group/],
    ['caf\\u00e9', 3, /JavaScript syntax/, /\\x\{…\}/],
    ['done\\Z', 4, /\\Z/, /write `\$`/],
  ])('refuse %s at offset %i and say what to write instead', (source, index, message, hint) => {
    const problem = checkLinearPattern(source, { caseInsensitive: true });
    expect(problem?.index).toBe(index);
    expect(problem?.message).toMatch(message);
    expect(problem?.hint).toMatch(hint);
  });

  it("report RE2's own error at the part it quotes, and accept RE2 syntax JavaScript lacks", () => {
    expect(checkLinearPattern('adr|(rfc', { caseInsensitive: true })).toEqual({
      index: 0,
      message: 'missing closing ) at `adr|(rfc`',
      hint: expect.stringContaining('RE2 syntax'),
    });
    expect(checkLinearPattern('[z-a]')).toMatchObject({ index: 1, message: expect.stringMatching(/range/) });
    expect(checkLinearPattern('a{1001}')).toMatchObject({ message: expect.stringMatching(/repeat count/) });
    for (const ok of ['[(?=]', '\\\\1', '(?<name>x)', '(?P<name>x)', '\\pL+', '[[:alpha:]]', '\\x{1F600}'])
      expect(checkLinearPattern(ok), ok).toBeUndefined();
    expect(() => linearPattern('(?=x)')).toThrow(/lookahead/);
    expect('problem' in compileLinearPattern('(')).toBe(true);
  });
});
