/**
 * One quality recompute in its own process, so its peak RSS is its own:
 *   quality.child.ts <sqlite file> full|incremental
 * Prints one JSON line.
 */
import { demoContext } from './bench.context.js';
import { appendEvents } from '../src/services/events.service.js';
import { recomputeQuality } from '../src/services/quality.service.js';
import { applyCharterSlos } from '../src/services/slo.service.js';
import { openDatabase } from '../src/store/database.js';
import { listSignals } from '../src/store/quality.repository.js';
import { weekOf } from '../src/domain/week.js';

const [path, mode] = process.argv.slice(2);
const database = await openDatabase({ url: path! });
const ctx = demoContext(database);
const rssMb = () => process.resourceUsage().maxRSS / 1024;

if (mode === 'full') {
  await applyCharterSlos(ctx);
  const started = process.hrtime.bigint();
  const result = await recomputeQuality(ctx);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ seconds, maxRssMb: rssMb(), rows: result.rows, timings: result.timings }));
} else {
  // One new bug on Payments: the touched team and weeks are recomputed, then the findings.
  const last = await database.db
    .selectFrom('event')
    .select((eb) => eb.fn.max('occurred_at').as('at'))
    .executeTakeFirstOrThrow();
  const at = new Date(Date.parse(String(last.at)) + 60_000).toISOString();
  const key = `PAY-BENCH-${Date.now()}`;
  const started = process.hrtime.bigint();
  await appendEvents(ctx, [
    {
      source: 'jira',
      sourceEventId: key,
      occurredAt: at,
      item: { key, kind: 'bug', title: 'Bench bug', team: 'payments', component: 'checkout' },
      change: { kind: 'created' },
    },
  ]);
  const result = await recomputeQuality(ctx, { teams: ['payments'], sinceWeek: weekOf(at) });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const inflow = await listSignals(database, { team: 'payments', signals: ['bugs.inflow'], sinceWeek: weekOf(at) });
  console.log(
    JSON.stringify({
      seconds,
      maxRssMb: rssMb(),
      rows: result.rows,
      timings: result.timings,
      current: inflow.length > 0,
    }),
  );
}
await database.close();
