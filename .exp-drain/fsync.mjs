import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
for (const mode of ['NORMAL', 'FULL', 'NORMAL', 'FULL']) {
  const dir = mkdtempSync('/tmp/hh/fs-');
  const db = new Database(join(dir, 'x.db'));
  db.pragma('journal_mode = WAL'); db.pragma(`synchronous = ${mode}`);
  db.exec('create table t (id integer primary key, b text)');
  const ins = db.prepare('insert into t (b) values (?)');
  const tx = db.transaction((n) => { for (let i = 0; i < n; i++) ins.run('x'.repeat(3000)); });
  const t0 = performance.now(); let n = 0;
  while (performance.now() - t0 < 2000) { tx(10); n++; }
  const ms = performance.now() - t0;
  console.log(mode, 'commits/s', Math.round(n / ms * 1000), 'ms/commit', (ms / n).toFixed(3));
  db.close(); rmSync(dir, { recursive: true });
}
