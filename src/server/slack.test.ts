import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slackSignature } from '../connectors/slack/slack.command.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import type { ServiceContext } from '../services/context.js';
import { appendEvents } from '../services/events.service.js';
import { flushPortalLookups } from '../services/portal.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { createServer, type LanesServer } from './server.js';

const NOW = new Date('2026-06-01T12:00:00Z');
const SECRET = 'slack-signing-secret-8f3a';
const charter = buildDemoCharter(42, NOW);

describe.each(testEngines())('Slack /lanes status on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let server: LanesServer;
  beforeEach(async () => {
    database = await open();
    let n = 0;
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => NOW,
      newId: () => `e${++n}`,
      charter: () => ({ charter, index: buildCharterIndex(charter), path: 'x', loadedAt: NOW.toISOString() }),
    };
    const created = (key: string, title: string, labels: string[] = []) => [
      {
        source: 'jira',
        sourceEventId: `${key}/c`,
        occurredAt: '2026-05-30T09:00:00Z',
        item: { key, kind: 'bug' as const, title, team: 'payments', severity: 'high' },
        change: { kind: 'created' as const },
      },
      ...labels.map((l) => ({
        source: 'jira',
        sourceEventId: `${key}/${l}`,
        occurredAt: '2026-05-30T09:01:00Z',
        item: { key },
        change: { kind: 'label_added' as const, target: l },
      })),
    ];
    await appendEvents(ctx, [
      ...created('PAY-231', 'Refund <fails> for @channel'),
      ...created('PAY-232', 'Refund slow'),
      ...created('PAY-233', 'Token leak in refunds', ['security']),
    ]);
    server = createServer(ctx, {
      bodyLimit: 65536,
      version: 't',
      slackSigningSecret: SECRET,
      publicUrl: 'https://lanes.example',
    });
  });
  afterEach(async () => {
    await server.app.close();
    await database.close();
  });

  const send = (text: string, options: { secret?: string; at?: number; tamper?: boolean } = {}) => {
    const body = new URLSearchParams({ command: '/lanes', text, user_id: 'U123', team_id: 'T9' }).toString();
    const timestamp = String(Math.floor((options.at ?? NOW.getTime()) / 1000));
    return server.app.inject({
      method: 'POST',
      url: '/slack/commands',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(options.secret ?? SECRET, timestamp, body),
      },
      payload: options.tamper ? body.replace('PAY', 'PAX') : body,
    });
  };

  it('answers with the plain-language status, escaped, and counts the lookup', async () => {
    const response = await send('status PAY-231');
    expect(response.statusCode).toBe(200);
    const answer = response.json<{ response_type: string; text: string }>();
    expect(answer.response_type).toBe('ephemeral');
    expect(answer.text).toContain('*PAY-231* Refund &lt;fails&gt; for @channel: *Reported*');
    expect(answer.text).toContain('Next update due');
    expect(answer.text).toContain('<https://lanes.example/portal/items/PAY-231|Open in the status portal>');
    expect(await flushPortalLookups(ctx)).toBe(1);
  });

  it('lists matches for words, and never names a security-sensitive item', async () => {
    const words = (await send('status refund')).json<{ text: string }>().text;
    expect(words).toContain('PAY-231');
    expect(words).toContain('PAY-232');
    expect(words).not.toContain('PAY-233');
    expect((await send('status PAY-233')).json<{ text: string }>().text).toMatch(/^Nothing visible matches/);
    expect((await send('help')).json<{ text: string }>().text).toMatch(/^Ask `\/lanes status/);
  });

  it('refuses forged, altered and stale requests', async () => {
    expect((await send('status PAY-231', { secret: 'wrong' })).json()).toMatchObject({
      error: { code: 'LANES_WEBHOOK_SIGNATURE' },
    });
    expect((await send('status PAY-231', { tamper: true })).statusCode).toBe(401);
    const stale = await send('status PAY-231', { at: NOW.getTime() - 6 * 60_000 });
    expect(stale.statusCode).toBe(401);
    expect(stale.json()).toMatchObject({ error: { code: 'LANES_WEBHOOK_STALE' } });
    const unsigned = await server.app.inject({
      method: 'POST',
      url: '/slack/commands',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'text=status+PAY-231',
    });
    expect(unsigned.statusCode).toBe(401);
  });
});
