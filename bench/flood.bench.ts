import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/store/database.js';
import { figure, seconds, writeResults, type Figure } from './bench.lib.js';

/**
 * Unsigned flood: many parallel large posts with a forged signature, as anyone
 * who finds the webhook URL can send. Measures how much the server's resident
 * memory grows (peak RSS minus RSS before), for Lanes as shipped (a byte budget
 * for bodies read before verification) against the floor of a route that reads
 * every body whole before checking its signature (what `/hooks/github` did).
 */
const POSTS = Number(process.env['BENCH_FLOOD_POSTS'] ?? 80);
const MB = Number(process.env['BENCH_FLOOD_MB'] ?? 24);
const PORT = 5393;
const SECRET = 'bench-flood-secret';
const TARGET_MB = 200;

/** Resident and peak resident memory of a process, in bytes (Linux). */
const memoryOf = (pid: number): { rss: number; peak: number } => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
};

/**
 * Sends one body in every request at once; resolves with the statuses once
 * every request is answered and its whole body sent (or its connection closed).
 */
const flood = (path: string, body: Buffer): Promise<Map<number, number>> =>
  Promise.all(
    Array.from(
      { length: POSTS },
      (_, i) =>
        new Promise<number>((resolve) => {
          const req = request({
            host: '127.0.0.1',
            port: PORT,
            method: 'POST',
            path,
            agent: false,
            headers: {
              'content-type': 'application/json',
              'content-length': String(body.length),
              'x-github-event': 'issues',
              'x-github-delivery': `flood-${i}`,
              'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
            },
          });
          let status = 0;
          let pending = 2;
          const settle = () => (--pending === 0 ? resolve(status) : undefined);
          req.on('response', (res) => {
            status = res.statusCode ?? 0;
            res.resume();
            res.on('end', settle);
          });
          req.on('finish', settle);
          // A server that answered early may close before the whole body is sent: the status is what counts.
          req.on('error', () => resolve(status));
          req.end(body);
        }),
    ),
  ).then((statuses) => {
    const counts = new Map<number, number>();
    for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
    return counts;
  });

/** Starts a fresh server process, floods it, and returns its memory growth and the answers. */
const measure = async (
  mode: 'bounded' | 'unbounded',
  path: string,
  body: Buffer,
): Promise<{ growth: number; before: number; statuses: Map<number, number>; s: number }> => {
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-flood-'));
  const file = join(dir, 'flood.db');
  await (await openDatabase({ url: file })).close();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'flood.server.ts'), file, String(PORT), SECRET, mode],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise<void>((resolve) =>
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()),
    );
    await new Promise((r) => setTimeout(r, 1000));
    const before = memoryOf(child.pid!).rss;
    const started = process.hrtime.bigint();
    const statuses = await flood(path, body);
    const s = seconds(started);
    await new Promise((r) => setTimeout(r, 500));
    return { growth: memoryOf(child.pid!).peak - before, before, statuses, s };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
};

const describe = (statuses: Map<number, number>): string =>
  [...statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, n]) => `${n}×${status || 'reset'}`)
    .join(', ');

export const run = async (): Promise<void> => {
  const body = Buffer.alloc(MB * 1024 * 1024, 0x20);
  body.write('{"action":"opened","pad":"');
  body.write('"}', body.length - 2);
  const mib = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;
  const floor = await measure('unbounded', '/bench/unbounded-hook', body);
  const hooks = await measure('bounded', '/hooks/github', body);
  console.error(
    `flood: ${POSTS} × ${MB} MB forged posts; /hooks/github answered ${describe(hooks.statuses)} in ${hooks.s.toFixed(1)} s ` +
      `(RSS ${mib(hooks.before)} MiB before, +${mib(hooks.growth)} MiB at peak); the unbounded floor answered ` +
      `${describe(floor.statuses)} in ${floor.s.toFixed(1)} s (RSS ${mib(floor.before)} MiB before, +${mib(floor.growth)} MiB at peak)`,
  );
  const refusedOnly = [...hooks.statuses.keys()].every((s) => s === 401 || s === 503);
  const figures: Figure[] = [
    figure({
      name: `peak RSS growth under ${POSTS} parallel ${MB} MB forged-signature posts to /hooks/github`,
      value: mib(hooks.growth),
      unit: 'MiB',
      floor: mib(floor.growth),
      ratio: floor.growth / Math.max(hooks.growth, 1),
      target: `< ${TARGET_MB} MB growth; every post refused (401 or 503)`,
      pass: hooks.growth < TARGET_MB * 1e6 && refusedOnly,
    }),
  ];
  writeResults('flood', figures);
};
