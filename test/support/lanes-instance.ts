import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { addUser, createToken } from '../../src/services/access.service.js';
import type { ServiceContext } from '../../src/services/context.js';
import { createWebhookIntake, type WebhookIntake } from '../../src/services/webhooks.service.js';
import { createServer, type LanesServer } from '../../src/server/server.js';
import type { Database } from '../../src/store/database.js';
import { STREAM_SECRET } from './webhook-stream.js';

/**
 * What `lanes serve` runs, in the test's process: the server listening on a
 * real port with the GitHub webhook intake, an admin's API token, and every
 * log line kept (as JSON text) so a test can count what an operator would read.
 */
export interface LanesInstance {
  port: number;
  ctx: ServiceContext;
  server: LanesServer;
  intake: WebhookIntake;
  token: string;
  logLines: string[];
  /** `fetch` against the instance with the admin token. */
  call(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export const startLanesInstance = async (database: Database): Promise<LanesInstance> => {
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const ctx: ServiceContext = {
    database,
    logger: pino({ level: 'info' }, sink),
    clock: () => new Date(),
    newId: () => crypto.randomUUID(),
    charter: () => undefined,
  };
  const admin = await addUser(
    ctx,
    { kind: 'cli' },
    { email: 'admin@acme.example', name: 'Admin', role: 'admin', password: 'admin-password-123' },
  );
  const token = (await createToken(ctx, { kind: 'cli' }, admin, 'resilience')).secret;
  const intake = createWebhookIntake(ctx, { LANES_GITHUB_WEBHOOK_SECRET: STREAM_SECRET });
  const server = createServer(ctx as ServiceContext & { logger: pino.Logger }, {
    bodyLimit: 5 << 20,
    version: 'test',
    webhooks: { intake, bodyLimit: 25 << 20, active: ['github'] },
  });
  await server.app.listen({ port: 0, host: '127.0.0.1' });
  const port = (server.app.server.address() as AddressInfo).port;
  return {
    port,
    ctx,
    server,
    intake,
    token,
    logLines,
    call: (path, init = {}) =>
      fetch(`http://127.0.0.1:${port}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) },
      }),
    close: async () => {
      await server.app.close();
      await intake.close();
    },
  };
};
