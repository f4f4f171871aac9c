import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { slackSignature } from '../connectors/slack/slack.command.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { LoadedCharter } from '../services/context.js';
import { appendEvents } from '../services/events.service.js';
import { createWebhookIntake, type WebhookIntake } from '../services/webhooks.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { AUDIENCE_MARK, audienceEvents, VISIBLE_TITLE } from './audience.test-helper.js';
import type { RouteSpec } from './route.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

/**
 * The audience test of issue 13: one security-sensitive item carries a marker
 * in its title, labels, customer, comments and evidence, and one visible item
 * carries another in its internal discussion and triage fields. Every route of
 * the route table — and every route Fastify registered at all, so that nothing
 * can answer outside the table — is called as a stakeholder and anonymously,
 * with every parameter filled in; no answer may contain either marker.
 */

const MARK = AUDIENCE_MARK;
const SECRET_KEY = 'PAY-9001';
const VISIBLE_KEY = 'PAY-9002';
const NOW = new Date('2026-06-01T00:00:00Z');
const GITHUB_SECRET = 'audience-github-secret';
const SLACK_SECRET = 'audience-slack-secret';
const WEB_ROOT = join(import.meta.dirname, '..', '..', 'web', 'dist');

/** Values for every path parameter, query field and body a route may take; a missing one fails the test. */
interface Samples {
  params: Record<string, string[]>;
  query: Record<string, string>;
}

const fill = (url: string, params: Record<string, string[]>): string[] => {
  let urls = [url];
  for (const name of url.match(/:[A-Za-z_]+/g) ?? []) {
    const values = params[name.slice(1)];
    if (!values) throw new Error(`the audience test has no sample for ${name} in ${url}: add one`);
    urls = urls.flatMap((u) => values.map((v) => u.replace(name, encodeURIComponent(v))));
  }
  return urls;
};

const queryOf = (route: RouteSpec, samples: Record<string, string>): string => {
  if (!route.query) return '';
  const schema = z.toJSONSchema(route.query, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  const params = new URLSearchParams();
  for (const name of Object.keys(schema.properties ?? {})) {
    const value = samples[name];
    if (value !== undefined) params.set(name, value);
    else if ((schema.required ?? []).includes(name)) {
      throw new Error(`the audience test has no sample for the query field ${name} of ${route.url}: add one`);
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
};

/** Bodies worth sending to a write route, beyond `{}`: the ones that name the planted items. */
const BODIES: Record<string, unknown[]> = {
  'POST /api/v1/subscriptions': [
    { target: { kind: 'item', key: SECRET_KEY }, channel: 'feed' },
    { target: { kind: 'search', name: 'quokka', search: { q: 'quokka' } }, channel: 'feed' },
    { target: { kind: 'team', team: 'payments' }, channel: 'feed' },
  ],
  'POST /api/v1/session': [{ email: 'stakeholder@acme.example', password: 'wrong-password' }],
};

describe.each(testEngines())('what a stakeholder and the public may see, on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  let intake: WebhookIntake;
  let samples: Samples;
  let cookie: string;
  let csrf: string;
  const seen: string[] = [];

  const call = async (who: 'stakeholder' | 'anonymous', options: InjectOptions): Promise<LightMyRequestResponse> => {
    const headers = { ...(options.headers ?? {}) } as Record<string, string>;
    if (who === 'stakeholder') {
      headers['cookie'] = cookie;
      headers['x-csrf-token'] = csrf;
    }
    const response = await t.server.app.inject({ ...options, headers });
    seen.push(`${who} ${options.method} ${options.url} → ${response.statusCode}`);
    return response;
  };

  const expectNoMarker = (response: LightMyRequestResponse, what: string): void => {
    expect(response.statusCode, `${what}: ${response.body.slice(0, 300)}`).toBeLessThan(500);
    expect(response.body, `${what} answered with a marker`).not.toMatch(MARK);
    expect(JSON.stringify(response.headers), `${what} has a marker in its headers`).not.toMatch(MARK);
  };

  beforeAll(async () => {
    database = await open();
    const charter = buildDemoCharter(42, NOW);
    const loaded: LoadedCharter = {
      charter,
      index: buildCharterIndex(charter),
      path: 'demo',
      loadedAt: NOW.toISOString(),
    };
    t = await buildTestServer(database, {
      charter: loaded,
      server: (ctx) => {
        intake = createWebhookIntake(ctx, { LANES_GITHUB_WEBHOOK_SECRET: GITHUB_SECRET }, { autoDrain: false });
        return {
          webRoot: existsSync(join(WEB_ROOT, 'index.html')) ? WEB_ROOT : undefined,
          webhooks: { intake, bodyLimit: 1024 * 1024, active: ['github'] },
          slackSigningSecret: SLACK_SECRET,
          publicUrl: 'https://lanes.example',
        };
      },
    });
    await appendEvents(t.ctx, audienceEvents(SECRET_KEY, VISIBLE_KEY, NOW));
    await t.server.app.ready();

    const login = await t.server.app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'stakeholder@acme.example', password: t.passwords.stakeholder },
    });
    expect(login.statusCode).toBe(200);
    cookie = String(login.headers['set-cookie']).split(';')[0]!;
    csrf = login.json().csrfToken;

    // What the stakeholder and others own, so that routes taking ids have real ones to try.
    const share = (
      await call('stakeholder', { method: 'POST', url: `/api/v1/portal/items/${VISIBLE_KEY}/share` })
    ).json();
    const adminShare = (
      await t.as('admin', { method: 'POST', url: `/api/v1/portal/items/${VISIBLE_KEY}/share`, payload: {} })
    ).json();
    const feed = (
      await call('stakeholder', {
        method: 'POST',
        url: '/api/v1/subscriptions',
        payload: { target: { kind: 'team', team: 'payments' }, channel: 'feed' },
      })
    ).json();
    const adminSubscription = (
      await t.as('admin', {
        method: 'POST',
        url: '/api/v1/subscriptions',
        payload: { target: { kind: 'item', key: SECRET_KEY }, channel: 'feed' },
      })
    ).json();
    const tokens = (await t.as('admin', { method: 'GET', url: '/api/v1/tokens' })).json().tokens as { id: string }[];
    const feedFile = String(feed.feedUrl ?? '').split('/feeds/')[1] ?? 'AAAAAAAAAAAAAAAAAAAAAAAA.atom';
    const shareToken = String(share.url ?? '').split('/s/')[1] ?? 'none';
    samples = {
      params: {
        key: [SECRET_KEY, VISIBLE_KEY],
        id: [share.id, adminShare.id, feed.id, adminSubscription.id, ...tokens.map((x) => x.id), 'missing-id-1'].filter(
          (x): x is string => typeof x === 'string',
        ),
        token: [shareToken, 'not-a-share-token-at-all'],
        file: [feedFile],
        email: ['admin@acme.example'],
        name: ['checkout-availability'],
        provider: ['github', 'jira'],
      },
      query: {
        q: 'quokka',
        team: 'payments',
        component: 'checkout',
        token: 'not-an-unsubscribe-token',
        since: '90d',
        key: SECRET_KEY,
        answer: 'confirm',
      },
    };
  });

  afterAll(async () => {
    await intake.close();
    await t.server.app.close();
    await database.close();
  });

  it('answers every route of the route table without the markers, as a stakeholder and anonymously', async () => {
    const routes = t.server.routes;
    let calls = 0;
    for (const route of routes) {
      const bodies = route.method === 'GET' ? [undefined] : [{}, ...(BODIES[`${route.method} ${route.url}`] ?? [])];
      for (const url of fill(route.url, samples.params)) {
        for (const body of bodies) {
          for (const who of ['stakeholder', 'anonymous'] as const) {
            // Signing out would end the session the rest of the walk uses.
            if (who === 'stakeholder' && route.method === 'DELETE' && route.url === '/api/v1/session') continue;
            const response = await call(who, {
              method: route.method,
              url: `${url}${queryOf(route, samples.query)}`,
              ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
            });
            expectNoMarker(response, `${who} ${route.method} ${url}`);
            calls += 1;
          }
        }
      }
    }
    expect(routes.length).toBeGreaterThan(40);
    expect(calls).toBeGreaterThan(150);
    console.log(`audience walk: ${routes.length} routes of the route table, ${calls} calls`);
  });

  it('leaves no registered route outside the route table, static files of the web app aside', async () => {
    const inTable = new Set(t.server.routes.map((r) => `${r.method} ${r.url}`));
    const outside = t.server.registered
      .filter((r) => r.method !== 'HEAD' && !inTable.has(`${r.method} ${r.url}`))
      .filter((r) => !(r.method === 'GET' && existsSync(join(WEB_ROOT, r.url))));
    expect(outside).toEqual([]);
    expect(t.server.registered.filter((r) => r.lanesRoute && r.method !== 'HEAD').length).toBe(t.server.routes.length);
  });

  it('answers the Slack command, the item routes and the portal for the planted items as their audience allows', async () => {
    const slack = async (text: string) => {
      const body = new URLSearchParams({ command: '/lanes', text, user_id: 'U1', team_id: 'T1' }).toString();
      const timestamp = String(Math.floor(NOW.getTime() / 1000));
      return call('anonymous', {
        method: 'POST',
        url: '/slack/commands',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': timestamp,
          'x-slack-signature': slackSignature(SLACK_SECRET, timestamp, body),
        },
        payload: body,
      });
    };
    for (const text of ['status quokka', `status ${SECRET_KEY}`, `status ${VISIBLE_KEY}`]) {
      const response = await slack(text);
      expect(response.statusCode).toBe(200);
      expectNoMarker(response, `slack ${text}`);
    }
    // A signed GitHub delivery is accepted by the same table's route; its answer names no item.
    const delivery = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const hook = await call('anonymous', {
      method: 'POST',
      url: '/hooks/github',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'ping',
        'x-github-delivery': 'aud-ping-1',
        'x-hub-signature-256': await sign(GITHUB_SECRET, delivery),
      },
      payload: delivery,
    });
    expect(hook.statusCode).toBeLessThan(300);

    // The visible item is there for the stakeholder, without its internal discussion or triage.
    const list = await call('stakeholder', { method: 'GET', url: '/api/v1/items?q=quokka' });
    expect(list.json().items.map((i: { key: string }) => i.key)).toEqual([VISIBLE_KEY]);
    const item = await call('stakeholder', { method: 'GET', url: `/api/v1/items/${VISIBLE_KEY}` });
    expect(item.json()).toMatchObject({
      item: { key: VISIBLE_KEY, title: VISIBLE_TITLE, labels: [] },
      events: [],
    });
    expect((await call('stakeholder', { method: 'GET', url: `/api/v1/items/${SECRET_KEY}` })).statusCode).toBe(404);
    const assignee = await call('stakeholder', { method: 'GET', url: '/api/v1/items?assignee=mei.chen' });
    expect(assignee.statusCode).toBe(403);
    // Members still see everything, so the markers were really planted.
    const member = await t.as('member', { method: 'GET', url: `/api/v1/items/${SECRET_KEY}` });
    expect(member.body).toMatch(MARK);
    expect((await t.as('member', { method: 'GET', url: '/api/v1/overview' })).body).toMatch(MARK);
    const charter = await call('stakeholder', { method: 'GET', url: '/api/v1/charter' });
    expect(charter.statusCode).toBe(200);
    expect(charter.body).not.toMatch(/@acme\.example|"github"|"connectors"/);
    expect((await t.as('member', { method: 'GET', url: '/api/v1/charter' })).body).toMatch(/"connectors"/);
  });
});
