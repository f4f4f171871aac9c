/**
 * The server under load for the api benchmark, in its own process:
 *   api.server.ts <sqlite file> <port>
 * It adds one bench-only route, GET /bench/floor?like=<path>, on the same
 * Fastify stack (same hooks, same token check, same JSON serialisation) that
 * returns a constant body: the response of <path>, captured once. The ratio
 * then isolates what Lanes adds per request (queries and mapping).
 */
import pino from 'pino';
import { demoContext } from './bench.context.js';
import { authorize } from '../src/server/auth.js';
import { createServer } from '../src/server/server.js';
import { openDatabase } from '../src/store/database.js';

const [path, port] = process.argv.slice(2);
const database = await openDatabase({ url: path! });
const ctx = demoContext(database, { clock: () => new Date(), logger: pino({ level: 'warn' }) });
const { app } = createServer(ctx, {
  bodyLimit: 1 << 20,
  version: 'bench',
  webRoot: new URL('../web/dist', import.meta.url).pathname,
});
const captured = new Map<string, unknown>();
app.get('/bench/floor', async (request) => {
  await authorize(ctx, request, 'stakeholder', 'read');
  const like = String((request.query as { like?: string }).like ?? '/healthz');
  let body = captured.get(like);
  if (body === undefined) {
    const sample = await app.inject({
      method: 'GET',
      url: like,
      headers: { authorization: request.headers.authorization! },
    });
    captured.set(like, (body = sample.json()));
  }
  return body;
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
