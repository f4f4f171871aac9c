import SqliteDatabase from 'better-sqlite3';
import { streamAt, percentile } from '../bench/webhooks.load.js';
import { freshDeliveries } from '../bench/webhooks.payloads.js';
const [path, port, rate, seconds] = process.argv.slice(2);
let reader: SqliteDatabase.Database | undefined;
const run = await streamAt({ ports: [Number(port)], rate: Number(rate), seconds: Number(seconds), prefix: `x${Date.now()}`, next: freshDeliveries('bench-stream-secret'),
  pending: async () => (reader ??= new SqliteDatabase(path!, { readonly: true })).prepare(`SELECT count(*) FROM webhook_delivery WHERE status = 'pending'`).pluck().get() as number });
console.log(`acked ${run.acknowledged.length}/${run.sent} p50 ${percentile(run.latencies, 50).toFixed(0)} p99 ${percentile(run.latencies, 99).toFixed(0)} backlog ${run.backlog.join(',')}`);
