import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeAnswer, type FakeApi, type FakeRequest } from '../../test/support/fake-api.js';
import type { Secrets } from '../config.js';
import type { BoundaryOwners } from '../domain/boundary.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { charterSchema, type CharterInput } from '../domain/charter.schema.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import type { ServiceContext } from './context.js';
import { buildNudgeSenders, listNudges, runNudges, type RunNudgesInput } from './nudges.service.js';

const NOW = new Date('2026-06-10T15:00:00.000Z');
const DAY = 86_400_000;
const at = (msBeforeNow: number): string => new Date(NOW.getTime() - msBeforeNow).toISOString();

type NudgeSettingsInput = NonNullable<CharterInput['teams'][number]['nudges']>;

/** Payments (engineering decides bug triage; Sam leads) and Growth, with the nudge settings given per team. */
const charterWith = (nudges: { payments?: NudgeSettingsInput; growth?: NudgeSettingsInput }) =>
  charterSchema.parse({
    version: 1,
    workspace: { id: 'acme', name: 'Acme' },
    people: [
      { id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead', github: 'samlee', jira: 'acc-sam', slack: 'U0SAM' },
      { id: 'ana.diaz', name: 'Ana Diaz', role: 'engineer' },
      { id: 'dana.ross', name: 'Dana Ross', role: 'product-manager', github: 'danar' },
      { id: 'dee.kim', name: 'Dee Kim', role: 'designer' },
      { id: 'gus.hale', name: 'Gus Hale', role: 'tech-lead' },
      { id: 'gia.lopez', name: 'Gia Lopez', role: 'product-manager' },
      { id: 'vic.tor', name: 'Vic Tor', role: 'engineering-leadership' },
    ],
    teams: [
      {
        id: 'payments',
        name: 'Payments',
        members: ['sam.lee', 'ana.diaz', 'dana.ross', 'dee.kim'],
        trio: { product: 'dana.ross', design: 'dee.kim', tech: 'sam.lee' },
        escalation: 'vic.tor',
        ...(nudges.payments ? { nudges: nudges.payments } : {}),
      },
      {
        id: 'growth',
        name: 'Growth',
        members: ['gus.hale', 'gia.lopez', 'dee.kim'],
        trio: { product: 'gia.lopez', design: 'dee.kim', tech: 'gus.hale' },
        escalation: 'vic.tor',
        ...(nudges.growth ? { nudges: nudges.growth } : {}),
      },
    ],
  } satisfies CharterInput);

const paymentsOwners: BoundaryOwners = {
  decides: 'engineering',
  people: [
    { id: 'sam.lee', name: 'Sam Lee', role: 'tech-lead' },
    { id: 'ana.diaz', name: 'Ana Diaz', role: 'engineer' },
  ],
  delegates: [],
  consulted: ['product'],
  informed: [],
};

const growthOwners: BoundaryOwners = {
  decides: 'engineering',
  people: [{ id: 'gus.hale', name: 'Gus Hale', role: 'tech-lead' }],
  delegates: [],
  consulted: ['product'],
  informed: [],
};

interface Crossing {
  eventId: string;
  itemKey: string | null;
  source?: string;
  team?: string;
  domain?: string;
  occurredAt?: string;
  standing?: string;
  crossing?: boolean;
  owners?: BoundaryOwners;
  field?: string | null;
  to?: string | null;
  itemTitle?: string;
  itemKind?: string;
  itemUrl?: string | null;
}

/** Stores a decision held against the charter, with its event and item, as the boundary monitor would. */
const insertDecision = async (database: Database, c: Crossing): Promise<void> => {
  const occurredAt = c.occurredAt ?? at(DAY);
  const team = c.team ?? 'payments';
  await database.db
    .insertInto('event')
    .values({
      id: c.eventId,
      source: c.source ?? 'jira',
      source_event_id: c.eventId,
      occurred_at: occurredAt,
      received_at: occurredAt,
      actor_identity: 'jira:acc-dana',
      actor_person_id: 'dana.ross',
      item_key: c.itemKey,
      item_snapshot: null,
      kind: 'field_changed',
      field: c.field === undefined ? 'priority' : c.field,
      from_value: null,
      to_value: c.to === undefined ? 'P1' : c.to,
      body: null,
      target: null,
      data: null,
      payload: null,
      payload_ref: null,
    })
    .execute();
  if (c.itemKey !== null) {
    await database.db
      .insertInto('item')
      .values({
        key: c.itemKey,
        kind: c.itemKind ?? 'bug',
        title: c.itemTitle ?? 'Checkout total fails',
        team,
        component: null,
        severity: null,
        priority: 'P1',
        assignee: null,
        reporter: null,
        customer: null,
        state: 'open',
        resolution: null,
        stage: 'triage',
        url: c.itemUrl === undefined ? null : c.itemUrl,
        created_at: occurredAt,
        updated_at: occurredAt,
        closed_at: null,
        reopen_count: 0,
        comment_count: 0,
        event_count: 1,
        pr_open: 0,
        merged_at: null,
        deployed_at: null,
        verified_at: null,
        last_order_key: occurredAt,
        labels: '[]',
      })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  }
  const crossing = c.crossing ?? true;
  await database.db
    .insertInto('boundary_decision')
    .values({
      event_id: c.eventId,
      item_key: c.itemKey,
      occurred_at: occurredAt,
      week: occurredAt.slice(0, 10),
      team,
      domain: c.domain ?? 'eng.bug-triage',
      rule: 'priority-on-bug',
      actor_role: 'product-manager',
      standing: c.standing ?? (crossing ? 'consulted' : 'decider'),
      via: crossing ? null : 'charter',
      direction: crossing ? 'product_to_engineering' : 'other',
      crossing: crossing ? 1 : 0,
      sentence: `Priority of bug ${c.itemKey ?? '?'} was set by a product manager (Dana).`,
      owners: JSON.stringify(c.owners ?? (team === 'growth' ? growthOwners : paymentsOwners)),
    })
    .execute();
};

describe.each(testEngines())('boundary nudges on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let charter: ReturnType<typeof charterWith>;
  let github: FakeApi;
  let jira: FakeApi;
  let slack: FakeApi;
  let githubAnswer: (r: FakeRequest) => FakeAnswer;
  let jiraAnswer: (r: FakeRequest) => FakeAnswer;
  let slackAnswer: (r: FakeRequest) => FakeAnswer;
  let secrets: Secrets;

  beforeEach(async () => {
    database = await open();
    charter = charterWith({ payments: { enabled: true, mode: 'send' } });
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: randomUUID,
      charter: () => ({ charter, index: buildCharterIndex(charter), path: 'lanes.yaml', loadedAt: NOW.toISOString() }),
    };
    githubAnswer = () => ({ status: 201, body: { id: 1, html_url: 'https://github.example/c/1' } });
    jiraAnswer = () => ({ status: 201, body: { id: '10001' } });
    slackAnswer = () => ({ status: 200, body: { ok: true, channel: 'C0PAY', ts: '1.2' } });
    github = await startFakeApi((r) => githubAnswer(r));
    jira = await startFakeApi((r) => jiraAnswer(r));
    slack = await startFakeApi((r) => slackAnswer(r));
    secrets = {
      LANES_GITHUB_TOKEN: 'ghp_test',
      LANES_GITHUB_API_URL: github.url,
      LANES_JIRA_URL: jira.url,
      LANES_JIRA_EMAIL: 'lanes@acme.example',
      LANES_JIRA_API_TOKEN: 'jira-token',
      LANES_SLACK_BOT_TOKEN: 'xoxb-test',
      LANES_SLACK_API_URL: `${slack.url}/api`,
    };
  });
  afterEach(async () => {
    await Promise.all([github.close(), jira.close(), slack.close()]);
    await database.close();
  });

  const run = (input: RunNudgesInput = {}) =>
    runNudges(ctx, { now: NOW, senders: buildNudgeSenders(secrets, undefined), ...input });
  const stored = () =>
    database.db.selectFrom('boundary_nudge').selectAll().orderBy('created_at').orderBy('decision_event_id').execute();
  const setNudges = (nudges: Parameters<typeof charterWith>[0]) => {
    charter = charterWith(nudges);
  };
  const allRequests = () => [...github.requests, ...jira.requests, ...slack.requests];

  it('comments on the GitHub issue, naming and mentioning the owner, and records it once', async () => {
    await insertDecision(database, {
      eventId: 'gh-1',
      itemKey: 'acme/web#12',
      source: 'github',
      itemUrl: 'https://github.com/acme/web/issues/12',
    });
    const result = await run();
    expect(result).toMatchObject({ considered: 1, sent: 1, dryRun: 0, failed: 0 });

    expect(github.requests).toHaveLength(1);
    const [request] = github.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/repos/acme/web/issues/12/comments');
    expect(request!.headers.authorization).toBe('Bearer ghp_test');
    const body = (JSON.parse(request!.body) as { body: string }).body;
    expect(body).toContain('the priority of this bug was set to `P1`');
    expect(body).toContain('belongs to engineering (Sam and Ana). Sam (@samlee), this one is yours to confirm');
    expect(body).not.toMatch(/Dana|danar/);

    const rows = await stored();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      decision_event_id: 'gh-1',
      team: 'payments',
      channel: 'github',
      target: 'https://github.com/acme/web/issues/12',
      mode: 'send',
      status: 'sent',
      reason: null,
      body,
      sent_at: NOW.toISOString(),
      error: null,
    });

    // A decision is considered once.
    expect(await run()).toMatchObject({ considered: 0, sent: 0 });
    expect(github.requests).toHaveLength(1);
  });

  it('comments on a Jira Cloud issue with an Atlassian Document, and on Data Center with wiki markup', async () => {
    await insertDecision(database, { eventId: 'j-1', itemKey: 'PAY-231', source: 'jira' });
    expect(await run()).toMatchObject({ sent: 1 });
    const [cloud] = jira.requests;
    expect(cloud!.path).toBe('/rest/api/3/issue/PAY-231/comment');
    expect(cloud!.headers.authorization).toBe(
      `Basic ${Buffer.from('lanes@acme.example:jira-token').toString('base64')}`,
    );
    const adf = JSON.parse(cloud!.body) as {
      body: { type: string; content: Array<{ content: Array<{ text: string }> }> };
    };
    expect(adf.body.type).toBe('doc');
    const text = adf.body.content[0]!.content.map((n) => n.text).join('');
    expect(text).toContain('In the Payments charter, the call on bug triage belongs to engineering (Sam and Ana)');
    expect(text).toContain('Sam, this one is yours to confirm');

    secrets = { LANES_JIRA_URL: `${jira.url}/jira`, LANES_JIRA_PAT: 'pat-dc' };
    await insertDecision(database, { eventId: 'j-2', itemKey: 'PAY-232', source: 'jira' });
    expect(await run()).toMatchObject({ sent: 1 });
    const dc = jira.requests[1]!;
    expect(dc.path).toBe('/jira/rest/api/2/issue/PAY-232/comment');
    expect(dc.headers.authorization).toBe('Bearer pat-dc');
    expect((JSON.parse(dc.body) as { body: string }).body).toContain('Sam, this one is yours to confirm');
  });

  it('posts to Slack with the bot token, naming the item and keeping a hostile title inert', async () => {
    setNudges({ payments: { enabled: true, mode: 'send', channel: 'slack', slack_channel: 'C0PAY' } });
    await insertDecision(database, {
      eventId: 'j-1',
      itemKey: 'PAY-231',
      itemTitle: '<!channel> <script>alert(1)</script> **now** [x](http://evil.example)',
    });
    expect(await run()).toMatchObject({ sent: 1 });
    expect(slack.requests).toHaveLength(1);
    const [request] = slack.requests;
    expect(request!.path).toBe('/api/chat.postMessage');
    expect(request!.headers.authorization).toBe('Bearer xoxb-test');
    const sent = JSON.parse(request!.body) as { channel: string; text: string };
    expect(sent.channel).toBe('C0PAY');
    expect(sent.text).toContain('the priority of bug PAY-231 (`&lt;!channel&gt; &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(sent.text).toContain('<@U0SAM>, this one is yours to confirm');
    expect(sent.text.replace('<@U0SAM>', '')).not.toMatch(/[<>]/);
    expect(jira.requests).toHaveLength(0);
    expect((await stored())[0]).toMatchObject({ channel: 'slack', target: 'slack:C0PAY', status: 'sent' });
  });

  it('records what would be sent in dry-run mode and sends nothing', async () => {
    setNudges({ payments: { enabled: true } });
    await insertDecision(database, { eventId: 'gh-1', itemKey: 'acme/web#12', source: 'github' });
    await insertDecision(database, { eventId: 'j-1', itemKey: 'PAY-231', source: 'jira' });
    const result = await run();
    expect(result).toMatchObject({ considered: 2, sent: 0, dryRun: 2, failed: 0 });
    expect(allRequests()).toHaveLength(0);
    const rows = await stored();
    expect(rows.map((r) => [r.decision_event_id, r.mode, r.status, r.target])).toEqual([
      ['gh-1', 'dry-run', 'dry_run', 'github:acme/web#12'],
      ['j-1', 'dry-run', 'dry_run', 'jira:PAY-231'],
    ]);
    expect(rows[0]!.body).toContain('Sam (@samlee), this one is yours to confirm');
    expect(rows[1]!.body).toContain('Sam, this one is yours to confirm');
  });

  it('previews with the override: nothing sent, nothing stored, and the real run still sends', async () => {
    await insertDecision(database, { eventId: 'gh-1', itemKey: 'acme/web#12', source: 'github' });
    const preview = await run({ dryRunOverride: true });
    expect(preview).toMatchObject({ considered: 1, dryRun: 1, sent: 0 });
    expect(preview.outcomes[0]).toMatchObject({ status: 'dry_run', target: 'github:acme/web#12' });
    expect(preview.outcomes[0]!.body).toContain('this one is yours to confirm');
    expect(allRequests()).toHaveLength(0);
    expect(await stored()).toHaveLength(0);

    expect(await run()).toMatchObject({ sent: 1 });
    expect(github.requests).toHaveLength(1);
  });

  it('nudges an item and domain at most once in 7 days', async () => {
    await insertDecision(database, { eventId: 'j-1', itemKey: 'PAY-231', occurredAt: at(3 * 3_600_000) });
    await insertDecision(database, {
      eventId: 'j-2',
      itemKey: 'PAY-231',
      occurredAt: at(2 * 3_600_000),
      field: 'severity',
    });
    // Another domain on the same item is its own nudge.
    await insertDecision(database, {
      eventId: 'j-3',
      itemKey: 'PAY-231',
      occurredAt: at(3_600_000),
      domain: 'eng.assignment',
    });
    const first = await run();
    expect(first).toMatchObject({ considered: 3, sent: 2, skipped: { already_nudged: 1 } });
    expect(jira.requests).toHaveLength(2);

    // Six days later the same item and domain is still quiet; eight days later it may be nudged again.
    const sixDays = new Date(NOW.getTime() + 6 * DAY);
    await insertDecision(database, { eventId: 'j-4', itemKey: 'PAY-231', occurredAt: sixDays.toISOString() });
    expect(await run({ now: sixDays })).toMatchObject({ considered: 1, sent: 0, skipped: { already_nudged: 1 } });
    const eightDays = new Date(NOW.getTime() + 8 * DAY);
    await insertDecision(database, { eventId: 'j-5', itemKey: 'PAY-231', occurredAt: eightDays.toISOString() });
    expect(await run({ now: eightDays })).toMatchObject({ considered: 1, sent: 1 });
    expect(jira.requests).toHaveLength(3);
    const reasons = (await stored()).map((r) => [r.decision_event_id, r.status, r.reason]);
    expect(reasons).toEqual([
      ['j-1', 'sent', null],
      ['j-2', 'skipped', 'already_nudged'],
      ['j-3', 'sent', null],
      ['j-4', 'skipped', 'already_nudged'],
      ['j-5', 'sent', null],
    ]);
  });

  it('keeps to the daily cap per team and UTC day', async () => {
    setNudges({
      payments: { enabled: true, mode: 'send', daily_cap: 2 },
      growth: { enabled: true, mode: 'send', daily_cap: 2 },
    });
    for (const n of [1, 2, 3, 4]) {
      await insertDecision(database, { eventId: `p-${n}`, itemKey: `PAY-${n}`, occurredAt: at(n * 60_000) });
    }
    await insertDecision(database, { eventId: 'g-1', itemKey: 'GRO-1', team: 'growth' });
    const result = await run();
    expect(result).toMatchObject({ considered: 5, sent: 3, skipped: { daily_cap: 2 } });
    // The oldest crossings go first; Growth has a cap of its own.
    expect(jira.requests.map((r) => r.path)).toEqual([
      '/rest/api/3/issue/GRO-1/comment',
      '/rest/api/3/issue/PAY-4/comment',
      '/rest/api/3/issue/PAY-3/comment',
    ]);

    // Later the same UTC day the cap still holds; the next day there is room again.
    const evening = new Date('2026-06-10T23:30:00.000Z');
    await insertDecision(database, { eventId: 'p-5', itemKey: 'PAY-5', occurredAt: evening.toISOString() });
    expect(await run({ now: evening })).toMatchObject({ considered: 1, sent: 0, skipped: { daily_cap: 1 } });
    const tomorrow = new Date('2026-06-11T00:30:00.000Z');
    await insertDecision(database, { eventId: 'p-6', itemKey: 'PAY-6', occurredAt: tomorrow.toISOString() });
    expect(await run({ now: tomorrow })).toMatchObject({ considered: 1, sent: 1 });
  });

  it('is off by default: a team without nudges, or with them disabled, gets nothing', async () => {
    setNudges({ growth: { enabled: false, mode: 'send' } });
    await insertDecision(database, { eventId: 'j-1', itemKey: 'PAY-231' });
    await insertDecision(database, { eventId: 'g-1', itemKey: 'GRO-1', team: 'growth' });
    expect(await run()).toMatchObject({ considered: 0, sent: 0, dryRun: 0, failed: 0 });
    expect(await stored()).toHaveLength(0);
    expect(allRequests()).toHaveLength(0);

    // Without a charter there is nothing to nudge by.
    ctx = { ...ctx, charter: () => undefined };
    expect(await run()).toMatchObject({ considered: 0 });
  });

  it('considers only recent crossings by people the charter knows, and leaves settled ones alone', async () => {
    setNudges({ payments: { enabled: true, mode: 'send', domains: ['eng.bug-triage'] } });
    await insertDecision(database, { eventId: 'old', itemKey: 'PAY-1', occurredAt: at(8 * DAY) });
    await insertDecision(database, { eventId: 'bot', itemKey: 'PAY-2', standing: 'bot' });
    await insertDecision(database, { eventId: 'gap', itemKey: 'PAY-3', standing: 'unknown' });
    await insertDecision(database, { eventId: 'in-lane', itemKey: 'PAY-4', crossing: false });
    await insertDecision(database, { eventId: 'filtered', itemKey: 'PAY-5', domain: 'eng.assignment' });
    await insertDecision(database, { eventId: 'demo', itemKey: 'PAY-6', source: 'demo' });
    await insertDecision(database, { eventId: 'linear', itemKey: 'LIN-7', source: 'linear' });
    // The PM set the priority; the tech lead decided on the same item afterwards.
    await insertDecision(database, { eventId: 'settled', itemKey: 'PAY-8', occurredAt: at(2 * DAY) });
    await insertDecision(database, {
      eventId: 'settled-by-lead',
      itemKey: 'PAY-8',
      occurredAt: at(DAY),
      crossing: false,
    });
    await insertDecision(database, { eventId: 'nobody', itemKey: 'PAY-9', owners: { ...paymentsOwners, people: [] } });

    const result = await run();
    expect(result).toMatchObject({
      considered: 5,
      sent: 0,
      skipped: { domain_filtered: 1, no_target: 2, owner_followed_up: 1, no_owner: 1 },
    });
    expect(allRequests()).toHaveLength(0);
    expect(Object.fromEntries((await stored()).map((r) => [r.decision_event_id, r.reason]))).toEqual({
      filtered: 'domain_filtered',
      demo: 'no_target',
      linear: 'no_target',
      settled: 'owner_followed_up',
      nobody: 'no_owner',
    });
  });

  it('records a 500 and a Slack ok:false as failed, and carries on with the others', async () => {
    setNudges({
      payments: { enabled: true, mode: 'send' },
      growth: { enabled: true, mode: 'send', channel: 'slack', slack_channel: 'C0GONE' },
    });
    githubAnswer = () => ({ status: 500, body: { message: 'Server Error' } });
    slackAnswer = () => ({ status: 200, body: { ok: false, error: 'channel_not_found' } });
    await insertDecision(database, {
      eventId: 'gh-1',
      itemKey: 'acme/web#12',
      source: 'github',
      occurredAt: at(3 * 60_000),
    });
    await insertDecision(database, { eventId: 'g-1', itemKey: 'GRO-1', team: 'growth', occurredAt: at(2 * 60_000) });
    await insertDecision(database, { eventId: 'j-1', itemKey: 'PAY-231', occurredAt: at(60_000) });

    const result = await run();
    expect(result).toMatchObject({ considered: 3, sent: 1, failed: 2 });
    // A POST is not retried: a 5xx may have posted the comment all the same.
    expect(github.requests).toHaveLength(1);
    expect(slack.requests).toHaveLength(1);
    expect(jira.requests).toHaveLength(1);
    const rows = Object.fromEntries((await stored()).map((r) => [r.decision_event_id, r]));
    expect(rows['gh-1']).toMatchObject({ status: 'failed', sent_at: null });
    expect(rows['gh-1']!.error).toMatch(/answered 500/);
    expect(rows['g-1']).toMatchObject({ status: 'failed' });
    expect(rows['g-1']!.error).toContain('channel_not_found');
    expect(rows['j-1']).toMatchObject({ status: 'sent' });

    // A failed send reached nobody: the next crossing on that item may be nudged.
    githubAnswer = () => ({ status: 201, body: {} });
    await insertDecision(database, { eventId: 'gh-2', itemKey: 'acme/web#12', source: 'github', field: 'severity' });
    expect(await run()).toMatchObject({ sent: 1 });
  });

  it('fails the send, not the run, when a channel has no credentials', async () => {
    secrets = {};
    await insertDecision(database, { eventId: 'gh-1', itemKey: 'acme/web#12', source: 'github' });
    const result = await run();
    expect(result).toMatchObject({ considered: 1, failed: 1 });
    expect(result.outcomes[0]!.error).toContain('LANES_GITHUB_TOKEN');
  });

  it('never considers a decision another run has claimed', async () => {
    await insertDecision(database, { eventId: 'j-1', itemKey: 'PAY-231' });
    await database.db
      .insertInto('boundary_nudge')
      .values({
        id: 'other-run',
        team: 'payments',
        item_key: 'PAY-231',
        domain: 'eng.bug-triage',
        decision_event_id: 'j-1',
        channel: 'jira',
        target: 'jira:PAY-231',
        mode: 'send',
        status: 'sending',
        reason: null,
        body: 'x',
        created_at: at(1000),
        sent_at: null,
        error: null,
      })
      .execute();
    expect(await run()).toMatchObject({ considered: 0 });
    expect(jira.requests).toHaveLength(0);
  });

  it('lists nudges, newest first, per team', async () => {
    setNudges({ payments: { enabled: true }, growth: { enabled: true } });
    await insertDecision(database, { eventId: 'j-1', itemKey: 'PAY-231' });
    await runNudges(ctx, { now: new Date(NOW.getTime() - 60_000) });
    await insertDecision(database, { eventId: 'g-1', itemKey: 'GRO-1', team: 'growth' });
    await run();
    expect((await listNudges(ctx, { limit: 10 })).map((n) => n.decisionEventId)).toEqual(['g-1', 'j-1']);
    const payments = await listNudges(ctx, { team: 'payments', limit: 10 });
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({ team: 'payments', itemKey: 'PAY-231', status: 'dry_run', mode: 'dry-run' });
  });
});
