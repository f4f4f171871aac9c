import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startFakeApi, type FakeApi } from '../../test/support/fake-api.js';
import type { CharterInput } from '../domain/charter.schema.js';
import { openDatabase } from '../store/database.js';
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

const charter = (mode: 'dry-run' | 'send'): CharterInput => ({
  version: 1,
  workspace: { id: 'acme', name: 'Acme' },
  people: [
    { id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead' },
    { id: 'dana.ross', name: 'Dana Ross', role: 'product-manager' },
    { id: 'dee.kim', name: 'Dee Kim', role: 'designer' },
    { id: 'vic.tor', name: 'Vic Tor', role: 'engineering-leadership' },
  ],
  teams: [
    {
      id: 'payments',
      name: 'Payments',
      members: ['sam.lee', 'dana.ross', 'dee.kim'],
      trio: { product: 'dana.ross', design: 'dee.kim', tech: 'sam.lee' },
      escalation: 'vic.tor',
      nudges: { enabled: true, mode },
    },
  ],
});

describe('lanes nudges', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let jira: FakeApi;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lanes-cli-nudges-'));
    jira = await startFakeApi(() => ({ status: 201, body: { id: '1' } }));
    env = {
      LANES_DATABASE_URL: join(dir, 'lanes.db'),
      LANES_CHARTER: join(dir, 'lanes.yaml'),
      LANES_LOG_LEVEL: 'silent',
      LANES_JIRA_URL: jira.url,
      LANES_JIRA_EMAIL: 'lanes@acme.example',
      LANES_JIRA_API_TOKEN: 'jira-token',
    };
    const occurredAt = new Date(Date.now() - 3_600_000).toISOString();
    const database = await openDatabase({ url: env['LANES_DATABASE_URL']! });
    await database.db
      .insertInto('event')
      .values({
        id: 'e-1',
        source: 'jira',
        source_event_id: 'e-1',
        occurred_at: occurredAt,
        received_at: occurredAt,
        actor_identity: 'jira:dana',
        actor_person_id: 'dana.ross',
        item_key: 'PAY-231',
        item_snapshot: null,
        kind: 'field_changed',
        field: 'priority',
        from_value: null,
        to_value: 'P1',
        body: null,
        target: null,
        data: null,
        payload: null,
        payload_ref: null,
      })
      .execute();
    await database.db
      .insertInto('boundary_decision')
      .values({
        event_id: 'e-1',
        item_key: 'PAY-231',
        occurred_at: occurredAt,
        week: occurredAt.slice(0, 10),
        team: 'payments',
        domain: 'eng.bug-triage',
        rule: 'priority-on-bug',
        actor_role: 'product-manager',
        standing: 'consulted',
        via: null,
        direction: 'product_to_engineering',
        crossing: 1,
        sentence: 'Priority of bug PAY-231 was set by a product manager (Dana).',
        owners: JSON.stringify({
          decides: 'sam.lee',
          people: [{ id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead' }],
          delegates: [],
          consulted: ['product'],
          informed: [],
        }),
      })
      .execute();
    await database.close();
  });
  afterEach(async () => {
    await jira.close();
    await rm(dir, { recursive: true, force: true });
  });

  const lanes = async (...args: string[]): Promise<FakeIo> => {
    const io = fakeIo(dir, env);
    io.exitCode = await runCli(['node', 'lanes', ...args], io);
    return io;
  };

  it('previews with --dry-run, sends with run, and lists what was sent', async () => {
    await writeFile(join(dir, 'lanes.yaml'), stringify(charter('send')));

    const preview = await lanes('nudges', 'run', '--dry-run');
    expect(preview.exitCode, preview.stderr.join('\n')).toBe(EXIT.ok);
    const previewText = preview.stdout.join('\n');
    expect(previewText).toMatch(
      /^Preview \(nothing sent, nothing stored\): 1 crossing\(s\) considered: 0 sent, 1 dry run/,
    );
    expect(previewText).toContain('Sam, this one is yours to confirm');
    expect(jira.requests).toHaveLength(0);

    const sent = await lanes('nudges', 'run');
    expect(sent.exitCode).toBe(EXIT.ok);
    expect(sent.stdout.join('\n')).toContain('payments PAY-231 eng.bug-triage → jira:PAY-231: sent');
    expect(jira.requests.map((r) => r.path)).toEqual(['/rest/api/3/issue/PAY-231/comment']);

    const again = await lanes('nudges', 'run');
    expect(again.stdout.join('\n')).toMatch(/^No new crossings to nudge/);

    const list = await lanes('nudges', 'list', '--team', 'payments', '--json');
    expect(list.exitCode).toBe(EXIT.ok);
    const { nudges } = JSON.parse(list.stdout.join('\n')) as { nudges: Array<{ status: string; body: string }> };
    expect(nudges).toHaveLength(1);
    expect(nudges[0]!.status).toBe('sent');
    expect(nudges[0]!.body).toContain('In the Payments charter, the call on bug triage belongs to Sam.');
  });

  it('records dry runs for a team in dry-run mode, and rejects a bad --limit', async () => {
    await writeFile(join(dir, 'lanes.yaml'), stringify(charter('dry-run')));
    const dry = await lanes('nudges', 'run');
    expect(dry.exitCode, dry.stderr.join('\n')).toBe(EXIT.ok);
    expect(dry.stdout.join('\n')).toContain('1 dry run');
    expect(jira.requests).toHaveLength(0);
    expect((await lanes('nudges', 'list')).stdout.join('\n')).toMatch(
      /payments PAY-231 eng\.bug-triage → jira:PAY-231: dry_run$/,
    );
    expect((await lanes('nudges', 'list', '--limit', '0')).exitCode).toBe(EXIT.invalid);
  });
});
