import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { demoContext } from './bench.context.js';
import { addUser, createToken, findUserByEmail } from '../src/services/access.service.js';
import { openDatabase } from '../src/store/database.js';
import { figure, writeResults, type Figure } from './bench.lib.js';

export const BENCH_ITEMS = Number(process.env['BENCH_API_ITEMS'] ?? 1_000_000);
const DURATION = Number(process.env['BENCH_API_SECONDS'] ?? 10);
const PORT = 5391;

/** The workspace is cached between runs under the OS temp dir: building 1,000,000 items takes minutes. */
export const BENCH_LOGIN = { email: 'bench@acme.example', password: 'bench-password-123' };

const workspace = async (): Promise<{ path: string; token: string }> => {
  const dir = join(tmpdir(), 'lanes-bench-api');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `demo-${BENCH_ITEMS}.db`);
  if (!existsSync(path)) {
    console.error(`api: building a ${BENCH_ITEMS}-item demo workspace (cached at ${path})…`);
    execFileSync(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'ingest.child.ts'), 'load', path, String(BENCH_ITEMS * 9)],
      {
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
  }
  const database = await openDatabase({ url: path });
  const ctx = demoContext(database, { clock: () => new Date() });
  const email = 'bench@acme.example';
  const user =
    (await findUserByEmail(ctx, email)) ??
    (await addUser(
      ctx,
      { kind: 'cli' },
      { email, name: 'Bench', role: 'stakeholder', password: 'bench-password-123' },
    ));
  const { secret } = await createToken(ctx, { kind: 'cli' }, user, 'bench');
  await database.close();
  return { path, token: secret };
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

/** The server under load in its own process, on the cached workspace; serves web/dist too. */
export const startBenchServer = async (): Promise<{
  url: string;
  token: string;
  path: string;
  close: () => Promise<void>;
}> => {
  const { path, token } = await workspace();
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
  return {
    url: `http://127.0.0.1:${PORT}`,
    token,
    path,
    close: async () => {
      child.kill();
    },
  };
};

export const run = async (): Promise<void> => {
  const server = await startBenchServer();
  const { path, token } = server;
  const keysDb = await openDatabase({ url: path });
  const keys = (
    await keysDb.db.selectFrom('item').select('key').orderBy('updated_at', 'desc').limit(5000).execute()
  ).map((r) => r.key);
  await keysDb.close();
  const base = server.url;
  const figures: Figure[] = [];
  try {
    const scenarios: Array<[string, string[]]> = [
      ['GET /api/v1/items/:key', keys.map((k) => `/api/v1/items/${encodeURIComponent(k)}`)],
      [
        'GET /api/v1/items?…',
        [
          'team=payments',
          'kind=bug&limit=50',
          'stage=being_fixed',
          'team=growth&kind=feature',
          'severity=high&limit=20',
        ].map((q) => `/api/v1/items?${q}`),
      ],
    ];
    for (const [name, paths] of scenarios) {
      // The floor answers each of this scenario's paths with its response captured once: same sizes, same
      // shapes, same serialisation, no queries.
      const floorPaths = paths.map((p) => `/bench/floor?like=${encodeURIComponent(p)}`);
      // Capture every response before the floor is measured, so the floor never runs a query.
      for (const p of floorPaths) await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${token}` } });
      const floor = await load(base, token, floorPaths);
      const r = await load(base, token, paths);
      const rps = r.requests.average;
      figures.push(
        figure({
          name: `${name} throughput (${BENCH_ITEMS} items)`,
          value: rps,
          unit: 'req/s',
          floor: floor.requests.average,
          ratio: rps / floor.requests.average,
          target: '>= 1000 req/s and ratio >= 0.4 of the same responses served as constants on the same stack',
          pass: rps >= 1000 && rps / floor.requests.average >= 0.4,
        }),
        figure({
          name: `${name} p99 latency`,
          value: r.latency.p99,
          unit: 'ms',
          floor: floor.latency.p99,
          ratio: null,
          target: '<= 25 ms at >= 1000 req/s',
          pass: r.latency.p99 <= 25 && rps >= 1000,
        }),
      );
      if (r.non2xx > 0) console.error(`${name}: ${r.non2xx} non-2xx responses`);
    }
  } finally {
    await server.close();
  }
  writeResults('api', figures);
};
