/**
 * The server under the unsigned-flood benchmark, in its own process so that
 * its memory is measured alone:
 *   flood.server.ts <sqlite file> <port> <secret> <bounded|unbounded>
 * `bounded` is Lanes as shipped (`/hooks/github` with its byte budget for
 * unverified bodies). `unbounded` adds the floor: POST /bench/unbounded-hook,
 * which, like `/hooks/github` before the budget, reads each whole body (up to
 * the webhook limit) and only then checks the signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import pino from 'pino';
import { demoContext } from './bench.context.js';
import { createServer } from '../src/server/server.js';
import { createWebhookIntake } from '../src/services/webhooks.service.js';
import { openDatabase } from '../src/store/database.js';

const WEBHOOK_LIMIT = 25 << 20;
const [path, port, secret, mode] = process.argv.slice(2);
const database = await openDatabase({ url: path! });
const ctx = demoContext(database, { clock: () => new Date(), logger: pino({ level: 'warn' }) });
const intake = createWebhookIntake(ctx, { LANES_GITHUB_WEBHOOK_SECRET: secret! });
const { app } = createServer(ctx, {
  bodyLimit: 1 << 20,
  version: 'bench',
  webhooks: { intake, bodyLimit: WEBHOOK_LIMIT, active: ['github'] },
});
if (mode === 'unbounded') {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_LIMIT }, (_request, body, done) =>
      done(null, body),
    );
    scope.post('/bench/unbounded-hook', async (request, reply) => {
      const expected = createHmac('sha256', secret!)
        .update(request.body as Buffer)
        .digest();
      const given = Buffer.from(String(request.headers['x-hub-signature-256'] ?? '').replace(/^sha256=/, ''), 'hex');
      const valid = given.length === expected.length && timingSafeEqual(given, expected);
      return reply.status(valid ? 202 : 401).send({ valid });
    });
  });
}
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void intake.close().then(() => process.exit(0));
});
