import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { sign } from '@octokit/webhooks-methods';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCharterIndex } from '../domain/charter.identity.js';
import type { Charter } from '../domain/charter.schema.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import { addUser, createToken } from '../services/access.service.js';
import type { LoadedCharter, ServiceContext } from '../services/context.js';
import { createWebhookIntake, type WebhookIntake } from '../services/webhooks.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const GITHUB_SECRET = 'gh-reported-test-secret';
const CLI = { kind: 'cli' } as const;

/** GitHub's own example of an `issues.opened` delivery (Codertocat/Hello-World#1). */
const issueOpened = (): string => {
  const require = createRequire(import.meta.url);
  const all = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples'), 'utf8')) as {
    name: string;
    examples: { action?: string }[];
  }[];
  return JSON.stringify(all.find((d) => d.name === 'issues')!.examples.find((e) => e.action === 'opened'));
};

const created = (source: string, id: string, key: string) => ({
  source,
  sourceEventId: id,
  occurredAt: '2026-05-01T00:00:00Z',
  item: { key, kind: 'bug', title: 'Refund fails' },
  change: { kind: 'created' },
});

/** A priority change on a Payments bug that names the Payments tech lead (Daniel, github:dokafor) as its actor. */
const priorityByDaniel = (source: string, key: string) => ({
  source,
  sourceEventId: `${key}-priority`,
  occurredAt: '2026-05-20T10:00:00Z',
  actor: { kind: 'github', id: 'dokafor' },
  item: { key, kind: 'bug', title: 'Card declined on retry', team: 'payments', component: 'checkout' },
  change: { kind: 'field_changed', field: 'priority', from: 'P3', to: 'P1' },
});

describe.each(testEngines())('events posted through the API on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  let intake: WebhookIntake;
  let priya: { authorization: string };
  const charter: Charter = { ...buildDemoCharter(42, NOW), trusted_sources: ['deploys'] };
  const loaded: LoadedCharter = {
    charter,
    index: buildCharterIndex(charter),
    path: 'lanes.yaml',
    loadedAt: NOW.toISOString(),
  };
  const post = (role: 'admin' | 'member', events: unknown[]) =>
    t.as(role, { method: 'POST', url: '/api/v1/events', payload: { events } });
  const item = async (key: string) =>
    (await t.as('member', { method: 'GET', url: `/api/v1/items/${encodeURIComponent(key)}` })).json();

  beforeAll(async () => {
    database = await open();
    const hookCtx: ServiceContext = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => randomUUID(),
      charter: () => loaded,
    };
    intake = createWebhookIntake(hookCtx, { LANES_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET }, { autoDrain: false });
    t = await buildTestServer(database, {
      charter: loaded,
      server: { webhooks: { intake, bodyLimit: 25 << 20, active: ['github'] } },
    });
    // The Payments product manager has a Lanes account (a member) under the e-mail the charter gives her.
    const user = await addUser(t.ctx, CLI, {
      email: 'priya.raman@acme.example',
      name: 'Priya',
      role: 'member',
      password: 'long-enough-password',
    });
    priya = { authorization: `Bearer ${(await createToken(t.ctx, CLI, user, 'priya')).secret}` };
  });
  afterAll(async () => {
    await intake.close();
    await t.server.app.close();
    await database.close();
  });

  it('refuses connector and Lanes sources whatever the token, rejecting the whole batch with the index', async () => {
    for (const source of ['github', 'jira', 'linear', 'lanes']) {
      const res = await post('admin', [
        created('native', `ok-${source}`, `NAT-${source}`),
        created(source, 'x', 'NAT-x'),
      ]);
      expect(res.statusCode, source).toBe(403);
      expect(res.json().error).toMatchObject({
        code: 'LANES_SOURCE_RESERVED',
        details: { rejections: [{ index: 1, code: 'LANES_SOURCE_RESERVED', path: ['source'] }] },
      });
      expect((await t.as('member', { method: 'GET', url: `/api/v1/items/NAT-${source}` })).statusCode).toBe(404);
    }
  });

  it('lets no forged event pre-empt a later genuine, signed GitHub delivery with the same id', async () => {
    const key = 'Codertocat/Hello-World#1';
    const forged = await post('member', [
      {
        ...created('github', `${key}/created`, key),
        actor: { kind: 'github', id: 'dokafor' },
        item: { key, kind: 'bug', title: 'Forged title' },
      },
    ]);
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe('LANES_SOURCE_RESERVED');

    const body = issueOpened();
    const delivery = await t.server.app.inject({
      method: 'POST',
      url: '/hooks/github',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': 'genuine-1',
        'x-hub-signature-256': await sign(GITHUB_SECRET, body),
      },
      payload: body,
    });
    expect(delivery.statusCode).toBe(202);
    expect(await intake.drain()).toMatchObject({ failed: 0 });
    const stored = await item(key);
    expect(stored.item.title).toBe('Spelling error in the README file');
    expect(stored.events[0]).toMatchObject({
      source: 'github',
      sourceEventId: `${key}/created`,
      actor: { identity: 'github:codertocat' },
      reportedBy: null,
    });
  });

  it('records which user and token posted an event, and shows it in the item history', async () => {
    expect((await post('member', [created('native', 'rep-1', 'NAT-1')])).statusCode).toBe(200);
    const memberTokenId = t.tokens.member.slice('lanes_'.length, 'lanes_'.length + 12);
    expect((await item('NAT-1')).events[0].reportedBy).toEqual({ user: 'member@acme.example', token: memberTokenId });

    // From a browser session: the user, and no token.
    const login = await t.server.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'member@acme.example', password: t.passwords.member },
    });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const viaSession = await t.server.app.inject({
      method: 'POST',
      url: '/api/v1/events',
      headers: { cookie, 'x-csrf-token': login.json().csrfToken },
      payload: { events: [created('native', 'rep-2', 'NAT-2')] },
    });
    expect(viaSession.statusCode).toBe(200);
    expect((await item('NAT-2')).events[0].reportedBy).toEqual({ user: 'member@acme.example', token: null });
  });

  it('holds an API-posted decision against the user who reported it unless the charter trusts its source', async () => {
    // Priya (the PM) posts, through an untrusted source, that Daniel (the tech lead) raised a bug's priority.
    expect(
      (
        await t.server.app.inject({
          method: 'POST',
          url: '/api/v1/events',
          headers: priya,
          payload: { events: [priorityByDaniel('native', 'PAY-7001')] },
        })
      ).statusCode,
    ).toBe(200);
    // A member the charter does not know reports the same through an untrusted source: a charter gap, not Daniel.
    expect((await post('member', [priorityByDaniel('native', 'PAY-7002')])).statusCode).toBe(200);
    // Through `deploys`, which the charter trusts, the event's actor is believed.
    expect(
      (
        await t.server.app.inject({
          method: 'POST',
          url: '/api/v1/events',
          headers: priya,
          payload: { events: [priorityByDaniel('deploys', 'PAY-7003')] },
        })
      ).statusCode,
    ).toBe(200);

    // A full recompute over the log judges the same way as the append did.
    expect((await t.as('admin', { method: 'POST', url: '/api/v1/boundaries/recompute' })).statusCode).toBe(200);
    const report = (await t.as('member', { method: 'GET', url: '/api/v1/boundaries?team=payments&since=365d' })).json();
    const triage = report.teams[0].domains.find((d: { domain: string }) => d.domain === 'eng.bug-triage');
    const byRole = Object.fromEntries(
      triage.byRole.map((r: { role: string; decisions: number; crossings: number }) => [r.role, r]),
    );
    expect(byRole['product-manager']).toMatchObject({ decisions: 1, crossings: 1 });
    expect(byRole['tech-lead']).toMatchObject({ decisions: 1, crossings: 0 });
    expect(triage).toMatchObject({ decisions: 3, inLane: 1, crossings: 1, charterGaps: 1 });
    const sentences = report.teams[0].examples.map((e: { sentence: string }) => e.sentence);
    expect(sentences).toEqual([
      expect.stringMatching(
        /^Priority of bug PAY-7001 was changed, reported by a product manager \(Priya\) \(names Daniel\)\./,
      ),
    ]);
  });
});
