/**
 * The server under load for the webhooks benchmarks, in its own process:
 *   webhooks.server.ts <sqlite file | postgres://…> <port> <secret> [--no-map] [--durability process]
 * `--no-map` stores and acknowledges without mapping (the acknowledgement-only
 * rate); `--durability process` commits deliveries as the connection does
 * (SQLite `synchronous=NORMAL`), to measure what full durability costs.
 * Besides `/hooks/github` it has one bench-only route on the same Fastify
 * stack, POST /bench/floor-hook, that reads the raw body and answers 202: the
 * floor of "a bare route that only reads the body".
 */
import pino from 'pino';
import { demoContext } from './bench.context.js';
import { createServer } from '../src/server/server.js';
import { createWebhookIntake } from '../src/services/webhooks.service.js';
import { openDatabase } from '../src/store/database.js';

const [url, port, secret, ...flags] = process.argv.slice(2);
const database = await openDatabase({ url: url! });
const ctx = demoContext(database, { clock: () => new Date(), logger: pino({ level: 'warn' }) });
const intake = createWebhookIntake(
  ctx,
  { LANES_GITHUB_WEBHOOK_SECRET: secret! },
  {
    autoDrain: !flags.includes('--no-map'),
    durability:
      flags.includes('--durability') && flags[flags.indexOf('--durability') + 1] === 'process' ? 'process' : 'full',
  },
);
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
  void (async () => {
    await app.close();
    await intake.close();
    await database.close();
    process.exit(0);
  })();
});
