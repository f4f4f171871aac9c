import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { SignalRow } from '../api/quality.contract.js';
import { startLocalSmtp, type LocalSmtp } from '../connectors/notify/notify.test-helper.js';
import type { CharterInput } from '../domain/charter.schema.js';
import { addWeeks, weekOf } from '../domain/week.js';
import { openDatabase } from '../store/database.js';
import { withTransaction } from '../store/event.repository.js';
import { upsertSignals } from '../store/quality.repository.js';
import { EXIT, type CliIo } from './io.js';
import { runCli } from './main.js';

interface FakeIo extends CliIo {
  stdout: string[];
  stderr: string[];
}

const fakeIo = (cwd: string, env: NodeJS.ProcessEnv): FakeIo => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env, cwd, exitCode: 0 };
};

const charter: CharterInput = {
  version: 1,
  workspace: { id: 'acme', name: 'Acme' },
  people: [
    { id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead' },
    { id: 'dana.ross', name: 'Dana Ross', role: 'product-manager' },
    { id: 'dee.kim', name: 'Dee Kim', role: 'designer' },
    { id: 'vic.tor', name: 'Vic Tor', role: 'engineering-leadership', email: 'vic@acme.example' },
  ],
  teams: [
    {
      id: 'payments',
      name: 'Payments',
      members: ['sam.lee', 'dana.ross', 'dee.kim'],
      trio: { product: 'dana.ross', design: 'dee.kim', tech: 'sam.lee' },
      components: ['checkout'],
      escalation: 'vic.tor',
    },
  ],
};

const row = (signal: string, week: string, value: number): SignalRow => ({
  signal,
  team: 'payments',
  component: 'checkout',
  week,
  value,
  numerator: null,
  denominator: null,
  details: null,
});

describe('lanes escalations notify', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let smtp: LocalSmtp;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lanes-cli-escalations-'));
    smtp = await startLocalSmtp();
    env = {
      LANES_DATABASE_URL: join(dir, 'lanes.db'),
      LANES_CHARTER: join(dir, 'lanes.yaml'),
      LANES_LOG_LEVEL: 'silent',
      LANES_PUBLIC_URL: 'https://lanes.acme.example',
      LANES_SMTP_URL: smtp.url,
      LANES_MAIL_FROM: 'Lanes <lanes@acme.example>',
    };
    await writeFile(env['LANES_CHARTER']!, stringify(charter));
    const database = await openDatabase({ url: env['LANES_DATABASE_URL']! });
    const week = weekOf(new Date());
    await withTransaction(database, (tx) =>
      upsertSignals(
        tx,
        Array.from({ length: 5 }, (_, i) => addWeeks(week, i - 4)).flatMap((w) => [
          row('bugs.inflow', w, 8),
          row('bugs.outflow', w, 2),
        ]),
      ),
    );
    await database.close();
  });
  afterEach(async () => {
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
    const io = fakeIo(dir, { ...env, ...extraEnv });
    io.exitCode = await runCli(['node', 'lanes', ...args], io);
    return io;
  };

  it('e-mails the pending escalations once and says how many', async () => {
    const first = await run(['escalations', 'notify', '--evaluate']);
    expect(first.stderr.join('\n')).toContain('Findings: 1 new');
    expect(first.stdout).toEqual(['Sent 1 escalation e-mail.']);
    expect(first.exitCode).toBe(EXIT.ok);
    const [mail] = await smtp.parsed();
    expect(mail!.subject).toContain('New systemic finding for Payments');
    expect(mail!.text).toContain('Open the brief: https://lanes.acme.example/escalations/');

    const second = await run(['escalations', 'notify']);
    expect(second.stdout).toEqual(['Sent 0 escalation e-mails.']);
    expect(smtp.raw).toHaveLength(1);
  });

  it('refuses to run without e-mail configured', async () => {
    const io = await run(['escalations', 'notify'], { LANES_SMTP_URL: '' });
    expect(io.exitCode).toBe(EXIT.failure);
    expect(io.stderr.join('\n')).toContain('LANES_SMTP_URL');
  });
});
