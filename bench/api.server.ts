/**
 * The server under load for the api benchmark, in its own process:
 *   api.server.ts <sqlite file> <port>
 * It adds one bench-only route, GET /bench/floor, on the same Fastify stack
 * (same hooks, same auth) that returns a constant JSON body the size of an item
 * page, so the ratio isolates what Lanes adds (queries, mapping).
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
// GET /bench/floor?bytes=N: a constant JSON body of N bytes, built once per size.
const bodies = new Map<number, string>();
app.get('/bench/floor', async (request, reply) => {
  await authorize(ctx, request, 'stakeholder');
  const bytes = Math.min(1 << 20, Number((request.query as { bytes?: string }).bytes ?? 2000));
  let body = bodies.get(bytes);
  if (!body) bodies.set(bytes, (body = JSON.stringify({ items: [], padding: 'x'.repeat(Math.max(0, bytes - 26)) })));
  return reply.type('application/json').send(body);
});
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
