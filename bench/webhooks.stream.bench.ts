import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { openDatabase } from '../src/store/database.js';
import { figure, writeResults, type Figure } from './bench.lib.js';
import {
  boundedAt,
  percentile,
  saturate,
  startServer,
  streamAt,
  type BenchServer,
  type StreamRun,
} from './webhooks.load.js';
import { freshDeliveries } from './webhooks.payloads.js';

/**
 * A sustained stream of signed GitHub deliveries, each about new facts, sent
 * at a fixed rate (open loop) to Lanes on SQLite and to two instances on one
 * PostgreSQL database, with mapping running as `lanes serve` runs it. Reports
 * acknowledgement latency, the pending backlog (sampled each second), the time
 * from arrival to mapped of every delivery, and the highest rate at which the
 * backlog stays bounded as a ratio to the acknowledgement-only rate (mapping
 * off) measured in the same run; on SQLite also what full durability
 * (`synchronous=FULL` for delivery commits) costs against NORMAL.
 * `--quick` (or BENCH_STREAM_QUICK=1) runs short windows.
 */
const QUICK = process.argv.includes('--quick') || process.env['BENCH_STREAM_QUICK'] === '1';
const RATE = Number(process.env['BENCH_STREAM_RATE'] ?? 1000);
const STREAM_SECONDS = Number(process.env['BENCH_STREAM_SECONDS'] ?? (QUICK ? 15 : 60));
const STEP_SECONDS = QUICK ? 8 : 20;
const ACK_SECONDS = QUICK ? 5 : 10;
/** Each server is warmed up first (JIT, caches), with a stream this long that is then left to be mapped. */
const WARM_SECONDS = QUICK ? 3 : 5;
const STEPS_UP = [1500, 2000, 3000, 4000, 6000];
const STEPS_DOWN = [750, 500, 250, 100];
const SECRET = 'bench-stream-secret';
const BASE_PORT = 5394;
const PG_ADMIN = process.env['LANES_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const MAPPED_P99_TARGET_MS = 5000;
const ACK_P99_TARGET_MS = 100;

interface Store {
  url: string;
  pending(): Promise<number>;
  /** Arrival and mapping times of every delivery, and how many rows each delivery id has. */
  rows(): Promise<{ id: string; status: string; receivedAt: string; processedAt: string | null }[]>;
  drop(): Promise<void>;
}

interface Target {
  label: string;
  instances: number;
  fresh(): Promise<Store>;
}

const sqliteTarget = (): Target => ({
  label: 'SQLite',
  instances: 1,
  fresh: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-stream-'));
    const url = join(dir, 'stream.db');
    await (await openDatabase({ url })).close();
    let reader: SqliteDatabase.Database | undefined;
    const read = () => (reader ??= new SqliteDatabase(url, { readonly: true }));
    return {
      url,
      pending: async () =>
        read().prepare(`SELECT count(*) FROM webhook_delivery WHERE status = 'pending'`).pluck().get() as number,
      rows: async () =>
        (
          read().prepare('SELECT delivery_id, status, received_at, processed_at FROM webhook_delivery').all() as {
            delivery_id: string;
            status: string;
            received_at: string;
            processed_at: string | null;
          }[]
        ).map((r) => ({ id: r.delivery_id, status: r.status, receivedAt: r.received_at, processedAt: r.processed_at })),
      drop: async () => {
        reader?.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

const postgresTarget = async (): Promise<Target | undefined> => {
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  try {
    await admin.connect();
    await admin.end();
  } catch (error) {
    console.error(`PostgreSQL unreachable (${(error as Error).message}); skipping the PostgreSQL figures`);
    return undefined;
  }
  let made = 0;
  return {
    label: 'PostgreSQL, 2 instances',
    instances: 2,
    fresh: async () => {
      const name = `lanes_bench_stream_${Date.now().toString(36)}_${(made += 1)}`;
      const client = new pg.Client({ connectionString: PG_ADMIN });
      await client.connect();
      await client.query(`CREATE DATABASE ${name}`);
      await client.end();
      const url = new URL(PG_ADMIN);
      url.pathname = `/${name}`;
      await (await openDatabase({ url: url.toString() })).close();
      const pool = new pg.Pool({ connectionString: url.toString(), max: 2 });
      return {
        url: url.toString(),
        pending: async () =>
          Number((await pool.query(`SELECT count(*) AS n FROM webhook_delivery WHERE status = 'pending'`)).rows[0].n),
        rows: async () =>
          (
            await pool.query<{ delivery_id: string; status: string; received_at: string; processed_at: string | null }>(
              'SELECT delivery_id, status, received_at, processed_at FROM webhook_delivery',
            )
          ).rows.map((r) => ({
            id: r.delivery_id,
            status: r.status,
            receivedAt: r.received_at,
            processedAt: r.processed_at,
          })),
        drop: async () => {
          await pool.end();
          const dropper = new pg.Client({ connectionString: PG_ADMIN });
          await dropper.connect();
          await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await dropper.end();
        },
      };
    },
  };
};

/** Runs `work` against fresh servers on a fresh database, then stops and drops them. */
const withServers = async <T>(
  target: Target,
  flags: string[],
  work: (servers: BenchServer[], store: Store) => Promise<T>,
): Promise<T> => {
  const store = await target.fresh();
  const servers: BenchServer[] = [];
  try {
    for (let i = 0; i < target.instances; i++) servers.push(await startServer(store.url, BASE_PORT + i, SECRET, flags));
    return await work(servers, store);
  } finally {
    for (const s of servers) await s.stop();
    await store.drop();
  }
};

interface Sustained {
  run: StreamRun;
  bounded: boolean;
  slope: number;
  /** ms from arrival to mapped, sorted. */
  toMapped: number[];
  caughtUpSeconds: number;
  lost: number;
  duplicates: number;
  /** The machine's 1-minute load average as the stream ended (its own processes included). */
  load: number;
}

/** A stream at `rate` for `seconds`, then waits for the backlog to be mapped and reads every delivery's times. */
const sustained = async (target: Target, rate: number, seconds: number, flags: string[] = []): Promise<Sustained> =>
  withServers(target, flags, async (servers, store) => {
    const next = freshDeliveries(SECRET);
    const ports = servers.map((s) => s.port);
    const caughtUp = async (): Promise<number> => {
      const waitStarted = Date.now();
      while ((await store.pending()) > 0 && Date.now() - waitStarted < 600_000) {
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      return (Date.now() - waitStarted) / 1000;
    };
    const warm = Math.min(rate, 300);
    await streamAt({ ports, rate: warm, seconds: WARM_SECONDS, prefix: 'warm', next, pending: store.pending });
    await caughtUp();
    // The measured stream's deliveries are about facts the warm-up did not mention.
    const measured = (n: number) => next(n + warm * WARM_SECONDS);
    const prefix = `r${rate}`;
    const run = await streamAt({ ports, rate, seconds, prefix, next: measured, pending: store.pending });
    const verdict = boundedAt(run);
    const load = loadavg()[0]!;
    const caughtUpSeconds = await caughtUp();
    const rows = (await store.rows()).filter((r) => r.id.startsWith(`${prefix}-`));
    const copies = new Map<string, number>();
    for (const r of rows) copies.set(r.id, (copies.get(r.id) ?? 0) + 1);
    const toMapped = rows
      .filter((r) => r.processedAt !== null)
      .map((r) => Date.parse(r.processedAt!) - Date.parse(r.receivedAt))
      .sort((a, b) => a - b);
    const maxBacklog = Math.max(0, ...run.backlog);
    console.error(
      `${target.label}${flags.length ? ` (${flags.join(' ')})` : ''} at ${rate}/s for ${seconds} s: ${run.acknowledged.length} of ${run.sent} acknowledged ` +
        `(${run.non2xx} refused, ${run.errors} errors, last answer at ${run.lastAnswerSeconds.toFixed(1)} s), ack p50 ${percentile(run.latencies, 50).toFixed(0)} ms ` +
        `p99 ${percentile(run.latencies, 99).toFixed(0)} ms; backlog max ${maxBacklog}, slope ${verdict.slope.toFixed(1)}/s ` +
        `(${verdict.bounded ? 'sustained' : 'NOT sustained'}); to mapped p50 ${percentile(toMapped, 50)} p99 ${percentile(toMapped, 99)} ` +
        `max ${toMapped.at(-1)} ms; caught up ${caughtUpSeconds.toFixed(1)} s after the stream; load average ${load.toFixed(1)}`,
    );
    return {
      run,
      ...verdict,
      toMapped,
      caughtUpSeconds,
      load,
      lost: run.acknowledged.filter((id) => !copies.has(id)).length,
      duplicates: [...copies.values()].filter((c) => c > 1).length,
    };
  });

/** Acknowledgement-only (mapping off), closed loop: the most the intake takes. */
const acknowledgeOnly = async (target: Target, durability: 'full' | 'process') =>
  withServers(target, ['--no-map', '--durability', durability], async (servers) => {
    await saturate({
      ports: servers.map((s) => s.port),
      seconds: WARM_SECONDS,
      connections: 32 / target.instances,
      prefix: `warm-${durability}`,
      next: freshDeliveries(SECRET),
    });
    const r = await saturate({
      ports: servers.map((s) => s.port),
      seconds: ACK_SECONDS,
      connections: 32 / target.instances,
      prefix: `ack-${durability}`,
      next: freshDeliveries(SECRET),
    });
    const load = loadavg()[0]!;
    console.error(
      `${target.label} acknowledgement only (${durability}): ${r.rate.toFixed(0)}/s, p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.non2xx} non-2xx; load average ${load.toFixed(1)}`,
    );
    return { ...r, load };
  });

/** Steps the rate up from RATE while the backlog stays bounded (down when it does not at RATE); the highest bounded one. */
const highestBounded = async (target: Target, atRate: Sustained): Promise<{ rate: number; tried: string[] }> => {
  const tried = [`${RATE}/s ${atRate.bounded ? 'sustained' : 'not'} (load ${atRate.load.toFixed(1)})`];
  if (atRate.bounded) {
    let best = RATE;
    for (const rate of STEPS_UP) {
      const step = await sustained(target, rate, STEP_SECONDS);
      tried.push(`${rate}/s ${step.bounded ? 'sustained' : 'not'} (load ${step.load.toFixed(1)})`);
      if (!step.bounded) break;
      best = rate;
    }
    return { rate: best, tried };
  }
  for (const rate of STEPS_DOWN) {
    const step = await sustained(target, rate, STEP_SECONDS);
    tried.push(`${rate}/s ${step.bounded ? 'sustained' : 'not'} (load ${step.load.toFixed(1)})`);
    if (step.bounded) return { rate, tried };
  }
  return { rate: 0, tried };
};

const streamFigures = (label: string, s: Sustained, seconds: number): Figure[] => {
  const { run, toMapped } = s;
  const p99 = percentile(run.latencies, 99);
  const mappedP99 = percentile(toMapped, 99);
  const maxBacklog = Math.max(0, ...run.backlog);
  const at = `${label}, ${RATE}/s for ${seconds} s (load average ${s.load.toFixed(1)} on ${cpus().length} cores)`;
  return [
    figure({
      name: `${at}: acknowledgement latency p50`,
      value: percentile(run.latencies, 50),
      unit: 'ms',
      floor: null,
      ratio: null,
      target: 'reported',
      pass: true,
    }),
    figure({
      name: `${at}: acknowledgement latency p99`,
      value: p99,
      unit: 'ms',
      floor: null,
      ratio: null,
      target: `<= ${ACK_P99_TARGET_MS} ms`,
      pass: p99 <= ACK_P99_TARGET_MS,
    }),
    figure({
      name: `${at}: pending backlog, maximum of the per-second samples (growth ${s.slope.toFixed(1)}/s over the second half)`,
      value: maxBacklog,
      unit: 'deliveries',
      floor: null,
      ratio: null,
      target: 'bounded (growth under 2 % of the rate), acknowledged at the rate',
      pass: s.bounded,
    }),
    ...([50, 99] as const).map((p) =>
      figure({
        name: `${at}: arrival to mapped p${p}`,
        value: percentile(toMapped, p),
        unit: 'ms',
        floor: null,
        ratio: null,
        target: p === 99 ? `<= ${MAPPED_P99_TARGET_MS} ms` : 'reported',
        pass: p === 99 ? mappedP99 <= MAPPED_P99_TARGET_MS : true,
      }),
    ),
    figure({
      name: `${at}: arrival to mapped, slowest (backlog caught up ${s.caughtUpSeconds.toFixed(1)} s after the stream)`,
      value: toMapped.at(-1) ?? NaN,
      unit: 'ms',
      floor: null,
      ratio: null,
      target: 'reported',
      pass: true,
    }),
    figure({
      name: `${at}: acknowledged deliveries lost + stored twice (of ${run.acknowledged.length} acknowledged, ${run.non2xx + run.errors} refused or failed)`,
      value: s.lost + s.duplicates,
      unit: 'deliveries',
      floor: null,
      ratio: null,
      target: '0, nothing refused',
      pass: s.lost + s.duplicates === 0 && run.non2xx + run.errors === 0,
    }),
  ];
};

const benchTarget = async (target: Target): Promise<Figure[]> => {
  const figures: Figure[] = [];
  const ackFull = await acknowledgeOnly(target, 'full');
  if (target.instances === 1) {
    const ackNormal = await acknowledgeOnly(target, 'process');
    figures.push(
      figure({
        name: `${target.label}: acknowledgement-only throughput, deliveries committed with synchronous=FULL (floor: NORMAL), ${ACK_SECONDS} s, 32 connections (load average ${ackFull.load.toFixed(1)} and ${ackNormal.load.toFixed(1)})`,
        value: ackFull.rate,
        unit: 'deliveries/s',
        floor: ackNormal.rate,
        ratio: ackFull.rate / ackNormal.rate,
        target: 'reported: the cost of surviving a power loss',
        pass: ackFull.non2xx === 0,
      }),
      figure({
        name: `${target.label}: acknowledgement-only p99 latency with synchronous=FULL (floor: NORMAL, p50 ${ackFull.p50} against ${ackNormal.p50} ms)`,
        value: ackFull.p99,
        unit: 'ms',
        floor: ackNormal.p99,
        ratio: ackNormal.p99 / ackFull.p99,
        target: 'reported',
        pass: true,
      }),
    );
  }
  const main = await sustained(target, RATE, STREAM_SECONDS);
  figures.push(...streamFigures(target.label, main, STREAM_SECONDS));
  if (target.instances === 1) {
    // Under a steady stream a group commit holds few deliveries, so each sync weighs more than at saturation.
    const normal = await sustained(target, RATE, STEP_SECONDS, ['--durability', 'process']);
    const p99 = percentile(main.run.latencies, 99);
    const normalP99 = percentile(normal.run.latencies, 99);
    figures.push(
      figure({
        name: `${target.label}, ${RATE}/s: acknowledgement latency p99 with synchronous=FULL for delivery commits (the ${STREAM_SECONDS} s stream above; floor: NORMAL, a ${STEP_SECONDS} s stream, load average ${normal.load.toFixed(1)}; p50 ${percentile(main.run.latencies, 50).toFixed(0)} against ${percentile(normal.run.latencies, 50).toFixed(0)} ms)`,
        value: p99,
        unit: 'ms',
        floor: normalP99,
        ratio: normalP99 / p99,
        target: 'reported: the cost of surviving a power loss, under a stream',
        pass: true,
      }),
    );
  }
  const best = await highestBounded(target, main);
  figures.push(
    figure({
      name: `${target.label}: highest sustained rate with the backlog bounded (${STEP_SECONDS} s steps: ${best.tried.join(', ')}; floor: acknowledgement-only rate, mapping off)`,
      value: best.rate,
      unit: 'deliveries/s',
      floor: ackFull.rate,
      ratio: best.rate / ackFull.rate,
      target: `>= ${RATE} deliveries/s`,
      pass: best.rate >= RATE,
    }),
  );
  return figures;
};

export const run = async (): Promise<void> => {
  const figures = await benchTarget(sqliteTarget());
  const postgres = await postgresTarget();
  if (postgres) figures.push(...(await benchTarget(postgres)));
  writeResults(QUICK ? 'webhooks-stream-quick' : 'webhooks-stream', figures);
};
