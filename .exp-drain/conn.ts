import { openDatabase } from '../src/store/database.js';
const d = await openDatabase({ url: '/tmp/hh/c.db' });
const s = d.sqlite!;
await d.db.connection().execute(async (c) => {
  s.pragma('synchronous = FULL');
  try {
    await c.transaction().execute(async () => { console.log('in tx', s.inTransaction, s.pragma('synchronous', { simple: true })); });
  } finally { s.pragma('synchronous = NORMAL'); }
});
console.log('after', s.pragma('synchronous', { simple: true }), s.prepare('select sqlite_version() v').get());
await d.close();
