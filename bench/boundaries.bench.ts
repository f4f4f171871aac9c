/**
 * `npm run bench -- boundaries`: the boundary monitor (issue 5).
 *  - full recompute over a ~1,000,000-event demo workspace, against the floor
 *    of reading the same log columns in the same order with a raw prepared
 *    statement (what any recompute must at least do);
 *  - incremental evaluation of one new event: p99 of the judging step alone
 *    and of a whole one-event append, against the floor of one raw prepared
 *    event insert in its own transaction;
 *  - the report API (GET /api/v1/boundaries, /api/v1/middleman) p95 under
 *    load, against the same responses served as constants on the same stack.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { BENCH_NOW, demoContext } from './bench.context.js';
import { figure, writeResults, type Figure } from './bench.lib.js';
import { addUser, createToken, findUserByEmail } from '../src/services/access.service.js';
import { evaluateAppended, recomputeBoundaries } from '../src/services/boundaries.service.js';
import { appendEvents, toLoggedEvent } from '../src/services/events.service.js';
import { buildDemoCharter, DEMO_CAST } from '../src/domain/demo/demo.charter.js';
import type { EventInput } from '../src/domain/event.js';
import { openDatabase } from '../src/store/database.js';
import { getItemsByKey, withTransaction } from '../src/store/event.repository.js';
import { EVENT_COLUMNS } from '../src/store/event.mapper.js';

const EVENTS = Number(process.env['BENCH_BOUNDARY_EVENTS'] ?? 1_000_000);
const INCREMENTAL = Number(process.env['BENCH_BOUNDARY_INCREMENTAL'] ?? 3000);
const DURATION = Number(process.env['BENCH_API_SECONDS'] ?? 10);
const PORT = 5392;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

const workspace = (): string => {
  const dir = join(tmpdir(), 'lanes-bench-boundaries');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `demo-${EVENTS}.db`);
  if (!existsSync(path)) {
    console.error(`boundaries: building a ${EVENTS}-event demo workspace (cached at ${path})…`);
    execFileSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'ingest.child.ts'), 'load', path, String(EVENTS)],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  return path;
};

const load = (url: string, token: string, paths: string[]): Promise<autocannon.Result> =>
  new Promise((resolve, reject) => {
    let i = 0;
    autocannon(
      {
        url,
        connections: 10,
        duration: DURATION,
        headers: { authorization: `Bearer ${token}` },
        requests: [{ setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length]! }) }],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });

export const run = async (): Promise<void> => {
  const path = workspace();
  const figures: Figure[] = [];
  const database = await openDatabase({ url: path });
  const ctx = demoContext(database);
  const logEvents = Number(
    (
      await database.db
        .selectFrom('event')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

  // Floor: read the log's columns in log order with one raw prepared statement.
  const sqlite = database.sqlite!;
  let started = process.hrtime.bigint();
  let rows = 0;
  for (const _ of sqlite
    .prepare(
      `SELECT ${EVENT_COLUMNS.filter((c) => c !== 'payload' && c !== 'payload_ref').join(', ')} FROM event ORDER BY occurred_at, source, source_event_id`,
    )
    .iterate())
    rows += 1;
  const floorSeconds = Number(process.hrtime.bigint() - started) / 1e9;

  started = process.hrtime.bigint();
  const result = await recomputeBoundaries(ctx);
  const recomputeSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  figures.push(
    figure({
      name: `full recompute (${logEvents.toLocaleString('en-US')} events of which ${result.eventsRead.toLocaleString('en-US')} read, ${result.decisions.toLocaleString('en-US')} decisions, ${result.middleman.toLocaleString('en-US')} middleman signals)`,
      value: recomputeSeconds,
      unit: 's',
      floor: floorSeconds,
      ratio: floorSeconds / recomputeSeconds,
      target: `<= 20 s for 1,000,000 events (floor: reading the ${rows.toLocaleString('en-US')} log rows in order)`,
      pass: recomputeSeconds * (1_000_000 / Math.max(1, logEvents)) <= 20,
    }),
  );

  // Incremental: new decisions and comments on existing Payments bugs, one event per append.
  const charter = buildDemoCharter(42, BENCH_NOW);
  const pm = charter.people.find((p) => p.id === DEMO_CAST.paymentsPm)!;
  const keys = (
    await database.db
      .selectFrom('item')
      .select('key')
      .where('team', '=', 'payments')
      .where('kind', '=', 'bug')
      .limit(500)
      .execute()
  ).map((r) => r.key);
  // After the last event in the log, as live events are (earlier ones would replay their item's history).
  const last = await database.db
    .selectFrom('event')
    .select((eb) => eb.fn.max('occurred_at').as('at'))
    .executeTakeFirstOrThrow();
  const start = Math.max(BENCH_NOW.getTime(), Date.parse(String(last.at))) + 60_000;
  const inputs = (i: number): EventInput => {
    const key = keys[i % keys.length]!;
    const at = new Date(start + i * 1000).toISOString();
    const base = { source: 'jira', occurredAt: at, actor: { kind: 'jira' as const, id: pm.jira! }, item: { key } };
    return i % 3 === 2
      ? {
          ...base,
          sourceEventId: `bench-b-${Date.now()}-${i}`,
          change: { kind: 'commented', text: 'Any update on this one? The customer is asking for an ETA.' },
        }
      : {
          ...base,
          sourceEventId: `bench-b-${Date.now()}-${i}`,
          change: { kind: 'field_changed', field: 'priority', to: i % 2 ? 'P1' : 'P2' },
        };
  };
  const judging: number[] = [];
  let n = 0;
  for (let i = 0; i < INCREMENTAL; i++) {
    const input = inputs(i);
    await withTransaction(database, async (tx) => {
      const logged = toLoggedEvent(input, ctx.charter()!.index, `bench-eval-${++n}`, BENCH_NOW.toISOString());
      const before = await getItemsByKey(tx, [logged.itemKey!]);
      const t0 = process.hrtime.bigint();
      await evaluateAppended(ctx, tx, { before, stored: [logged], replayed: new Map() });
      judging.push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  }
  const appends: number[] = [];
  for (let i = 0; i < INCREMENTAL; i++) {
    const input = inputs(INCREMENTAL + i);
    const t0 = process.hrtime.bigint();
    await appendEvents(ctx, [input]);
    appends.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  // The same appends with judging off (no charter), to show what judging adds to the whole path.
  const bare = { ...ctx, charter: () => undefined };
  const bareAppends: number[] = [];
  for (let i = 0; i < INCREMENTAL; i++) {
    const input = inputs(2 * INCREMENTAL + i);
    const t0 = process.hrtime.bigint();
    await appendEvents(bare, [input]);
    bareAppends.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  // Floor: one raw prepared insert of an event row in its own transaction.
  const insert = sqlite.prepare(
    `INSERT INTO event (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`,
  );
  const floors: number[] = [];
  for (let i = 0; i < INCREMENTAL; i++) {
    const t0 = process.hrtime.bigint();
    sqlite.transaction(() =>
      insert.run(
        `floor-${Date.now()}-${i}`,
        'floor',
        `floor-${Date.now()}-${i}`,
        BENCH_NOW.toISOString(),
        BENCH_NOW.toISOString(),
        null,
        null,
        keys[0]!,
        null,
        'commented',
        null,
        null,
        null,
        'x',
        null,
        null,
        null,
        null,
        null,
      ),
    )();
    floors.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  await database.db.deleteFrom('event').where('source', '=', 'floor').execute();
  const floorP99 = percentile(floors, 99);
  figures.push(
    figure({
      name: `incremental judging of one event, p99 (${INCREMENTAL} events)`,
      value: percentile(judging, 99),
      unit: 'ms',
      floor: floorP99,
      ratio: floorP99 / percentile(judging, 99),
      target: '<= 1 ms per event at p99 (floor: one raw event insert in its own transaction)',
      pass: percentile(judging, 99) <= 1,
    }),
    figure({
      name: `one-event append including judging, p50 / p99 (${INCREMENTAL} events)`,
      value: percentile(appends, 99),
      unit: 'ms',
      floor: percentile(bareAppends, 99),
      ratio: percentile(bareAppends, 99) / percentile(appends, 99),
      target: `context: the whole append path (p50 ${percentile(appends, 50).toFixed(2)} ms); floor = the same append with judging off (p50 ${percentile(bareAppends, 50).toFixed(2)} ms); p99 is SQLite's WAL checkpoints either way`,
      pass: true,
    }),
  );

  // The report API on the same workspace.
  const email = 'bench-member@acme.example';
  const user =
    (await findUserByEmail(ctx, email)) ??
    (await addUser(
      ctx,
      { kind: 'cli' },
      { email, name: 'Bench member', role: 'member', password: 'bench-password-123' },
    ));
  const { secret: token } = await createToken(ctx, { kind: 'cli' }, user, 'bench');
  await database.close();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'api.server.ts'), path, String(PORT)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()),
  );
  const base = `http://127.0.0.1:${PORT}`;
  try {
    const scenarios: Array<[string, string[]]> = [
      [
        'GET /api/v1/boundaries',
        ['', '?team=payments', '?since=30d', '?team=growth&since=365d'].map((q) => `/api/v1/boundaries${q}`),
      ],
      ['GET /api/v1/middleman', ['', '?team=payments', '?since=365d'].map((q) => `/api/v1/middleman${q}`)],
    ];
    for (const [name, paths] of scenarios) {
      const floorPaths = paths.map((p) => `/bench/floor?like=${encodeURIComponent(p)}`);
      for (const p of floorPaths) await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${token}` } });
      const floor = await load(base, token, floorPaths);
      const r = await load(base, token, paths);
      if (r.non2xx > 0) console.error(`${name}: ${r.non2xx} non-2xx responses`);
      const p95 = r.latency.p97_5 ?? r.latency.p99;
      figures.push(
        figure({
          name: `${name} p97.5 latency (${logEvents.toLocaleString('en-US')}-event workspace, ${Math.round(r.requests.average)} req/s)`,
          value: p95,
          unit: 'ms',
          floor: floor.latency.p97_5,
          ratio: floor.latency.p97_5 / Math.max(p95, 0.001),
          target: '<= 100 ms at p95 (autocannon reports p97.5, a stricter figure)',
          pass: p95 <= 100 && r.non2xx === 0,
        }),
      );
    }
  } finally {
    child.kill();
  }
  writeResults('boundaries', figures);
};
