import pg from 'pg';
import { openDatabase } from '../src/store/database.js';
import { streamAt, percentile, startServer } from '../bench/webhooks.load.js';
import { freshDeliveries } from '../bench/webhooks.payloads.js';
const rate = Number(process.argv[2] ?? 1000), seconds = Number(process.argv[3] ?? 10);
const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
await admin.connect();
const name = `lanes_bench_stream_exp_${Date.now().toString(36)}`;
await admin.query(`CREATE DATABASE ${name}`);
const url = `postgres://postgres@127.0.0.1:5432/${name}`;
try {
  await (await openDatabase({ url })).close();
  const servers = [await startServer(url, 5396, 'bench-stream-secret', []), await startServer(url, 5397, 'bench-stream-secret', [])];
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const pending = async () => Number((await pool.query(`SELECT count(*) n FROM webhook_delivery WHERE status='pending'`)).rows[0].n);
  const next = freshDeliveries('bench-stream-secret');
  await streamAt({ ports: [5396, 5397], rate: 300, seconds: 3, prefix: 'w', next, pending });
  while ((await pending()) > 0) await new Promise((r) => setTimeout(r, 200));
  console.error('--- measured');
  const run = await streamAt({ ports: [5396, 5397], rate, seconds, prefix: 'm', next: (n) => next(n + 900), pending });
  console.log(`acked ${run.acknowledged.length}/${run.sent} p50 ${percentile(run.latencies, 50).toFixed(0)} p99 ${percentile(run.latencies, 99).toFixed(0)} backlog ${run.backlog.join(',')}`);
  for (const s of servers) await s.stop();
  await pool.end();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
