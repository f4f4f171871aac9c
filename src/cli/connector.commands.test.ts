import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, type CliIo } from './io.js';
import { runCli } from './main.js';
import { cliProgress } from './progress.js';

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
const FIXTURES = join(import.meta.dirname, '..', 'connectors', 'file', 'fixtures');

describe('lanes import and lanes sources', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lanes-cli-import-'));
    env = {
      LANES_DATABASE_URL: join(dir, 'lanes.db'),
      LANES_CHARTER: join(dir, 'lanes.yaml'),
      LANES_LOG_LEVEL: 'silent',
    };
    await copyFile(join(FIXTURES, 'zendesk-tickets.csv'), join(dir, 'tickets.csv'));
    await copyFile(join(FIXTURES, 'zendesk.map.yaml'), join(dir, 'zendesk.map.yaml'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a tracker export once, counts what it could not map, and lists the source', async () => {
    const first = fakeIo(dir, env);
    expect(await lanes(first, 'import', 'tickets.csv', '--map', 'zendesk.map.yaml')).toBe(EXIT.ok);
    const summary = first.stdout.join('\n');
    const [, events, rows, stored] = /Imported (\d+) events from (\d+) rows \((\d+) new, 0 already stored\)/.exec(
      summary,
    )!;
    expect(Number(events)).toBeGreaterThan(Number(rows));
    expect(stored).toBe(events);

    // The same file again stores nothing new.
    const again = fakeIo(dir, env);
    expect(await lanes(again, 'import', 'tickets.csv', '--map', 'zendesk.map.yaml')).toBe(EXIT.ok);
    expect(again.stdout.join('\n')).toMatch(
      new RegExp(`Imported ${events} events .*\\(0 new, ${events} already stored\\)`),
    );

    const sources = fakeIo(dir, env);
    expect(await lanes(sources, 'sources')).toBe(EXIT.ok);
    const text = sources.stdout.join('\n');
    expect(text).toMatch(new RegExp(`^zendesk: ${events} events \\(${events} duplicates skipped\\)`, 'm'));
    // Values the map does not know (a "feedback" ticket type, an "on hold" status, a "Legal" group) are counted,
    // in the same unit by the import and by `lanes sources`: distinct values, and times (once per row and field).
    // Importing the file again counts nothing again.
    expect(summary).toMatch(/^3 unmapped values, 3 times in this file: values go in the import map/m);
    expect(again.stdout.join('\n')).toMatch(/^3 unmapped values, 3 times in this file \(0 times in rows not imported/m);
    expect(text).toMatch(/^ {2}3 unmapped values, 3 times \(add them to the import map of this source\):$/m);
    for (const value of ['feedback', 'hold', 'Legal']) {
      expect(summary).toContain(`"${value}": 1×`);
      expect(text).toContain(`"${value}": 1×`);
    }

    const json = fakeIo(dir, env);
    expect(await lanes(json, 'sources', '--json')).toBe(EXIT.ok);
    const parsed = JSON.parse(json.stdout.join('\n')) as { sources: { source: string; events: number }[] };
    expect(parsed.sources).toMatchObject([
      { source: 'zendesk', events: Number(events), unmappedValues: 3, unmappedTimes: 3 },
    ]);
  });

  it('imports change-history rows with an item file, and counts unmapped values as lanes sources does', async () => {
    for (const name of ['bugzilla-activity.csv', 'bugzilla-bugs.csv', 'bugzilla.map.yaml']) {
      await copyFile(join(FIXTURES, name), join(dir, name));
    }
    const args = ['import', 'bugzilla-activity.csv', '--items', 'bugzilla-bugs.csv', '--map', 'bugzilla.map.yaml'];
    const dry = fakeIo(dir, env);
    expect(await lanes(dry, ...args, '--dry-run')).toBe(EXIT.ok);
    const [, events] = /^Would import (\d+) events from 45 rows \((\d+) new, 0 already stored\)\.$/m.exec(
      dry.stdout.join('\n'),
    )!;
    const io = fakeIo(dir, env);
    expect(await lanes(io, ...args)).toBe(EXIT.ok);
    const summary = io.stdout.join('\n');
    expect(summary).toMatch(
      new RegExp(`^Imported ${events} events from 45 rows \\(${events} new, 0 already stored\\)`, 'm'),
    );
    expect(summary).toMatch(/^2 unmapped values, 2 times in this file: values go in the import map/m);
    expect(summary).toContain('field "flagtypes.name": 1×');
    expect(summary).toContain('state "NEEDINFO": 1×');
    const sources = fakeIo(dir, env);
    expect(await lanes(sources, 'sources')).toBe(EXIT.ok);
    expect(sources.stdout.join('\n')).toMatch(/^bugzilla: \d+ events/m);
    expect(sources.stdout.join('\n')).toMatch(/^ {2}2 unmapped values, 2 times \(add them to the import map/m);

    await writeFile(
      join(dir, 'bad-bugs.csv'),
      'bug_id,creation_ts,reporter,short_desc\n1001,yesterday,a@x.example,T\n',
    );
    const bad = fakeIo(dir, env);
    expect(
      await lanes(bad, 'import', 'bugzilla-activity.csv', '--items', 'bad-bugs.csv', '--map', 'bugzilla.map.yaml'),
    ).toBe(EXIT.invalid);
    expect(bad.stderr.join('\n')).toMatch(
      /^bad-bugs\.csv:1: LANES_IMPORT_INVALID the header has no column "bug_type"/m,
    );
  });

  it('rejects a file with bad rows, names their lines, and stores nothing', async () => {
    await writeFile(
      join(dir, 'bad.csv'),
      '\uFEFFticket_id,updated_at,subject,type,status,priority,group,assignee_email,author_email,organization,url,body\n' +
        '1,2024-03-01 09:00:00,Fine,problem,new,urgent,Billing,,a@x.example,Acme,https://x.example/1,\n' +
        ',2024-03-01 09:00:00,No key,problem,new,urgent,Billing,,a@x.example,Acme,https://x.example/2,\n' +
        '3,not a time,Bad time,problem,new,urgent,Billing,,a@x.example,Acme,https://x.example/3,\n',
    );
    const io = fakeIo(dir, env);
    expect(await lanes(io, 'import', 'bad.csv', '--map', 'zendesk.map.yaml')).toBe(EXIT.invalid);
    const err = io.stderr.join('\n');
    expect(err).toMatch(/bad\.csv:3: LANES_IMPORT_INVALID/);
    expect(err).toMatch(/bad\.csv:4: LANES_IMPORT_INVALID/);
    expect(err).toMatch(/nothing was stored/);
    const sources = fakeIo(dir, env);
    await lanes(sources, 'sources');
    expect(sources.stdout.join('\n')).toMatch(/No sources yet/);
  });

  it('refuses a file type it does not read and a map with an error, with stable codes', async () => {
    await writeFile(join(dir, 'tickets.xlsx'), 'binary');
    const io = fakeIo(dir, env);
    expect(await lanes(io, 'import', 'tickets.xlsx', '--map', 'zendesk.map.yaml')).toBe(EXIT.failure);
    expect(io.stderr.join('\n')).toMatch(/LANES_IMPORT_INVALID.*\.csv or \.jsonl/);
    await writeFile(join(dir, 'broken.map.yaml'), 'source: zendesk\nkey: [unclosed\n');
    const broken = fakeIo(dir, env);
    expect(await lanes(broken, 'import', 'tickets.csv', '--map', 'broken.map.yaml')).not.toBe(EXIT.ok);
    expect(broken.stderr.join('\n')).toMatch(/LANES_IMPORT_INVALID/);
  });

  it('says which secret a sync needs when it is not configured', async () => {
    const io = fakeIo(dir, env);
    expect(await lanes(io, 'sync', 'github', '--repo', 'acme/payments')).toBe(EXIT.failure);
    expect(io.stderr.join('\n')).toMatch(/LANES_CONNECTOR_NOT_CONFIGURED: GitHub sync needs LANES_GITHUB_TOKEN/);
    const jira = fakeIo(dir, env);
    expect(await lanes(jira, 'sync', 'jira', '--project', 'pay')).toBe(EXIT.invalid);
    expect(jira.stderr.join('\n')).toMatch(/LANES_VALIDATION: --project must be a Jira project key/);
  });
});

describe('sync progress', () => {
  const clock = () => {
    let now = 0;
    return { now: () => now, advance: (ms: number) => (now += ms) };
  };

  it('redraws one line with a bar, counts and an ETA on a terminal', () => {
    const written: string[] = [];
    const io = { ...fakeIo('/'), tty: { write: (t: string) => written.push(t), columns: 120 } };
    const c = clock();
    const progress = cliProgress(io, 'github acme/payments', c.now);
    progress.streamStarted('issues', 'issues', false);
    c.advance(10_000);
    progress.pageStored('issues', { units: 250, total: 1000, events: 1800, stored: 1800 });
    const line = written.at(-1)!;
    expect(line.startsWith('\r\x1b[2K')).toBe(true);
    expect(line).toContain('[######------------------]');
    expect(line).toContain('250/1,000 issues · 1,800 events (1,800 new) · ETA 30s');
    progress.waiting('rate limited (HTTP 403); waiting 42s', 42_000);
    expect(written.at(-1)).toMatch(/rate limited \(HTTP 403\); waiting 42s/);
    progress.streamFinished('issues', {
      stream: 'issues',
      units: 1000,
      events: 7000,
      stored: 6900,
      duplicates: 100,
      invalid: 0,
      resumed: false,
      completed: true,
    });
    expect(written.at(-1)).toMatch(
      /issues: done, 1,000 issues, 7,000 events \(6,900 new, 100 already stored\) in 10s\n$/,
    );
  });

  it('prints plain lines at most every two seconds when not on a terminal', () => {
    const io = fakeIo('/');
    const c = clock();
    const progress = cliProgress(io, 'jira PAY', c.now);
    progress.streamStarted('issues', 'issues', true);
    expect(io.stderr).toEqual(['jira PAY issues: resuming where the last run stopped']);
    for (let i = 1; i <= 10; i++) {
      c.advance(500);
      progress.pageStored('issues', { units: i * 100, total: undefined, events: i * 700, stored: i * 700 });
    }
    const lines = io.stderr.filter((l) => l.includes('events'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(lines[0]).toMatch(/^jira PAY issues: \d+ issues · [\d,]+ events/);
    expect(io.stderr.every((l) => !l.includes('\r'))).toBe(true);
  });
});
