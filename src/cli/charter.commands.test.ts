import { Ajv2020 } from 'ajv/dist/2020.js';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STARTER_CHARTER } from '../domain/charter.template.js';
import { parse as parseYaml } from 'yaml';
import { EXIT, type CliIo } from './io.js';
import { runCli } from './main.js';

interface FakeIo extends CliIo {
  stdout: string[];
  stderr: string[];
}

const fakeIo = (cwd: string, env: NodeJS.ProcessEnv = {}): FakeIo => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env, cwd, exitCode: 0 };
};

const lanes = async (io: FakeIo, ...args: string[]): Promise<number> => runCli(['node', 'lanes', ...args], io);

describe('lanes charter commands', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lanes-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('init writes lanes.yaml in the working directory, then check passes', async () => {
    const io = fakeIo(dir);
    expect(await lanes(io, 'init')).toBe(EXIT.ok);
    expect(await readFile(join(dir, 'lanes.yaml'), 'utf8')).toBe(STARTER_CHARTER);
    expect(io.stdout.join('\n')).toMatch(/Wrote lanes\.yaml[\s\S]*Next steps[\s\S]*lanes check lanes\.yaml/);

    const check = fakeIo(dir);
    expect(await lanes(check, 'check')).toBe(EXIT.ok);
    expect(check.stdout).toEqual(['✓ lanes.yaml is valid: 1 team, 5 people, 14 domains']);
    expect(check.stderr).toEqual([]);
  });

  it('init refuses to overwrite', async () => {
    await writeFile(join(dir, 'lanes.yaml'), 'mine');
    const io = fakeIo(dir);
    expect(await lanes(io, 'init')).toBe(EXIT.failure);
    expect(io.stderr.join('\n')).toMatch(/LANES_CHARTER_EXISTS/);
    expect(await readFile(join(dir, 'lanes.yaml'), 'utf8')).toBe('mine');
  });

  it('check prints file:line:col issues and exits 2', async () => {
    const text = STARTER_CHARTER.replace('escalation: erin', 'escalation: erni');
    await writeFile(join(dir, 'team.yaml'), text);
    const io = fakeIo(dir);
    expect(await lanes(io, 'check', 'team.yaml')).toBe(EXIT.invalid);
    const line = text.split('\n').findIndex((l) => l.includes('escalation: erni')) + 1;
    const err = io.stderr.join('\n');
    expect(err).toContain(
      `team.yaml:${line}:17 error LANES_CHARTER_UNKNOWN_PERSON: team "checkout" escalates to "erni"`,
    );
    expect(err).toContain('(did you mean "erin"?)');
    expect(err).toMatch(/✗ team\.yaml: 1 issue\.$/);
    expect(io.stdout).toEqual([]);
  });

  it('check reports YAML syntax errors with their position', async () => {
    await writeFile(join(dir, 'lanes.yaml'), 'version: 1\nworkspace: [oops\n');
    const io = fakeIo(dir);
    expect(await lanes(io, 'check')).toBe(EXIT.invalid);
    expect(io.stderr[0]).toMatch(/^lanes\.yaml:\d+:\d+ error LANES_CHARTER_YAML_SYNTAX: /);
  });

  it('check honours LANES_CHARTER and fails with exit 2 when the file is missing', async () => {
    await writeFile(join(dir, 'other.yaml'), STARTER_CHARTER);
    const io = fakeIo(dir, { LANES_CHARTER: 'other.yaml' });
    expect(await lanes(io, 'check')).toBe(EXIT.ok);
    expect(io.stdout[0]).toMatch(/^✓ other\.yaml is valid/);

    const missing = fakeIo(dir);
    expect(await lanes(missing, 'check', 'nope.yaml')).toBe(EXIT.invalid);
    expect(missing.stderr.join('\n')).toMatch(
      /^error LANES_CHARTER_NOT_FOUND: no charter at nope\.yaml; create one with `lanes init`/,
    );
  });

  it('check reports an expired delegation but exits 2 so it gets cleaned up', async () => {
    await writeFile(join(dir, 'lanes.yaml'), STARTER_CHARTER.replace('until: 2099-12-31', 'until: 2020-01-01'));
    const io = fakeIo(dir);
    expect(await lanes(io, 'check')).toBe(EXIT.invalid);
    expect(io.stderr.join('\n')).toMatch(/LANES_CHARTER_DELEGATION_EXPIRED/);
  });

  it('check refuses title patterns RE2 cannot run at file:line:col, and accepts the nested quantifier', async () => {
    const text = `${STARTER_CHARTER}decision_rules:
  rules:
    - { id: nested, domain: eng.architecture, when: { item_title: "^(a+)+$" } }
    - { id: ahead, domain: eng.architecture, when: { item_title: "adr(?=x)" } }
    - { id: behind, domain: eng.architecture, when: { item_title: '(?<=x)rfc' } }
    - { id: again, domain: eng.architecture, when: { item_title: (a)\\1 } }
`;
    await writeFile(join(dir, 'lanes.yaml'), text);
    const io = fakeIo(dir);
    expect(await lanes(io, 'check')).toBe(EXIT.invalid);
    const lines = text.split('\n');
    const at = (needle: string, shift: number): string => {
      const line = lines.findIndex((l) => l.includes(needle));
      return `lanes.yaml:${line + 1}:${lines[line]!.indexOf(needle) + 1 + shift}`;
    };
    expect(io.stderr).toEqual([
      [
        `${at('"adr(?=x)"', 4)} error LANES_CHARTER_PATTERN: decision_rules.rules[1].when.item_title: lookahead \`(?=…)\` / \`(?!…)\` is not supported.`,
        '  → match the following text itself (e.g. `adr(?=:)` → `adr:`), or split the condition into two rules',
        `${at("'(?<=x)rfc'", 1)} error LANES_CHARTER_PATTERN: decision_rules.rules[2].when.item_title: lookbehind \`(?<=…)\` / \`(?<!…)\` is not supported.`,
        '  → match the preceding text itself (e.g. `(?<=v)\\d+` → `v\\d+`), or split the condition into two rules',
        `${at('(a)\\1', 3)} error LANES_CHARTER_PATTERN: decision_rules.rules[3].when.item_title: backreferences (\`\\1\`, \`\\k<name>\`) are not supported.`,
        '  → spell the repeated text out, or list the alternatives (e.g. `(a|b)\\1` → `aa|bb`)',
      ].join('\n'),
      '✗ lanes.yaml: 3 issues.',
    ]);
  });

  it('check refuses a 10 MB charter with 110,000 people before reading it', async () => {
    const people = Array.from(
      { length: 110_000 },
      (_, i) => `  - { id: person-${i}, name: Person Number ${i}, role: engineer, email: person-${i}@acme.example }\n`,
    );
    await writeFile(join(dir, 'lanes.yaml'), STARTER_CHARTER.replace('people:\n', `people:\n${people.join('')}`));
    const { size } = await stat(join(dir, 'lanes.yaml'));
    expect(size).toBeGreaterThan(10_000_000);
    const io = fakeIo(dir);
    expect(await lanes(io, 'check')).toBe(EXIT.invalid);
    expect(io.stderr).toEqual([
      `error LANES_CHARTER_INVALID: lanes.yaml is ${size.toLocaleString('en-US')} bytes; a charter may be at most 1 MiB (1,048,576 bytes), so Lanes did not read it`,
    ]);
  });

  it('schema stays a valid JSON Schema that accepts a charter with title patterns', async () => {
    const io = fakeIo(dir);
    expect(await lanes(io, 'schema')).toBe(EXIT.ok);
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(io.stdout.join('')) as object);
    const charter = parseYaml(
      `${STARTER_CHARTER}decision_rules:\n  rules:\n    - { id: adr, domain: eng.architecture, when: { item_title: "^adr-\\\\d+" } }\n`,
    ) as unknown;
    expect(validate(charter), JSON.stringify(validate.errors)).toBe(true);
  });

  it('schema prints the JSON Schema', async () => {
    const io = fakeIo(dir);
    expect(await lanes(io, 'schema')).toBe(EXIT.ok);
    const schema = JSON.parse(io.stdout.join('')) as { title: string; properties: Record<string, unknown> };
    expect(schema.title).toBe('lanes.yaml');
    expect(Object.keys(schema.properties)).toContain('teams');
  });

  it('who-decides answers in words, exits 1 when nothing matches, and prints JSON on request', async () => {
    await writeFile(join(dir, 'lanes.yaml'), STARTER_CHARTER);
    const io = fakeIo(dir);
    expect(await lanes(io, 'who-decides', 'who', 'sets', 'the', 'priority', 'of', 'a', 'bug?')).toBe(EXIT.ok);
    const text = io.stdout.join('\n');
    expect(text).toMatch(
      /^eng\.bug-triage — Bug triage: How severe is this bug, and when is it fixed\?\n {2}Checkout: engineering \(Tom Lee, tech lead; Ana Ruiz, engineer\) decides/,
    );
    expect(text).toContain('Delegation in force: engineering hands this to Ana Ruiz (engineer) until 2099-12-31');

    const none = fakeIo(dir);
    expect(await lanes(none, 'who-decides', 'who buys the coffee?')).toBe(EXIT.failure);
    expect(none.stdout.join('\n')).toMatch(/^No decision domain matches/);

    const json = fakeIo(dir);
    expect(await lanes(json, 'who-decides', '--json', 'who decides on tech debt?')).toBe(EXIT.ok);
    const answer = JSON.parse(json.stdout.join('')) as { matched: { domain: { id: string } }; perTeam: unknown[] };
    expect(answer.matched.domain.id).toBe('eng.tech-debt');
    expect(answer.perTeam).toHaveLength(1);
  });

  it('who-decides reads --file relative to the working directory and refuses an invalid charter', async () => {
    await writeFile(join(dir, 'bad.yaml'), STARTER_CHARTER.replace('tech: tom', 'tech: tomm'));
    const io = fakeIo(dir);
    expect(await lanes(io, 'who-decides', '--file', 'bad.yaml', 'who estimates?')).toBe(EXIT.invalid);
    expect(io.stderr.join('\n')).toMatch(/bad\.yaml:\d+:\d+ error LANES_CHARTER_UNKNOWN_PERSON/);
    const missing = fakeIo(dir);
    expect(await lanes(missing, 'who-decides', '--file', 'nope.yaml', 'who estimates?')).toBe(EXIT.invalid);
  });
});
