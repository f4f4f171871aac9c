/**
 * Runs one memory-sensitive step in its own process so its peak RSS is its own:
 *   load <db> <events>     — load about that many demo events into a fresh SQLite file
 *   rebuild <db>           — time a full projection rebuild of that file
 *   demo <db> <items>      — run `lanes demo --items N` against a fresh SQLite file
 * Prints one JSON line: { seconds, maxRssMb, ... }.
 */
import { runCli } from '../src/cli/main.js';
import { loadDemo } from '../src/services/demo.service.js';
import { rebuildProjection } from '../src/services/events.service.js';
import { openDatabase } from '../src/store/database.js';
import { countEvents } from '../src/store/event.repository.js';
import { BENCH_NOW as NOW, counterIds, demoContext } from './bench.context.js';

const [mode, path, size] = process.argv.slice(2);
const rssMb = () => process.resourceUsage().maxRSS / 1024;

const context = async (url: string) => demoContext(await openDatabase({ url }), { newId: counterIds('r') });

if (mode === 'load') {
  const ctx = await context(path!);
  const started = process.hrtime.bigint();
  // The demo averages about 9 events per item.
  await loadDemo(ctx, { items: Math.ceil(Number(size) / 9), seed: 42, now: NOW });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const events = await countEvents(ctx.database);
  await ctx.database.close();
  console.log(JSON.stringify({ seconds, maxRssMb: rssMb(), events }));
} else if (mode === 'rebuild') {
  const ctx = await context(path!);
  const database = ctx.database;
  const events = await countEvents(database);
  // Floor: stream every event row in item order, doing nothing with it.
  let started = process.hrtime.bigint();
  let scanned = 0;
  for (const _row of database.sqlite!.prepare('SELECT * FROM event ORDER BY item_key, occurred_at').iterate())
    scanned += 1;
  const floorSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const before = rssMb();
  started = process.hrtime.bigint();
  const result = await rebuildProjection(ctx);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await database.close();
  console.log(
    JSON.stringify({
      seconds,
      floorSeconds,
      maxRssMb: rssMb(),
      rssBeforeMb: before,
      items: result.items,
      events,
      scanned,
    }),
  );
} else if (mode === 'demo') {
  const started = process.hrtime.bigint();
  const lines: string[] = [];
  const io = {
    out: (t: string) => lines.push(t),
    err: (t: string) => process.stderr.write(`${t}\n`),
    env: { ...process.env, LANES_DATA_DIR: `${path}.d` },
    cwd: process.cwd(),
    exitCode: 0,
  };
  const code = await runCli(
    ['node', 'lanes', 'demo', '--items', size!, '--database', path!, '--now', NOW.toISOString()],
    io,
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const database = await openDatabase({ url: path! });
  const events = await countEvents(database);
  await database.close();
  console.log(JSON.stringify({ code, seconds, maxRssMb: rssMb(), events }));
} else {
  console.error('usage: ingest.child.ts rebuild|demo <db> <n>');
  process.exit(2);
}
