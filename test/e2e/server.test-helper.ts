import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import pino from 'pino';
import { buildCharterIndex } from '../../src/domain/charter.identity.js';
import { buildDemoCharter } from '../../src/domain/demo/demo.charter.js';
import { addUser } from '../../src/services/access.service.js';
import type { ServiceContext } from '../../src/services/context.js';
import { loadDemo } from '../../src/services/demo.service.js';
import { recomputeBoundariesIfStale } from '../../src/services/boundaries.service.js';
import { appendEvents } from '../../src/services/events.service.js';
import { createWebhookIntake } from '../../src/services/webhooks.service.js';
import { createServer } from '../../src/server/server.js';
import { openDatabase } from '../../src/store/database.js';

export const XSS_TITLE = '<img src=x onerror=alert(1)>';
/** A GitHub label no mapping knows, so it is listed among the unmapped values. */
export const XSS_LABEL = '<img src=x onerror=alert(2)>';
const GITHUB_WEBHOOK_SECRET = 'e2e-github-webhook-secret';

/** Two GitHub `issues.opened` deliveries from @octokit/webhooks-examples (one labelled with HTML) and a `star`, which Lanes does not map. */
const githubDeliveries = (): { event: string; id: string; body: string }[] => {
  const require = createRequire(import.meta.url);
  const all = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples'), 'utf8')) as {
    name: string;
    examples: Record<string, unknown>[];
  }[];
  const issues = all.find((d) => d.name === 'issues')!.examples.filter((e) => e.action === 'opened');
  const star = all.find((d) => d.name === 'star')!.examples[0]!;
  const [first, second] = issues as [Record<string, unknown>, Record<string, unknown>];
  const labelled = { ...first, issue: { ...(first['issue'] as object), labels: [{ name: XSS_LABEL }] } };
  return [
    { event: 'issues', id: 'e2e-delivery-1', body: JSON.stringify(labelled) },
    { event: 'issues', id: 'e2e-delivery-2', body: JSON.stringify(second) },
    { event: 'star', id: 'e2e-delivery-3', body: JSON.stringify(star) },
  ];
};

export interface E2eServer {
  url: string;
  admin: { email: string; password: string };
  stakeholder: { email: string; password: string };
  close(): Promise<void>;
}

/**
 * The real server on a real SQLite file, listening on a free loopback port,
 * serving the built web app (web/dist) with a small demo workspace, an item
 * whose title is HTML, an admin and a stakeholder, and a GitHub webhook intake
 * that has received a few signed deliveries (one of an event type Lanes does
 * not map, one with an unmapped label that is HTML).
 */
export const startTestServer = async (options: { items?: number } = {}): Promise<E2eServer> => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-e2e-'));
  const database = await openDatabase({ url: join(dir, 'lanes.db') });
  const now = new Date();
  const charter = buildDemoCharter(42, now);
  const loaded = { charter, index: buildCharterIndex(charter), path: 'demo', loadedAt: now.toISOString() };
  let n = 0;
  const ctx: ServiceContext = {
    database,
    logger: pino({ level: 'silent' }),
    clock: () => new Date(),
    newId: () => `e2e-${++n}`,
    charter: () => loaded,
  };
  await loadDemo(ctx, { items: options.items ?? 300, seed: 42, now });
  await appendEvents(ctx, [
    {
      source: 'native',
      sourceEventId: 'xss-1',
      occurredAt: now.toISOString(),
      actor: { kind: 'email', id: 'someone@customer.example' },
      item: { key: 'PAY-9999', kind: 'bug', title: XSS_TITLE, component: 'checkout', severity: 'high' },
      change: { kind: 'created' },
    },
  ]);
  // As `lanes serve` does at start: the judgements are marked as made under this charter.
  await recomputeBoundariesIfStale(ctx);
  const admin = { email: 'admin@acme.example', password: 'admin-password-e2e' };
  const stakeholder = { email: 'stakeholder@acme.example', password: 'stakeholder-password-e2e' };
  await addUser(ctx, { kind: 'cli' }, { ...admin, name: 'Ada Admin', role: 'admin' });
  await addUser(ctx, { kind: 'cli' }, { ...stakeholder, name: 'Sol Stakeholder', role: 'stakeholder' });
  const intake = createWebhookIntake(ctx, { LANES_GITHUB_WEBHOOK_SECRET: GITHUB_WEBHOOK_SECRET }, { autoDrain: false });
  const { app } = createServer(ctx, {
    bodyLimit: 1024 * 1024,
    version: 'e2e',
    webRoot: join(import.meta.dirname, '..', '..', 'web', 'dist'),
    webhooks: { intake, bodyLimit: 1024 * 1024, active: ['github'] },
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  for (const d of githubDeliveries()) {
    const res = await fetch(`${address}/hooks/github`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': d.event,
        'x-github-delivery': d.id,
        'x-hub-signature-256': await sign(GITHUB_WEBHOOK_SECRET, d.body),
      },
      body: d.body,
    });
    if (res.status !== 202) throw new Error(`the e2e webhook ${d.id} was refused: ${res.status} ${await res.text()}`);
  }
  await intake.drain();
  return {
    url: address,
    admin,
    stakeholder,
    close: async () => {
      await intake.close();
      await app.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
