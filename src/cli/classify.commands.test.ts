import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT, type CliIo } from './io.js';
import { runCli } from './main.js';

interface FakeIo extends CliIo {
  stdout: string[];
  stderr: string[];
}

const fakeIo = (cwd: string): FakeIo => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env: {}, cwd, exitCode: 0 };
};

const lanes = async (io: FakeIo, ...args: string[]): Promise<number> => runCli(['node', 'lanes', ...args], io);

const line = (value: unknown): string => JSON.stringify(value);

const GOOD = [
  line({ text: 'Any update on this? Our customer keeps asking.', author: 'dana', role: 'stakeholder' }),
  line({ text: 'Fixed in 1.2.0, released this morning.', author: 'mia', role: 'MEMBER', label: 'status_relay' }),
  line({ text: 'Bug 1400001 - Show the ETA on the order page. r=sam', author: 'lee', itemKind: 'bug' }),
  line({ text: 'Should I request check-in?', author: 'lee', role: 'NONE', label: 'other' }),
  line({ text: 'Can this fix be back-ported to 2.x?', author: 'ola', label: 'status_ping' }),
];

describe('lanes classify comments', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lanes-classify-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints each comment's label and the cue that decided it", async () => {
    await writeFile(join(dir, 'comments.jsonl'), `${GOOD.join('\n')}\n`);
    const io = fakeIo(dir);
    expect(await lanes(io, 'classify', 'comments', 'comments.jsonl')).toBe(EXIT.ok);
    const out = io.stdout.join('\n');
    expect(out).toMatch(/^line\s+author\s+label\s+cue\s+your label$/m);
    expect(out).toMatch(/^1\s+dana\s+status ping\s+asks-any-update \("any update"\)\s*$/m);
    expect(out).toMatch(/^2\s+mia\s+status relay\s+fixed-in-release \("fixed in 1\.2\.0"\)\s+✓$/m);
    expect(out).toMatch(/^3\s+lee\s+other\s+nothing said outside code, quotes or pasted titles$/m);
    expect(out).toMatch(/^4\s+lee\s+other\s+asks how to go on with own work\s+✓$/m);
    expect(out).toMatch(/^5\s+ola\s+status ping\s+asks-back-port \("back-port"\)\s+✓$/m);
    expect(out).toContain('5 comments: 2 status pings, 1 status relay, 2 other.');
    expect(out).toContain('Against your labels (3 of 3 agree)');
    expect(io.stderr).toEqual([]);
  });

  it('--json gives every comment with label, cue, evidence, confidence and reasons', async () => {
    await writeFile(join(dir, 'comments.jsonl'), GOOD.slice(0, 2).join('\n'));
    const io = fakeIo(dir);
    expect(await lanes(io, 'classify', 'comments', 'comments.jsonl', '--json')).toBe(EXIT.ok);
    const result = JSON.parse(io.stdout.join('\n')) as {
      comments: { line: number; author: string; label: string; cue: string; evidence: string; reasons: string[] }[];
      errors: unknown[];
    };
    expect(result.errors).toEqual([]);
    expect(result.comments.map((c) => [c.line, c.author, c.label, c.cue, c.evidence])).toEqual([
      [1, 'dana', 'status_ping', 'asks-any-update', 'any update'],
      [2, 'mia', 'status_relay', 'fixed-in-release', 'fixed in 1.2.0'],
    ]);
    expect(result.comments[0]?.reasons).toContain('chases-customer-asking');
  });

  it('reports each bad line with its number and a stable code, classifies the rest, and exits 2', async () => {
    const lines = [
      GOOD[0],
      '{ not json',
      line({ author: 'kim' }),
      line({ text: 'Any news?', author: 'kim', role: 'boss' }),
      '',
      line({ text: 'ETA?', author: 'kim', team: 'x' }),
    ];
    await writeFile(join(dir, 'bad.jsonl'), lines.join('\n'));
    const io = fakeIo(dir);
    expect(await lanes(io, 'classify', 'comments', 'bad.jsonl')).toBe(EXIT.invalid);
    expect(io.stderr).toHaveLength(4);
    expect(io.stderr[0]).toMatch(/^bad\.jsonl:2 error LANES_COMMENT_INVALID: not JSON: /);
    expect(io.stderr[1]).toMatch(/^bad\.jsonl:3 error LANES_COMMENT_INVALID: text: /);
    expect(io.stderr[2]).toMatch(/^bad\.jsonl:4 error LANES_COMMENT_INVALID: role: /);
    expect(io.stderr[3]).toBe('bad.jsonl:6 error LANES_COMMENT_INVALID: unknown field(s) team');
    expect(io.stdout.join('\n')).toContain('1 comment: 1 status ping, 0 status relays, 0 other.');
  });

  it('fails with a stable code when the file cannot be read', async () => {
    const io = fakeIo(dir);
    expect(await lanes(io, 'classify', 'comments', 'missing.jsonl')).toBe(EXIT.failure);
    expect(io.stderr.join('\n')).toMatch(/^error LANES_COMMENT_INVALID: cannot read missing\.jsonl/);
  });
});
