import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { generateDemoEvents } from '../src/domain/demo/demo.events.js';
import type { EventInput } from '../src/domain/event.js';
import type { ServiceContext } from '../src/services/context.js';
import { appendEvents, toLoggedEvent } from '../src/services/events.service.js';
import { openDatabase, type Database } from '../src/store/database.js';
import { EVENT_COLUMNS, eventToRow } from '../src/store/event.mapper.js';
import { BENCH_NOW as NOW, counterIds, demoCharter, demoContext } from './bench.context.js';
import { figure, seconds, writeResults, type Figure } from './bench.lib.js';

const BATCH = 5000;
const PG_ADMIN = process.env['LANES_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const demoEvents = (count: number, seed: number): EventInput[] => {
  const { charter } = demoCharter();
  const out: EventInput[] = [];
  for (const e of generateDemoEvents({ items: Math.ceil(count / 4), seed, now: NOW, charter })) {
    out.push(e);
    if (out.length >= count) break;
  }
  return out;
};

const contextFor = (database: Database): ServiceContext => demoContext(database, { newId: counterIds('bench-') });

const appendAll = async (ctx: ServiceContext, inputs: EventInput[]): Promise<number> => {
  const started = process.hrtime.bigint();
  for (let i = 0; i < inputs.length; i += BATCH) await appendEvents(ctx, inputs.slice(i, i + BATCH));
  return inputs.length / seconds(started);
};

const benchSqlite = async (inputs: EventInput[], dir: string): Promise<Figure> => {
  // Floor: a raw better-sqlite3 prepared insert of the same rows into the same table.
  const floorDb = await openDatabase({ url: join(dir, 'floor.db') });
  const index = demoCharter().index;
  const rows = inputs.map((e, i) => eventToRow(toLoggedEvent(e, index, `f${i}`, NOW.toISOString())));
  const insert = floorDb.sqlite!.prepare(
    `INSERT INTO event (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`,
  );
  const insertBatch = floorDb.sqlite!.transaction((batch: typeof rows) => {
    for (const r of batch) insert.run(EVENT_COLUMNS.map((c) => r[c]));
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < rows.length; i += BATCH) insertBatch(rows.slice(i, i + BATCH));
  const floor = rows.length / seconds(started);
  await floorDb.close();

  const db = await openDatabase({ url: join(dir, 'lanes.db') });
  const value = await appendAll(contextFor(db), inputs);
  await db.close();
  return figure({
    name: 'sqlite.append_events',
    value,
    unit: 'events/s',
    floor,
    ratio: value / floor,
    target: '>= 100000 events/s and ratio >= 0.5',
    pass: value >= 100_000 && value / floor >= 0.5,
  });
};

const benchPostgres = async (inputs: EventInput[]): Promise<Figure | undefined> => {
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  try {
    await admin.connect();
  } catch (error) {
    console.error(`PostgreSQL unreachable (${(error as Error).message}); skipping the PostgreSQL figure`);
    return undefined;
  }
  const name = `lanes_bench_${Date.now().toString(36)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  try {
    const floorDb = await openDatabase({ url: url.toString(), pgSchema: 'floor' });
    const index = demoCharter().index;
    const rows = inputs.map((e, i) => eventToRow(toLoggedEvent(e, index, `f${i}`, NOW.toISOString())));
    let started = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i += BATCH) {
      const part = rows.slice(i, i + BATCH);
      await sql`INSERT INTO event (${sql.raw(EVENT_COLUMNS.join(', '))}) SELECT * FROM unnest(${sql.join(
        EVENT_COLUMNS.map((c) => sql`${part.map((r) => r[c])}::text[]`),
        sql`, `,
      )})`.execute(floorDb.db);
    }
    const floor = rows.length / seconds(started);
    await floorDb.close();
    const db = await openDatabase({ url: url.toString(), pgSchema: 'lanes' });
    started = process.hrtime.bigint();
    const value = await appendAll(contextFor(db), inputs);
    await db.close();
    return figure({
      name: 'postgres.append_events',
      value,
      unit: 'events/s',
      floor,
      ratio: value / floor,
      target: '>= 20000 events/s (ratio reported against a raw multi-row unnest insert)',
      pass: value >= 20_000,
    });
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
};

interface ChildResult {
  seconds: number;
  maxRssMb: number;
  floorSeconds?: number;
  items?: number;
  events?: number;
}

const child = (args: string[]): ChildResult => {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'ingest.child.ts'), ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
};

export const run = async (): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-'));
  const figures: Figure[] = [];
  try {
    const sqliteEvents = Number(process.env['BENCH_EVENTS'] ?? 200_000);
    console.error(`ingest: generating ${sqliteEvents} demo events…`);
    const inputs = demoEvents(sqliteEvents, 7);
    figures.push(await benchSqlite(inputs, dir));
    const pgFigure = await benchPostgres(inputs.slice(0, Number(process.env['BENCH_PG_EVENTS'] ?? 100_000)));
    if (pgFigure) figures.push(pgFigure);

    const rebuildEvents = Number(process.env['BENCH_REBUILD_EVENTS'] ?? 1_000_000);
    console.error(`ingest: loading ${rebuildEvents} events for the rebuild…`);
    child(['load', join(dir, 'rebuild.db'), String(rebuildEvents)]);
    const rebuild = child(['rebuild', join(dir, 'rebuild.db')]);
    figures.push(
      figure({
        name: `sqlite.rebuild_projection_${rebuild.events}_events`,
        value: rebuild.seconds,
        unit: 's',
        floor: rebuild.floorSeconds ?? null,
        ratio: rebuild.floorSeconds ? rebuild.floorSeconds / rebuild.seconds : null,
        target: '<= 30 s (floor: a raw scan of the same events in item order)',
        pass: rebuild.seconds <= 30,
      }),
      figure({
        name: 'sqlite.rebuild_projection_peak_rss',
        value: rebuild.maxRssMb,
        unit: 'MB',
        floor: null,
        ratio: null,
        target: '<= 1024 MB',
        pass: rebuild.maxRssMb <= 1024,
      }),
    );

    const demoItems = Number(process.env['BENCH_DEMO_ITEMS'] ?? 1_000_000);
    console.error(`ingest: lanes demo --items ${demoItems}…`);
    const demo = child(['demo', join(dir, 'demo.db'), String(demoItems)]);
    figures.push(
      figure({
        name: `demo_${demoItems}_items_peak_rss`,
        value: demo.maxRssMb,
        unit: 'MB',
        floor: null,
        ratio: null,
        target: '<= 1024 MB',
        pass: demo.maxRssMb <= 1024,
      }),
      figure({
        name: `demo_${demoItems}_items_throughput`,
        value: (demo.events ?? 0) / demo.seconds,
        unit: 'events/s',
        floor: null,
        ratio: null,
        target: `informational: ${demo.events} events in ${demo.seconds.toFixed(0)} s`,
        pass: true,
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  writeResults('ingest', figures);
};
