import { RE2JS, RE2JSSyntaxException } from 're2js';

/**
 * Regular expressions written by people outside the code (charter decision
 * rules today) run in RE2JS, a pure-JavaScript port of RE2: matching takes
 * time linear in the input, whatever the pattern, so a title such as
 * `aaaa…a!` cannot stall the server on `^(a+)+$` the way a backtracking
 * `RegExp` does (see docs/ARCHITECTURE.md, "Design choices"). RE2 drops the
 * constructs that need backtracking — lookahead, lookbehind, backreferences,
 * possessive quantifiers, atomic groups — and `checkLinearPattern` says, for
 * each, what to write instead.
 */

/** A compiled pattern; `test` finds a match anywhere in the text, like `RegExp.prototype.test`. */
export interface LinearPattern {
  readonly source: string;
  test(text: string): boolean;
}

/** Why a pattern cannot run, and where: `index` is the offset in the pattern's text. */
export interface PatternProblem {
  index: number;
  message: string;
  /** What to write instead, in one sentence. */
  hint: string;
}

/** Options of a pattern; `caseInsensitive` is what the `i` flag of a JavaScript RegExp does. */
export interface LinearPatternOptions {
  caseInsensitive?: boolean;
}

const RE2_SYNTAX = 'https://github.com/google/re2/wiki/Syntax';

interface Construct {
  /** The text that starts the construct at the current position, or a test of it. */
  match: (source: string, at: number) => number;
  /** Where to point, from the match's start (the extra `+` of a possessive quantifier). */
  point?: number;
  message: string;
  hint: string;
}

const literal =
  (...prefixes: string[]) =>
  (source: string, at: number): number =>
    prefixes.find((p) => source.startsWith(p, at))?.length ?? 0;

/** Constructs of JavaScript or PCRE patterns that RE2 does not run, outside character classes. */
const UNSUPPORTED: readonly Construct[] = [
  {
    match: literal('(?<=', '(?<!'),
    message: 'lookbehind `(?<=…)` / `(?<!…)` is not supported',
    hint: 'match the preceding text itself (e.g. `(?<=v)\\d+` → `v\\d+`), or split the condition into two rules',
  },
  {
    match: literal('(?=', '(?!'),
    message: 'lookahead `(?=…)` / `(?!…)` is not supported',
    hint: 'match the following text itself (e.g. `adr(?=:)` → `adr:`), or split the condition into two rules',
  },
  {
    match: literal('(?>'),
    message: 'atomic groups `(?>…)` are not supported',
    hint: 'write a plain group `(?:…)`: RE2 never backtracks, so the group needs no protection',
  },
  {
    match: (s, at) => /^\\(?:[1-9]\d*|k<[^>]*>)/.exec(s.slice(at, at + 40))?.[0].length ?? 0,
    message: 'backreferences (`\\1`, `\\k<name>`) are not supported',
    hint: 'spell the repeated text out, or list the alternatives (e.g. `(a|b)\\1` → `aa|bb`)',
  },
  {
    match: (s, at) => /^[*+?}]\+/.exec(s.slice(at, at + 2))?.[0].length ?? 0,
    point: 1,
    message: 'possessive quantifiers (`*+`, `++`, `?+`, `{n}+`) are not supported',
    hint: 'drop the extra `+` (e.g. `a++` → `a+`): RE2 never backtracks, so the result is the same',
  },
  {
    match: (s, at) => /^\\u(?:[0-9A-Fa-f]{4}|\{[0-9A-Fa-f]+\})/.exec(s.slice(at, at + 12))?.[0].length ?? 0,
    message: 'the escape `\\u…` is JavaScript syntax',
    hint: 'write the code point as `\\x{…}` (e.g. `\\u00e9` → `\\x{00e9}`)',
  },
  {
    match: literal('\\Z'),
    message: 'the escape `\\Z` is not supported',
    hint: 'write `$` (or `\\z`) for the end of the text',
  },
];

/** The first construct RE2 cannot run, skipping escaped characters and the inside of character classes. */
const findUnsupported = (source: string): PatternProblem | undefined => {
  let inClass = false;
  for (let at = 0; at < source.length; at++) {
    const char = source[at];
    if (!inClass) {
      for (const construct of UNSUPPORTED) {
        if (construct.match(source, at) > 0)
          return { index: at + (construct.point ?? 0), message: construct.message, hint: construct.hint };
      }
    }
    if (char === '\\') at++;
    else if (char === '[' && !inClass) {
      inClass = true;
      if (source[at + 1] === '^') at++;
      if (source[at + 1] === ']') at++; // `[]…]` and `[^]…]`: a leading ] is literal
    } else if (char === ']' && inClass) inClass = false;
  }
  return undefined;
};

const FLAG_PREFIX = '(?i)';

/** RE2's own error, positioned at the part of the pattern it quotes. */
const re2Problem = (source: string, error: unknown): PatternProblem => {
  const syntax = error instanceof RE2JSSyntaxException;
  const description = syntax ? error.getDescription() : error instanceof Error ? error.message : String(error);
  let fragment = syntax ? error.getPattern() : null;
  if (fragment?.startsWith(FLAG_PREFIX) && !source.includes(fragment)) fragment = fragment.slice(FLAG_PREFIX.length);
  const found = fragment ? source.indexOf(fragment) : -1;
  return {
    index: found < 0 ? 0 : found,
    message: `${description}${fragment ? ` at \`${fragment}\`` : ''}`,
    hint: `write the pattern in RE2 syntax (${RE2_SYNTAX})`,
  };
};

/**
 * Compiles a pattern for linear-time matching, or says why it cannot run.
 * Compile once (per charter load) and reuse: compiling costs far more than a
 * match.
 */
export const compileLinearPattern = (
  source: string,
  options: LinearPatternOptions = {},
): { pattern: LinearPattern } | { problem: PatternProblem } => {
  try {
    const compiled = RE2JS.compile(source, options.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
    return { pattern: { source, test: (text: string) => compiled.test(text) } };
  } catch (error) {
    return { problem: findUnsupported(source) ?? re2Problem(source, error) };
  }
};

/** The problem of a pattern, or undefined when RE2 can run it. */
export const checkLinearPattern = (source: string, options: LinearPatternOptions = {}): PatternProblem | undefined => {
  const result = compileLinearPattern(source, options);
  return 'problem' in result ? result.problem : undefined;
};

/**
 * Compiles a pattern that has passed `checkLinearPattern`.
 * @throws Error naming the problem when it has not (a programming error, not bad input).
 */
export const linearPattern = (source: string, options: LinearPatternOptions = {}): LinearPattern => {
  const result = compileLinearPattern(source, options);
  if ('problem' in result) throw new Error(`pattern ${JSON.stringify(source)}: ${result.problem.message}`);
  return result.pattern;
};
