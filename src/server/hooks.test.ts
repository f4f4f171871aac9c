import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sign } from '@octokit/webhooks-methods';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Secrets } from '../config.js';
import type { ServiceContext } from '../services/context.js';
import { listSources } from '../services/sources.service.js';
import { createWebhookIntake, type WebhookIntake } from '../services/webhooks.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { countEvents } from '../store/event.repository.js';
import { listItems } from '../store/item.repository.js';
import { createServer, type LanesServer } from './server.js';

const SECRETS: Secrets = {
  LANES_GITHUB_WEBHOOK_SECRET: 'gh-test-secret-9f2c',
  LANES_JIRA_WEBHOOK_SECRET: 'jira-test-secret-71aa',
  LANES_LINEAR_WEBHOOK_SECRET: 'linear-test-secret-c0de',
};
const GITHUB_EVENTS = [
  'issues',
  'issue_comment',
  'label',
  'milestone',
  'pull_request',
  'pull_request_review',
  'deployment',
  'deployment_status',
  'workflow_run',
];

const githubExamples = (): { event: string; body: string }[] => {
  const require = createRequire(import.meta.url);
  const all = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples'), 'utf8')) as {
    name: string;
    examples: unknown[];
  }[];
  return all
    .filter((d) => GITHUB_EVENTS.includes(d.name))
    .flatMap((d) => d.examples.map((e) => ({ event: d.name, body: JSON.stringify(e) })));
};

const FIXTURES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'external', 'webhooks');
const jsonFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'gitlab' ? [] : jsonFiles(path);
    return name.endsWith('.json') ? [path] : [];
  });

const hmacHex = (secret: string, body: string): string => createHmac('sha256', secret).update(body).digest('hex');

describe.each(testEngines())('webhooks over HTTP on $engine', ({ open }) => {
  let database: Database;
  let server: LanesServer;
  let intake: WebhookIntake;
  let ctx: ServiceContext;
  let logLines: string[];
  const now = new Date('2026-06-01T00:00:00Z');

  const build = (secrets: Secrets, bodyLimit = 25 << 20) => {
    logLines = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    let n = 0;
    ctx = {
      database,
      logger: pino({ level: 'trace' }, sink),
      clock: () => now,
      newId: () => `id-${(++n).toString().padStart(7, '0')}`,
      charter: () => undefined,
    };
    intake = createWebhookIntake(ctx, secrets, { autoDrain: false });
    server = createServer(ctx, {
      bodyLimit: 64 * 1024,
      version: 'test',
      webhooks: { intake, bodyLimit, active: ['github', 'jira', 'linear'] },
    });
  };

  beforeEach(async () => {
    database = await open();
    build(SECRETS);
  });
  afterEach(async () => {
    await intake.close();
    await server.app.close();
    await database.close();
  });

  const deliveries = async () =>
    database.db.selectFrom('webhook_delivery').select(['delivery_id', 'status', 'event_type', 'error']).execute();

  const postGithub = async (e: { event: string; body: string }, id: string, signature?: string) =>
    server.app.inject({
      method: 'POST',
      url: '/hooks/github',
      headers: {
        'content-type': 'application/json',
        'x-github-event': e.event,
        'x-github-delivery': id,
        ...(signature === undefined
          ? { 'x-hub-signature-256': await sign(SECRETS.LANES_GITHUB_WEBHOOK_SECRET!, e.body) }
          : signature
            ? { 'x-hub-signature-256': signature }
            : {}),
      },
      payload: e.body,
    });

  it('accepts and maps every @octokit/webhooks-examples payload of the mapped events', async () => {
    const examples = githubExamples();
    expect(examples.length).toBeGreaterThan(60);
    for (const [i, e] of examples.entries()) {
      const res = await postGithub(e, `delivery-${i}`);
      expect(res.statusCode, `${e.event} #${i}: ${res.body}`).toBe(202);
    }
    const drained = await intake.drain();
    expect(drained).toMatchObject({ deliveries: examples.length, failed: 0, unknown: 0 });
    const stored = await deliveries();
    expect(stored.filter((d) => d.status !== 'mapped')).toEqual([]);
    expect(await countEvents(database)).toBeGreaterThan(examples.length / 2);
    const keys = (await listItems(database, {}, 200)).map((i) => i.key);
    expect(keys).toContain('Codertocat/Hello-World#1');
    expect(keys.length).toBeGreaterThan(1);
  });

  it('refuses forged, missing and stale-body signatures with 401 and stores nothing', async () => {
    const examples = githubExamples().slice(0, 40);
    for (const [i, e] of examples.entries()) {
      const forged = await postGithub(e, `forged-${i}`, await sign('not-the-secret', e.body));
      expect(forged.statusCode).toBe(401);
      expect(forged.json()).toMatchObject({ error: { code: 'LANES_WEBHOOK_SIGNATURE' } });
      const missing = await postGithub(e, `missing-${i}`, '');
      expect(missing.statusCode).toBe(401);
    }
    const signedOther = await sign(SECRETS.LANES_GITHUB_WEBHOOK_SECRET!, examples[0]!.body);
    const altered = await postGithub(
      { ...examples[0]!, body: examples[0]!.body.replace('}', ',"x":1}') },
      'altered',
      signedOther,
    );
    expect(altered.statusCode).toBe(401);
    expect(await deliveries()).toEqual([]);
    await intake.drain();
    expect(await countEvents(database)).toBe(0);
    // The secret never reaches the logs.
    expect(logLines.join('')).not.toContain(SECRETS.LANES_GITHUB_WEBHOOK_SECRET);
  });

  it('stores a delivery seen twice once, and says it was a duplicate', async () => {
    const e = githubExamples().find((x) => x.event === 'issues')!;
    const first = await postGithub(e, 'same-delivery');
    const second = await postGithub(e, 'same-delivery');
    expect(first.statusCode).toBe(202);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toMatchObject({ duplicate: true, deliveryId: 'same-delivery' });
    expect(await deliveries()).toHaveLength(1);
  });

  it('acknowledges unknown event types, keeps them raw and counts them', async () => {
    const body = JSON.stringify({ action: 'started', sender: { login: 'octocat', id: 1 } });
    const res = await postGithub({ event: 'watch', body }, 'star-1');
    expect(res.statusCode).toBe(202);
    await intake.drain();
    expect(await deliveries()).toMatchObject([
      { delivery_id: 'star-1', status: 'unknown', event_type: 'watch.started' },
    ]);
    const sources = await listSources(ctx, ['github']);
    expect(sources.find((s) => s.source === 'github')!.webhooks).toMatchObject({
      active: true,
      unknown: 1,
      unknownTypes: [{ eventType: 'watch.started', count: 1 }],
    });
  });

  it('answers 413 to a body over the documented limit and stores nothing', async () => {
    await server.app.close();
    build(SECRETS, 4096);
    const body = JSON.stringify({ action: 'opened', padding: 'x'.repeat(10_000) });
    const res = await postGithub({ event: 'issues', body }, 'big');
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: { code: 'LANES_BODY_TOO_LARGE' } });
    expect(await deliveries()).toEqual([]);
  });

  it('answers 404 for a connector that is not configured', async () => {
    await server.app.close();
    build({ LANES_GITHUB_WEBHOOK_SECRET: 'only-github' });
    const res = await server.app.inject({
      method: 'POST',
      url: '/hooks/jira',
      headers: { 'content-type': 'application/json' },
      payload: '{"webhookEvent":"jira:issue_created"}',
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'LANES_CONNECTOR_NOT_CONFIGURED' } });
  });

  it('converges to the same items whatever order the deliveries arrive in', async () => {
    const examples = githubExamples().filter((e) => ['issues', 'issue_comment', 'pull_request'].includes(e.event));
    for (const [i, e] of examples.entries()) await postGithub(e, `fwd-${i}`);
    await intake.drain();
    const forward = await listItems(database, {}, 500);

    const other = await open();
    try {
      const saved = database;
      database = other;
      await server.app.close();
      build(SECRETS);
      const reversed = [...examples.entries()].reverse();
      for (const [i, e] of reversed) await postGithub(e, `fwd-${i}`);
      await intake.drain();
      const backward = await listItems(database, {}, 500);
      const strip = (items: typeof forward) =>
        items.map((item) => ({ ...item })).sort((a, b) => a.key.localeCompare(b.key));
      expect(strip(backward)).toEqual(strip(forward));
      database = saved;
    } finally {
      await intake.close();
      await server.app.close();
      await other.close();
      build(SECRETS);
    }
  });

  it('accepts every captured Jira webhook signed with the secret, and refuses forged ones', async () => {
    const files = jsonFiles(join(FIXTURES, 'jira-and-gitlab-mobitel'));
    expect(files.length).toBeGreaterThan(10);
    for (const [i, file] of files.entries()) {
      const body = readFileSync(file, 'utf8');
      const ok = await server.app.inject({
        method: 'POST',
        url: '/hooks/jira',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature': `sha256=${hmacHex(SECRETS.LANES_JIRA_WEBHOOK_SECRET!, body)}`,
          'x-atlassian-webhook-identifier': `jira-${i}`,
        },
        payload: body,
      });
      expect(ok.statusCode, `${file}: ${ok.body}`).toBe(202);
      const forged = await server.app.inject({
        method: 'POST',
        url: '/hooks/jira',
        headers: { 'content-type': 'application/json', 'x-hub-signature': `sha256=${hmacHex('wrong', body)}` },
        payload: body,
      });
      expect(forged.statusCode).toBe(401);
    }
    const result = await intake.drain();
    expect(result.failed).toBe(0);
    expect(result.deliveries).toBe(files.length);
    expect(await countEvents(database)).toBeGreaterThan(0);
  });

  it('accepts fresh Linear webhooks and refuses stale or forged ones', async () => {
    const dir = join(FIXTURES, 'linear-korosuke613');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    const post = (body: string, signature: string) =>
      server.app.inject({
        method: 'POST',
        url: '/hooks/linear',
        headers: { 'content-type': 'application/json', 'linear-signature': signature },
        payload: body,
      });
    for (const file of files) {
      // These 2021 payloads predate Linear's webhookTimestamp field; add it as Linear sends it today.
      const payload = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>;
      const fresh = JSON.stringify({ ...payload, webhookTimestamp: now.getTime() - 5_000 });
      expect((await post(fresh, hmacHex(SECRETS.LANES_LINEAR_WEBHOOK_SECRET!, fresh))).statusCode).toBe(202);
      const stale = JSON.stringify({ ...payload, webhookTimestamp: now.getTime() - 5 * 60_000 });
      const staleRes = await post(stale, hmacHex(SECRETS.LANES_LINEAR_WEBHOOK_SECRET!, stale));
      expect(staleRes.statusCode).toBe(401);
      expect(staleRes.json()).toMatchObject({ error: { code: 'LANES_WEBHOOK_STALE' } });
      expect((await post(fresh, hmacHex('forged', fresh))).statusCode).toBe(401);
    }
    const result = await intake.drain();
    expect(result).toMatchObject({ deliveries: files.length, failed: 0 });
    // Linear's 2021 payloads name no actor: the events are kept with an unknown actor.
    const actors = await database.db
      .selectFrom('event')
      .select('actor_identity')
      .where('source', '=', 'linear')
      .execute();
    expect(actors.length).toBeGreaterThan(0);
    expect(actors.every((a) => a.actor_identity === null)).toBe(true);
  });
});
