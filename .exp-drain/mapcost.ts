import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../src/store/database.js';
import { insertDeliveries } from '../src/store/connector.repository.js';
import { createWebhookIntake } from '../src/services/webhooks.service.js';
import { demoContext } from '../bench/bench.context.js';
import { freshDeliveries } from '../bench/webhooks.payloads.js';
const next = freshDeliveries('s');
const url = process.argv[2] ?? 'file';
let base = 0;
for (const batch of (process.env.B ?? '10,50,200,1000').split(',').map(Number)) {
  const dir = mkdtempSync('/tmp/hh/mc-');
  const db = await openDatabase({ url: url === 'file' ? join(dir, 'x.db') : url, pgSchema: url === 'file' ? undefined : `mc_${batch}_${Date.now()}` });
  const N = Number(process.env.N ?? 3000);
  const now = new Date().toISOString();
  for (let i = 0; i < N; i += 500) await insertDeliveries(db, Array.from({ length: 500 }, (_, k) => { const e = next(base + i + k); return { provider: 'github', deliveryId: `d${i + k}`, eventType: e.event, receivedAt: now, body: Buffer.from(e.body) }; }));
  base += N;
  const intake = createWebhookIntake(demoContext(db, { clock: () => new Date() }), {}, { autoDrain: false, minBatch: batch, maxBatch: batch });
  const t0 = performance.now();
  const r = await intake.drain();
  const ms = performance.now() - t0;
  console.log(`batch ${batch}: ${r.deliveries} deliveries ${r.events} events in ${ms.toFixed(0)} ms = ${(ms / r.deliveries).toFixed(3)} ms/delivery; mapped ${r.mapped} unknown ${r.unknown} failed ${r.failed}`);
  await intake.close(); await db.close(); rmSync(dir, { recursive: true });
}
