import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase } from '../src/store/database.js';
import { insertDeliveries, claimPendingDeliveries, listPendingDeliveries, markDeliveries } from '../src/store/connector.repository.js';
import { freshDeliveries } from '../bench/webhooks.payloads.js';
const next = freshDeliveries('s');
const dir = mkdtempSync('/tmp/hh/cc-');
const db = await openDatabase({ url: join(dir, 'x.db') });
const now = new Date().toISOString();
for (let i = 0; i < 6000; i += 500) await insertDeliveries(db, Array.from({ length: 500 }, (_, k) => { const e = next(i + k); return { provider: 'github', deliveryId: `d${i + k}`, eventType: e.event, receivedAt: now, body: Buffer.from(e.body) }; }));
for (let round = 0; round < 2; round++) {
let t = performance.now(); let n = 0;
for (let i = 0; i < 20; i++) { const r = await listPendingDeliveries(db, 100); n += r.length; await markDeliveries(db, r.map((d) => ({ id: d.id, status: 'mapped', eventCount: 1, error: null })), now); }
console.log('select+mark', ((performance.now() - t) / n).toFixed(3), 'ms/delivery');
t = performance.now(); n = 0;
for (let i = 0; i < 20; i++) { const r = await claimPendingDeliveries(db, 100, { now, until: now, by: 'me' }); n += r.length; await markDeliveries(db, r.map((d) => ({ id: d.id, status: 'mapped', eventCount: 1, error: null })), now); }
console.log('claim+mark', ((performance.now() - t) / n).toFixed(3), 'ms/delivery');
}
console.log(db.sqlite!.prepare('select avg(length(body)) a from webhook_delivery').get());
await db.close(); rmSync(dir, { recursive: true });
