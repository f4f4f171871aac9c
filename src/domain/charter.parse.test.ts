import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatCharterPath, MAX_CHARTER_ISSUES, parseCharter } from './charter.parse.js';
import { STARTER_CHARTER } from './charter.template.js';
import { CHARTER_ISSUE_CODES, type CharterIssue, type CharterIssueCode } from './charter.validate.js';

const NOW = new Date('2026-06-01T12:00:00Z');

/** A valid charter with two teams; tests break one thing at a time with `edit`. */
const BASE = `version: 1
workspace:
  id: acme
  name: Acme
people:
  - id: alice
    name: Alice Martin
    role: product-manager
  - id: dana
    name: Dana Kim
    role: designer
  - id: tom
    name: Tom Lee
    role: tech-lead
  - id: ana
    name: Ana Ruiz
    role: engineer
  - id: bob
    name: Bob Stone
    role: engineer
  - id: hana
    name: Hana Ito
    role: product-manager
  - id: yuki
    name: Yuki Sato
    role: designer
  - id: marc
    name: Marc Diaz
    role: engineering-manager
  - id: erin
    name: Erin Park
    role: engineering-leadership
teams:
  - id: payments
    name: Payments
    members: [alice, dana, tom, ana, bob]
    trio:
      product: alice
      design: dana
      tech: tom
    escalation: erin
  - id: growth
    name: Growth
    members: [hana, yuki, marc]
    trio:
      product: hana
      design: yuki
      tech: marc
    escalation: erin
    decisions:
      eng.estimation:
        decides: marc
delegations:
  - domain: eng.bug-triage
    team: payments
    from: engineering
    to: ana
    until: 2026-12-31
    reason: Ana runs triage this half.
`;

const edit = (from: string, to: string, text = BASE): string => {
  expect(text, `fixture contains ${JSON.stringify(from)}`).toContain(from);
  return text.replace(from, to);
};

/** 1-based line:col of the n-th occurrence of `needle` (plus `shift` characters) in `text`. */
const positionOf = (text: string, needle: string, shift = 0, occurrence = 1): string => {
  let offset = -1;
  for (let i = 0; i < occurrence; i++) offset = text.indexOf(needle, offset + 1);
  expect(offset, `${needle} occurs ${occurrence} time(s)`).toBeGreaterThanOrEqual(0);
  const before = text.slice(0, offset + shift).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
};

const parse = (text: string): ReturnType<typeof parseCharter> => parseCharter(text, 'lanes.yaml', NOW);
const at = (issue: CharterIssue): string => `${issue.line}:${issue.col}`;
const only = (text: string, code: CharterIssueCode): CharterIssue => {
  const { issues } = parse(text);
  expect(issues.map((i) => `${at(i)} ${i.code}: ${i.message}`)).toHaveLength(1);
  expect(issues[0]!.code).toBe(code);
  return issues[0]!;
};

describe('parseCharter', () => {
  it('accepts the base fixture and the starter charter with no issues', () => {
    expect(parse(BASE).issues).toEqual([]);
    expect(parse(BASE).charter?.teams.map((t) => t.id)).toEqual(['payments', 'growth']);
    const starter = parse(STARTER_CHARTER);
    expect(starter.issues).toEqual([]);
    expect(starter.charter?.workspace.id).toBe('acme');
  });

  it('points at a misspelt member with line:col, a hint and a suggestion', () => {
    const text = edit('members: [alice, dana, tom, ana, bob]', 'members: [alice, dana, tom, ana, bobb]');
    const issue = only(text, 'LANES_CHARTER_UNKNOWN_PERSON');
    expect(at(issue)).toBe(positionOf(text, 'bobb]'));
    expect(issue).toMatchObject({
      file: 'lanes.yaml',
      severity: 'error',
      path: 'teams[0].members[4]',
      suggestion: 'bob',
      message: 'team "payments" lists member "bobb", who is not in people.',
    });
    expect(issue.hint).toContain('did you mean "bob"?');
    expect(parse(text).charter).toBeUndefined();
  });

  it('reports YAML syntax errors at their position and stops there', () => {
    const text = edit('    name: Payments\n', '    name: "Payments\n');
    const { issues, charter } = parse(text);
    expect(charter).toBeUndefined();
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.every((i) => i.code === 'LANES_CHARTER_YAML_SYNTAX')).toBe(true);
    expect(issues[0]!.line).toBeGreaterThanOrEqual(Number(positionOf(text, '"Payments').split(':')[0]));
  });

  it('reports a duplicate key as a YAML error at the second key', () => {
    const text = edit('    name: Payments\n', '    name: Payments\n    name: Pay\n');
    const issue = only(text, 'LANES_CHARTER_YAML_SYNTAX');
    expect(at(issue)).toBe(positionOf(text, 'name: Pay\n'));
    expect(issue.message).toMatch(/unique/);
  });

  it('reports an empty file, a comment-only file and a non-mapping', () => {
    expect(only('', 'LANES_CHARTER_EMPTY')).toMatchObject({ line: 1, col: 1 });
    expect(only('# nothing yet\n', 'LANES_CHARTER_EMPTY').code).toBe('LANES_CHARTER_EMPTY');
    expect(only('- a\n- b\n', 'LANES_CHARTER_SCHEMA').message).toMatch(/must be a mapping.*not a list/);
    expect(only('just words', 'LANES_CHARTER_SCHEMA').message).toMatch(/not a string/);
  });

  it('maps schema errors to the node: wrong enum, unknown field with suggestion, missing field', () => {
    let text = edit('    role: designer\n', '    role: desginer\n');
    let issue = only(text, 'LANES_CHARTER_SCHEMA');
    expect(at(issue)).toBe(positionOf(text, 'desginer'));
    expect(issue.path).toBe('people[1].role');

    text = edit('    name: Dana Kim\n', '    nmae: Dana Kim\n');
    const { issues } = parse(text);
    expect(issues.map((i) => i.message)).toEqual([
      'missing required field "name" in people[1].',
      'unknown field "nmae" in people[1].',
    ]);
    expect(at(issues[1]!)).toBe(positionOf(text, 'nmae'));
    expect(issues[1]!.hint).toContain('did you mean "name"?');
    expect(at(issues[0]!)).toBe(positionOf(text, 'id: dana'));

    text = edit('    escalation: erin\n  - id: growth', '  - id: growth');
    issue = only(text, 'LANES_CHARTER_SCHEMA');
    expect(issue.message).toBe('missing required field "escalation" in teams[0].');
    expect(at(issue)).toBe(positionOf(text, 'id: payments'));
  });

  it('still runs the reference checks on the valid entries when the schema fails', () => {
    const text = edit(
      '    role: designer\n',
      '    role: 7\n',
      edit('[alice, dana, tom, ana, bob]', '[alice, dana, tom, ana, bobb]'),
    );
    expect(parse(text).issues.map((i) => i.code)).toEqual(['LANES_CHARTER_SCHEMA', 'LANES_CHARTER_UNKNOWN_PERSON']);
  });

  it('does not call a malformed person unknown when others refer to it', () => {
    // dana's entry is malformed, but the team's reference to dana is not the problem.
    const text = edit('    role: designer\n', '    role: painter\n');
    expect(parse(text).issues.map((i) => i.code)).toEqual(['LANES_CHARTER_SCHEMA']);
  });

  it('reports a bad date in a delegation as a schema error on until', () => {
    const text = edit('until: 2026-12-31', 'until: 2026-13-45');
    const issue = only(text, 'LANES_CHARTER_SCHEMA');
    expect(issue.path).toBe('delegations[0].until');
    expect(at(issue)).toBe(positionOf(text, '2026-13-45'));
  });

  describe('reference checks, one fixture per code', () => {
    const cases: Array<{
      code: CharterIssueCode;
      text: () => string;
      needle: string;
      message: RegExp;
      shift?: number;
    }> = [
      {
        code: 'LANES_CHARTER_DUPLICATE_ID',
        text: () => edit('  - id: bob\n', '  - id: ana\n    name: Ana Again\n    role: engineer\n  - id: bob\n'),
        needle: 'ana\n    name: Ana Again',
        message: /person id "ana" is used twice/,
      },
      {
        code: 'LANES_CHARTER_UNKNOWN_PERSON',
        text: () => edit('    escalation: erin\n  - id: growth', '    escalation: eric\n  - id: growth'),
        needle: 'eric',
        message: /escalates to "eric", who is not in people/,
      },
      {
        code: 'LANES_CHARTER_UNKNOWN_GROUP',
        text: () => edit('        decides: marc\n', '        decides: marc\n        consulted: [prodcut]\n'),
        needle: 'prodcut',
        message: /consulted "prodcut", which is neither a group nor a person id/,
      },
      {
        code: 'LANES_CHARTER_UNKNOWN_DOMAIN',
        text: () => edit('      eng.estimation:\n', '      eng.estimatoin:\n'),
        needle: 'eng.estimatoin',
        message: /"eng.estimatoin", which is not a decision domain/,
      },
      {
        code: 'LANES_CHARTER_NO_DECIDER',
        text: () => edit('        decides: marc\n', '        decides: []\n'),
        needle: '[]',
        message: /leaves nobody deciding "eng.estimation"/,
      },
      {
        code: 'LANES_CHARTER_MULTIPLE_DECIDERS',
        text: () => edit('        decides: marc\n', '        decides: [marc, product]\n'),
        needle: '[marc, product]',
        message: /2 deciders/,
      },
      {
        code: 'LANES_CHARTER_TRIO_INCOMPLETE',
        text: () => edit('      tech: marc\n', '      tech: ""\n'),
        needle: 'tech: ""',
        shift: 6,
        message: /team "growth" has no trio.tech/,
      },
      {
        code: 'LANES_CHARTER_TRIO_ROLE',
        text: () => edit('      tech: tom\n', '      tech: ana\n'),
        needle: 'tech: ana',
        shift: 6,
        message: /trio.tech "ana", who is a engineer; trio.tech must be a tech-lead or engineering-manager/,
      },
      {
        code: 'LANES_CHARTER_MEMBER_UNKNOWN',
        text: () => edit('members: [hana, yuki, marc]', 'members: [hana, marc]'),
        needle: 'design: yuki',
        shift: 8,
        message: /trio.design "yuki", who is not one of its members/,
      },
      {
        code: 'LANES_CHARTER_ESCALATION_ROLE',
        text: () => edit('    escalation: erin\n  - id: growth', '    escalation: tom\n  - id: growth'),
        needle: 'escalation: tom',
        shift: 12,
        message: /escalates to "tom", who is a tech-lead, not engineering-leadership/,
      },
      {
        code: 'LANES_CHARTER_DELEGATION_EXPIRED',
        text: () => edit('until: 2026-12-31', 'until: 2026-05-31'),
        needle: '2026-05-31',
        message: /ended on 2026-05-31/,
      },
      {
        code: 'LANES_CHARTER_DELEGATION_DANGLING',
        text: () => edit('    to: ana\n', '    to: anna\n'),
        needle: 'anna',
        message: /goes to "anna", which is neither a group nor a person id/,
      },
      {
        code: 'LANES_CHARTER_DUPLICATE_IDENTITY',
        text: () =>
          edit(
            '    name: Ana Ruiz\n    role: engineer\n',
            '    name: Ana Ruiz\n    role: engineer\n    email: ana@acme.example\n    aliases:\n      github: [Bob-Stone]\n',
            edit(
              '    name: Bob Stone\n    role: engineer\n',
              '    name: Bob Stone\n    role: engineer\n    github: bob-stone\n',
            ),
          ),
        needle: 'bob-stone',
        message:
          /github identity "bob-stone" is claimed by "bob" and by "ana" \(at people\[3\]\.aliases\.github\[0\]\)/,
      },
      {
        code: 'LANES_CHARTER_PATTERN',
        text: () =>
          edit('delegations:\n', "bots:\n  email: [ci@acme.example]\n  patterns: ['(?<=svc)-bot']\ndelegations:\n"),
        needle: '(?<=svc)-bot',
        message: /lookbehind/,
      },
    ];

    it.each(cases)('$code', ({ code, text, needle, message, shift }) => {
      const source = text();
      const issue = only(source, code);
      expect(issue.message).toMatch(message);
      expect(at(issue)).toBe(positionOf(source, needle, shift ?? 0));
      expect(issue.hint.length).toBeGreaterThan(10);
    });

    it('LANES_CHARTER_TRIO_INCOMPLETE when one person fills two seats', () => {
      const { issues } = parse(edit('      tech: marc\n', '      tech: hana\n'));
      expect(issues.map((i) => [i.code, i.path])).toEqual([
        ['LANES_CHARTER_TRIO_INCOMPLETE', 'teams[1].trio.tech'],
        ['LANES_CHARTER_TRIO_ROLE', 'teams[1].trio.tech'],
      ]);
      expect(issues[0]!.message).toMatch(/both trio.product and trio.tech; a trio is three people/);
    });

    it('LANES_CHARTER_DELEGATION_DANGLING for an unknown domain and team, with suggestions', () => {
      const text = edit('team: payments', 'team: paymnets', edit('domain: eng.bug-triage', 'domain: eng.bug-triag'));
      const { issues } = parse(text);
      expect(issues.map((i) => [i.code, i.path, i.suggestion])).toEqual([
        ['LANES_CHARTER_DELEGATION_DANGLING', 'delegations[0].domain', 'eng.bug-triage'],
        ['LANES_CHARTER_DELEGATION_DANGLING', 'delegations[0].team', 'payments'],
      ]);
    });

    it('LANES_CHARTER_NO_DECIDER for a new domain without decides', () => {
      const text = `${BASE}domains:\n  - id: data.retention\n    title: Data retention\n`;
      const issue = only(text, 'LANES_CHARTER_NO_DECIDER');
      expect(issue.message).toBe('domain "data.retention" has no decider for any team.');
      expect(at(issue)).toBe(positionOf(text, 'id: data.retention'));
    });

    it('LANES_CHARTER_DUPLICATE_ID for a group that redefines a built-in one', () => {
      const text = edit('people:\n', 'groups:\n  product:\n    roles: [designer]\npeople:\n');
      const issue = only(text, 'LANES_CHARTER_DUPLICATE_ID');
      expect(at(issue)).toBe(positionOf(text, 'product:\n'));
    });

    it('accepts custom groups and person ids as deciders', () => {
      const text = edit(
        'people:\n',
        'groups:\n  leads:\n    roles: [tech-lead, engineering-manager]\npeople:\n',
        edit('        decides: marc\n', '        decides: leads\n        consulted: [erin]\n'),
      );
      expect(parse(text).issues).toEqual([]);
    });

    it('checks decision rules: an unknown domain with a suggestion, a twice-used id, an unknown default', () => {
      const rules = [
        'decision_rules:',
        '  rules:',
        '    - id: release-train',
        '      domain: eng.bug-triag',
        '      when: { change: [field_changed], field: [milestone], item_kind: [feature] }',
        '    - id: release-train',
        '      domain: eng.bug-triage',
        '      when: { field: [sprint] }',
        '  disable: [feature-priority, no-such-rule]',
        '',
      ].join('\n');
      const { issues, charter } = parse(`${BASE}${rules}`);
      expect(issues.map((i) => [i.code, i.path, i.suggestion ?? null])).toEqual([
        ['LANES_CHARTER_UNKNOWN_DOMAIN', 'decision_rules.rules[0].domain', 'eng.bug-triage'],
        ['LANES_CHARTER_DUPLICATE_ID', 'decision_rules.rules[1].id', null],
        ['LANES_CHARTER_SCHEMA', 'decision_rules.disable[1]', null],
      ]);
      expect(at(issues[0]!)).toBe(positionOf(`${BASE}${rules}`, 'eng.bug-triag\n'));
      expect(charter).toBeUndefined();
      const valid = rules
        .replace('eng.bug-triag\n', 'eng.bug-triage\n')
        .replace('    - id: release-train\n      domain: eng.bug-triage\n      when: { field: [sprint] }\n', '')
        .replace(', no-such-rule', '');
      const ok = parse(`${BASE}${valid}`);
      expect(ok.issues).toEqual([]);
      expect(ok.charter?.decision_rules?.rules.map((r) => r.id)).toEqual(['release-train']);
    });

    it('rejects an unknown workspace timezone', () => {
      const text = edit('  name: Acme\n', '  name: Acme\n  timezone: Mars/Olympus\n');
      expect(only(text, 'LANES_CHARTER_SCHEMA').path).toBe('workspace.timezone');
    });
  });

  it('keeps the charter usable when the only issue is an expired delegation', () => {
    const { charter, issues } = parse(edit('until: 2026-12-31', 'until: 2026-01-01'));
    expect(issues.map((i) => i.code)).toEqual(['LANES_CHARTER_DELEGATION_EXPIRED']);
    expect(charter?.delegations).toHaveLength(1);
  });

  it('sorts issues by position and caps them', () => {
    const members = Array.from({ length: 300 }, (_, i) => `nobody${i}`).join(', ');
    const text = edit('members: [hana, yuki, marc]', `members: [hana, yuki, marc, ${members}]`);
    const { issues } = parse(text);
    expect(issues).toHaveLength(MAX_CHARTER_ISSUES);
    expect(issues.at(-1)!.code).toBe('LANES_CHARTER_TOO_MANY_ISSUES');
    expect(issues.at(-1)!.message).toBe('101 more issues are not shown.');
    const cols = issues.slice(0, -1).map((i) => i.line * 100_000 + i.col);
    expect(cols).toEqual([...cols].sort((a, b) => a - b));
  });

  it('formats paths like the code that reads them', () => {
    expect(formatCharterPath(['teams', 1, 'trio', 'product'])).toBe('teams[1].trio.product');
    expect(formatCharterPath(['teams', 0, 'decisions', 'eng.bug-triage'])).toBe('teams[0].decisions["eng.bug-triage"]');
    expect(formatCharterPath([])).toBe('');
  });

  describe('never throws', () => {
    const checkShape = (text: string): void => {
      const { issues, charter } = parseCharter(text, 'f.yaml', NOW);
      const lines = text.split(/\r\n|\r|\n/).length;
      for (const issue of issues) {
        expect(Object.keys(CHARTER_ISSUE_CODES)).toContain(issue.code);
        expect(issue.line).toBeGreaterThanOrEqual(1);
        expect(issue.line).toBeLessThanOrEqual(lines + 1);
        expect(issue.col).toBeGreaterThanOrEqual(1);
      }
      expect(issues.length).toBeLessThanOrEqual(MAX_CHARTER_ISSUES);
      if (charter) expect(issues.every((i) => i.code === 'LANES_CHARTER_DELEGATION_EXPIRED')).toBe(true);
    };

    it('on arbitrary strings', () => {
      fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), checkShape), { numRuns: 300 });
      const yamlish = fc.string({
        unit: fc.constantFrom(...': -[]{}\n\n  #&*!|>\'"%@`,?abc0'.split('')),
        maxLength: 200,
      });
      fc.assert(fc.property(yamlish, checkShape), { numRuns: 500 });
    });

    it('on arbitrary mutations of the starter charter', () => {
      const lines = STARTER_CHARTER.split('\n');
      const mutation = fc.oneof(
        // Replace, insert or delete characters at a random place.
        fc
          .tuple(fc.nat(STARTER_CHARTER.length), fc.nat(8), fc.string({ maxLength: 6 }))
          .map(([at, cut, insert]) => STARTER_CHARTER.slice(0, at) + insert + STARTER_CHARTER.slice(at + cut)),
        // Drop, duplicate or re-indent a line.
        fc.tuple(fc.nat(lines.length - 1), fc.constantFrom('drop', 'dup', 'indent', 'dedent')).map(([n, op]) => {
          const copy = [...lines];
          const line = copy[n] ?? '';
          if (op === 'drop') copy.splice(n, 1);
          else if (op === 'dup') copy.splice(n, 0, line);
          else copy[n] = op === 'indent' ? `  ${line}` : line.replace(/^ {2}/, '');
          return copy.join('\n');
        }),
        // Swap two identifiers.
        fc
          .tuple(
            fc.constantFrom('alice', 'dana', 'tom', 'ana', 'erin', 'engineering', 'checkout', 'eng.bug-triage'),
            fc.string({ maxLength: 8 }),
          )
          .map(([from, to]) => STARTER_CHARTER.split(from).join(to)),
      );
      fc.assert(fc.property(mutation, checkShape), { numRuns: 400 });
    });
  });
});

describe('the connectors section of lanes.yaml', () => {
  const withConnectors = (section: string): string => `${BASE}connectors:\n${section}`;
  // Each team gets a component so mappings can name one.
  const withComponents = (text: string): string =>
    text.replace(
      '    escalation: erin\n  - id: growth',
      '    components: [checkout, ledger]\n    escalation: erin\n  - id: growth',
    );

  it('accepts repositories, projects and teams mapped to teams and components, with labels and states', () => {
    const text = withComponents(
      withConnectors(`  github:
    repos:
      acme/checkout: { team: payments, component: checkout }
    labels:
      customer-reported: { kind: bug }
      needs-triage: { ignore: true }
    states: { 'in review': in_review }
    identities: { octocat: tom }
  jira:
    base_url: https://acme.atlassian.net
    projects:
      PAY: { team: payments }
    issue_types: { 'Tech Debt': tech_debt }
    fields: { severity: customfield_10050, story_points: customfield_10024 }
  linear:
    teams:
      GRO: { team: growth }
`),
    );
    const { issues, charter } = parse(text);
    expect(issues).toEqual([]);
    expect(charter?.connectors?.github?.repos['acme/checkout']).toEqual({ team: 'payments', component: 'checkout' });
  });

  it('points at a repository mapped to a team that does not exist, with a suggestion', () => {
    const text = withConnectors(`  github:
    repos:
      acme/checkout: { team: paymnts }
`);
    const issue = only(text, 'LANES_CHARTER_UNKNOWN_TEAM');
    expect(issue.path).toBe('connectors.github.repos["acme/checkout"].team');
    expect(issue.message).toMatch(/team "paymnts" is not under `teams`.*payments/);
    expect(at(issue)).toBe(positionOf(text, 'paymnts'));
  });

  it('refuses a component the team does not own, an unknown person, a bad kind and a bad state', () => {
    const component = withComponents(
      withConnectors(`  jira:
    projects:
      PAY: { team: payments, component: billing }
`),
    );
    expect(only(component, 'LANES_CHARTER_UNKNOWN_COMPONENT').message).toMatch(/billing/);
    const person = withConnectors(`  github:
    identities: { octocat: nobody }
`);
    expect(only(person, 'LANES_CHARTER_UNKNOWN_PERSON').path).toBe('connectors.github.identities.octocat');
    const kind = withConnectors(`  github:
    labels:
      bug: { kind: defect }
`);
    expect(only(kind, 'LANES_CHARTER_SCHEMA').path).toBe('connectors.github.labels.bug.kind');
    const state = withConnectors(`  linear:
    states: { Started: doing }
`);
    expect(only(state, 'LANES_CHARTER_SCHEMA').path).toBe('connectors.linear.states.Started');
  });
});

describe('trusted_sources in lanes.yaml', () => {
  it('accepts native source names and points at a malformed one', () => {
    const { issues, charter } = parse(`${BASE}trusted_sources: [deploys, pagerduty]\n`);
    expect(issues).toEqual([]);
    expect(charter?.trusted_sources).toEqual(['deploys', 'pagerduty']);
    const bad = `${BASE}trusted_sources: [deploys, Page Duty]\n`;
    const issue = only(bad, 'LANES_CHARTER_SCHEMA');
    expect(issue.path).toBe('trusted_sources[1]');
    expect(issue.message).toMatch(/event source/);
  });
});
