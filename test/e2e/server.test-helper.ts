import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildCharterIndex } from '../../src/domain/charter.identity.js';
import { buildDemoCharter } from '../../src/domain/demo/demo.charter.js';
import { addUser } from '../../src/services/access.service.js';
import type { ServiceContext } from '../../src/services/context.js';
import { loadDemo } from '../../src/services/demo.service.js';
import { appendEvents } from '../../src/services/events.service.js';
import { createServer } from '../../src/server/server.js';
import { openDatabase } from '../../src/store/database.js';

export const XSS_TITLE = '<img src=x onerror=alert(1)>';

export interface E2eServer {
  url: string;
  admin: { email: string; password: string };
  stakeholder: { email: string; password: string };
  close(): Promise<void>;
}

/**
 * The real server on a real SQLite file, listening on a free loopback port,
 * serving the built web app (web/dist) with a small demo workspace, an item
 * whose title is HTML, an admin and a stakeholder.
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
  const admin = { email: 'admin@acme.example', password: 'admin-password-e2e' };
  const stakeholder = { email: 'stakeholder@acme.example', password: 'stakeholder-password-e2e' };
  await addUser(ctx, { kind: 'cli' }, { ...admin, name: 'Ada Admin', role: 'admin' });
  await addUser(ctx, { kind: 'cli' }, { ...stakeholder, name: 'Sol Stakeholder', role: 'stakeholder' });
  const { app } = createServer(ctx, {
    bodyLimit: 1024 * 1024,
    version: 'e2e',
    webRoot: join(import.meta.dirname, '..', '..', 'web', 'dist'),
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    admin,
    stakeholder,
    close: async () => {
      await app.close();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
