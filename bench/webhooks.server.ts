/**
 * The server under load for the webhooks benchmark, in its own process:
 *   webhooks.server.ts <sqlite file> <port> <secret>
 * Besides `/hooks/github` it has one bench-only route on the same Fastify
 * stack, POST /bench/floor-hook, that reads the raw body and answers 202: the
 * floor of "a bare route that only reads the body".
 */
import pino from 'pino';
import { demoContext } from './bench.context.js';
import { createServer } from '../src/server/server.js';
import { createWebhookIntake } from '../src/services/webhooks.service.js';
import { openDatabase } from '../src/store/database.js';

const [path, port, secret] = process.argv.slice(2);
const database = await openDatabase({ url: path! });
const ctx = demoContext(database, { clock: () => new Date(), logger: pino({ level: 'warn' }) });
const intake = createWebhookIntake(ctx, { LANES_GITHUB_WEBHOOK_SECRET: secret! });
const { app } = createServer(ctx, {
  bodyLimit: 1 << 20,
  version: 'bench',
  webhooks: { intake, bodyLimit: 25 << 20, active: ['github'] },
});
void app.register(async (scope) => {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  scope.post('/bench/floor-hook', async (request, reply) =>
    reply.status(202).send({ received: true, bytes: (request.body as Buffer).length }),
  );
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void intake.close().then(() => process.exit(0));
});
