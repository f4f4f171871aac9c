/**
 * One quality recompute in its own process, so its peak RSS is its own:
 *   quality.child.ts <sqlite file> facts|full|shaped|incremental|deployment
 *  - facts: rebuild the PR and deployment facts from the whole log (what an upgrade or `lanes rebuild` does once);
 *  - full: every family and the findings, from the facts and the projection;
 *  - shaped: the same on a copy whose PR and deployment facts are thinned to the target's 100,000 and 20,000;
 *  - incremental: one new bug appended, then what the worker recomputes for it;
 *  - deployment: one new production deployment appended, then what the worker recomputes for it.
 * Prints one JSON line.
 */
import { demoContext } from './bench.context.js';
import { appendEvents, onAppended, type AppendedNotice } from '../src/services/events.service.js';
import { recomputeQuality, workerScopeOf } from '../src/services/quality.service.js';
import { rebuildQualityFacts } from '../src/services/quality.facts.service.js';
import { applyCharterSlos } from '../src/services/slo.service.js';
import { openDatabase } from '../src/store/database.js';
import { listSignals } from '../src/store/quality.repository.js';
import { weekOf } from '../src/domain/week.js';

const [path, mode] = process.argv.slice(2);
const database = await openDatabase({ url: path! });
const ctx = demoContext(database);
const rssMb = () => process.resourceUsage().maxRSS / 1024;
// What the server's quality worker would hear about the append, and so recompute.
const notices: AppendedNotice[] = [];
onAppended(ctx, (n) => notices.push(n));

if (mode === 'facts') {
  const started = process.hrtime.bigint();
  const result = await rebuildQualityFacts(ctx);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const count = async (table: 'quality_pr' | 'quality_deployment') =>
    Number(
      (
        await database.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  console.log(
    JSON.stringify({
      seconds,
      maxRssMb: rssMb(),
      rows: result.events,
      timings: { prs: await count('quality_pr'), deployments: await count('quality_deployment') },
    }),
  );
} else if (mode === 'shaped') {
  // The target's shape on a copy of the workspace: the same items and events, the PR and deployment facts thinned
  // evenly to 100,000 and 20,000 (DORA and review rigor read only the facts).
  const sqlite = database.sqlite!;
  const prs = Number((sqlite.prepare('SELECT count(*) AS n FROM quality_pr').get() as { n: number }).n);
  const deployments = Number((sqlite.prepare('SELECT count(*) AS n FROM quality_deployment').get() as { n: number }).n);
  sqlite.prepare(`DELETE FROM quality_pr WHERE rowid % ${Math.max(1, Math.round(prs / 100_000))} <> 0`).run();
  sqlite
    .prepare(`DELETE FROM quality_deployment WHERE rowid % ${Math.max(1, Math.round(deployments / 20_000))} <> 0`)
    .run();
  await applyCharterSlos(ctx);
  const started = process.hrtime.bigint();
  const result = await recomputeQuality(ctx);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const left = (table: string) =>
    Number((sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
  console.log(
    JSON.stringify({
      seconds,
      maxRssMb: rssMb(),
      rows: result.rows,
      timings: { ...result.timings, prs: left('quality_pr'), deployments: left('quality_deployment') },
    }),
  );
} else if (mode === 'full') {
  await applyCharterSlos(ctx);
  const started = process.hrtime.bigint();
  const result = await recomputeQuality(ctx);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ seconds, maxRssMb: rssMb(), rows: result.rows, timings: result.timings }));
} else if (mode === 'deployment') {
  // One new production deployment of a Payments service: the worker recomputes the families a deployment can move,
  // for the team owning the service, from the deployment's week on, then the findings.
  const last = await database.db
    .selectFrom('event')
    .select((eb) => eb.fn.max('occurred_at').as('at'))
    .executeTakeFirstOrThrow();
  const at = new Date(Date.parse(String(last.at)) + 120_000).toISOString();
  const started = process.hrtime.bigint();
  await appendEvents(ctx, [
    {
      source: 'deploys',
      sourceEventId: `bench-deploy-${Date.now()}`,
      occurredAt: at,
      change: {
        kind: 'deployed',
        data: { service: 'checkout', environment: 'production', deploymentId: `bench-${Date.now()}` },
      },
    },
  ]);
  const result = await recomputeQuality(ctx, workerScopeOf(notices));
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
  // What the worker does for this append: the touched team, from the event's week, in the families a `created` event
  // can move.
  const result = await recomputeQuality(ctx, workerScopeOf(notices));
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
