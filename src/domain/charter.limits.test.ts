import { describe, expect, it } from 'vitest';
import { MAX_CHARTER_BYTES, parseCharter } from './charter.parse.js';
import { STARTER_CHARTER } from './charter.template.js';
import { buildDecisionRules, decisionOf } from './decision.rules.js';
import { loggedEvent } from './event.test-helper.js';
import { BILLION_LAUGHS } from './yaml.guard.test-helper.js';

const NOW = new Date('2026-06-01T12:00:00Z');

/** The starter charter with a `decision_rules` section whose rules match these titles. */
const withTitleRules = (...titles: string[]): string =>
  `${STARTER_CHARTER}decision_rules:\n  rules:\n${titles
    .map(
      (title, i) => `    - id: rule-${i}\n      domain: eng.architecture\n      when:\n        item_title: ${title}\n`,
    )
    .join('')}`;

/** 1-based line and column of `needle` in `text`, plus `shift` columns. */
const at = (text: string, needle: string, shift = 0): { line: number; col: number } => {
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  return { line: line + 1, col: lines[line]!.indexOf(needle) + 1 + shift };
};

describe('charter patterns', () => {
  it('point at the construct RE2 cannot run inside the string, in every YAML quoting style', () => {
    const text = withTitleRules('"^(a+)+$"', '"adr(?=:)"', "'(?<=v)\\d+'", '(a)\\1', '"x\\\\d(?<!y)"');
    const { charter, issues } = parseCharter(text, 'lanes.yaml', NOW);
    expect(charter).toBeUndefined();
    expect(issues.map((i) => [i.code, i.line, i.col, i.path])).toEqual([
      ['LANES_CHARTER_PATTERN', ...Object.values(at(text, '"adr(?=:)"', 4)), 'decision_rules.rules[1].when.item_title'],
      ['LANES_CHARTER_PATTERN', ...Object.values(at(text, "'(?<=v)", 1)), 'decision_rules.rules[2].when.item_title'],
      ['LANES_CHARTER_PATTERN', ...Object.values(at(text, '(a)\\1', 3)), 'decision_rules.rules[3].when.item_title'],
      // "x\\d(?<!y)" is the pattern x\d(?<!y): the escaped backslash takes two characters of the source.
      ['LANES_CHARTER_PATTERN', ...Object.values(at(text, '"x\\\\d', 5)), 'decision_rules.rules[4].when.item_title'],
    ]);
    expect(issues[0]).toMatchObject({
      message: 'decision_rules.rules[1].when.item_title: lookahead `(?=…)` / `(?!…)` is not supported.',
      hint: 'match the following text itself (e.g. `adr(?=:)` → `adr:`), or split the condition into two rules',
    });
    expect(issues[2]?.message).toMatch(/backreferences/);
  });

  it('load a charter whose patterns RE2 runs, compiled once, matching case-insensitively as before', () => {
    const { charter, issues } = parseCharter(withTitleRules('"^(a+)+$"', '^\\[?ADR-\\d+'), 'lanes.yaml', NOW);
    expect(issues).toEqual([]);
    const rules = buildDecisionRules(charter!.decision_rules);
    const closed = loggedEvent({ kind: 'closed' });
    expect(decisionOf(closed, { kind: 'task', title: '[adr-12] Use Kafka' }, rules)?.rule).toBe('rule-1');
    expect(decisionOf(closed, { kind: 'task', title: `${'a'.repeat(29)}!` }, rules)).toBeNull();
  });
});

describe('charter limits', () => {
  it('refuse a charter over 1 MiB before parsing it', () => {
    const people = Array.from({ length: 110_000 }, (_, i) => `  - { id: p${i}, name: Person ${i}, role: engineer }\n`);
    const text = STARTER_CHARTER.replace('people:\n', `people:\n${people.join('')}`);
    expect(text.length).toBeGreaterThan(5 * MAX_CHARTER_BYTES);
    const { charter, issues } = parseCharter(text, 'lanes.yaml', NOW);
    expect(charter).toBeUndefined();
    expect(issues).toEqual([
      expect.objectContaining({
        code: 'LANES_CHARTER_TOO_LARGE',
        line: 1,
        col: 1,
        message: expect.stringMatching(/^the charter is [\d,]+ bytes; Lanes reads at most 1 MiB\.$/),
      }),
    ]);
  });

  it('refuse more than 10,000 people', () => {
    const people = Array.from({ length: 10_001 }, (_, i) => `  - { id: p${i}, name: P, role: engineer }\n`);
    const text = STARTER_CHARTER.replace('people:\n', `people:\n${people.join('')}`);
    expect(text.length).toBeLessThan(MAX_CHARTER_BYTES);
    const { charter, issues } = parseCharter(text, 'lanes.yaml', NOW);
    expect(charter).toBeUndefined();
    expect(issues).toContainEqual(
      expect.objectContaining({
        code: 'LANES_CHARTER_SCHEMA',
        path: 'people',
        message: 'people: at most 10,000 people.',
      }),
    );
  });

  it('refuse a billion laughs and deep nesting with their position, and keep ordinary aliases working', () => {
    const bomb = parseCharter(`${STARTER_CHARTER}${BILLION_LAUGHS.replace(/^(\w):/gm, 'x-$1:')}\n`, 'lanes.yaml', NOW);
    expect(bomb.issues).toEqual([
      expect.objectContaining({
        code: 'LANES_CHARTER_TOO_LARGE',
        line: STARTER_CHARTER.split('\n').length + 6,
        message: 'the charter expands to more than 1,000,000 values (through its aliases).',
      }),
    ]);
    const deep = parseCharter(`${STARTER_CHARTER}x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`, 'lanes.yaml', NOW);
    expect(deep.issues).toEqual([
      expect.objectContaining({
        code: 'LANES_CHARTER_TOO_LARGE',
        line: STARTER_CHARTER.split('\n').length,
        message: 'the charter is nested or indented too deeply here; Lanes reads at most 64 levels.',
      }),
    ]);
    const aliased = STARTER_CHARTER.replace('members: [', 'members: &checkout [');
    expect(aliased).not.toBe(STARTER_CHARTER);
    expect(parseCharter(aliased, 'lanes.yaml', NOW).issues).toEqual([]);
  });
});
