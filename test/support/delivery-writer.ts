// A child process for the backup tests: it holds the SQLite database open and stores signed GitHub
// deliveries that arrive over HTTP with the real intake and server, as `lanes serve` does, but maps
// none of them, so every acknowledged delivery stays pending. Prints `listening <port>` when ready;
// SIGTERM closes it.
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { ServiceContext } from '../../src/services/context.js';
import { createWebhookIntake } from '../../src/services/webhooks.service.js';
import { createServer } from '../../src/server/server.js';
import { openDatabase } from '../../src/store/database.js';
import { STREAM_SECRET } from './webhook-stream.js';

const database = await openDatabase({ url: process.argv[2]! });
const ctx: ServiceContext = {
  database,
  logger: pino({ level: 'silent' }),
  clock: () => new Date(),
  newId: () => crypto.randomUUID(),
  charter: () => undefined,
};
const intake = createWebhookIntake(ctx, { LANES_GITHUB_WEBHOOK_SECRET: STREAM_SECRET }, { autoDrain: false });
const { app } = createServer(ctx, {
  bodyLimit: 1 << 20,
  version: 'test',
  webhooks: { intake, bodyLimit: 1 << 20, active: ['github'] },
});
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening ${(app.server.address() as AddressInfo).port}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    await app.close();
    await intake.close();
    await database.close();
  })();
});
