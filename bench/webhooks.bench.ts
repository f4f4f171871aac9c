import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign } from '@octokit/webhooks-methods';
import autocannon from 'autocannon';
import { openDatabase } from '../src/store/database.js';
import { figure, writeResults, type Figure } from './bench.lib.js';

const DURATION = Number(process.env['BENCH_WEBHOOK_SECONDS'] ?? 30);
const CONNECTIONS = Number(process.env['BENCH_WEBHOOK_CONNECTIONS'] ?? 32);
const PORT = 5392;
const SECRET = 'bench-webhook-secret';
const EVENTS = [
  'issues',
  'issue_comment',
  'label',
  'milestone',
  'pull_request',
  'pull_request_review',
  'deployment',
  'deployment_status',
  'workflow_run',
];

interface Example {
  event: string;
  body: string;
  signature: string;
}

const examples = async (): Promise<Example[]> => {
  const require = createRequire(import.meta.url);
  const all = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples'), 'utf8')) as {
    name: string;
    examples: unknown[];
  }[];
  const out: Example[] = [];
  for (const def of all.filter((d) => EVENTS.includes(d.name))) {
    for (const example of def.examples) {
      const body = JSON.stringify(example);
      out.push({ event: def.name, body, signature: await sign(SECRET, body) });
    }
  }
  return out;
};

const load = (
  url: string,
  path: string,
  list: Example[],
  runId: string,
  acknowledged: Set<string> = new Set(),
): Promise<autocannon.Result> =>
  new Promise((resolve, reject) => {
    let n = 0;
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration: DURATION,
        method: 'POST',
        requests: [
          {
            setupRequest: (req) => {
              const e = list[n % list.length]!;
              n += 1;
              return {
                ...req,
                path,
                method: 'POST',
                body: e.body,
                headers: {
                  'content-type': 'application/json',
                  'x-github-event': e.event,
                  'x-github-delivery': `${runId}-${n}`,
                  'x-hub-signature-256': e.signature,
                },
              };
            },
            onResponse: (status: number, body: string) => {
              if (status >= 200 && status < 300 && body.includes('deliveryId')) {
                acknowledged.add((JSON.parse(body) as { deliveryId: string }).deliveryId);
              }
            },
          },
        ],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });

export const run = async (): Promise<void> => {
  const list = await examples();
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-hooks-'));
  const path = join(dir, 'hooks.db');
  await (await openDatabase({ url: path })).close();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'webhooks.server.ts'), path, String(PORT), SECRET],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve) =>
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()),
  );
  const url = `http://127.0.0.1:${PORT}`;
  const figures: Figure[] = [];
  try {
    const floor = await load(url, '/bench/floor-hook', list, 'floor');
    const ackedIds = new Set<string>();
    const hooks = await load(url, '/hooks/github', list, 'hook', ackedIds);
    const acknowledged = ackedIds.size;
    // Let the mapping after the acknowledgement finish, then count what was stored.
    const database = await openDatabase({ url: path });
    let pending = 1;
    const waitStarted = Date.now();
    while (pending > 0 && Date.now() - waitStarted < 300_000) {
      await new Promise((r) => setTimeout(r, 500));
      pending = Number(
        (
          await database.db
            .selectFrom('webhook_delivery')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('status', '=', 'pending')
            .executeTakeFirstOrThrow()
        ).n,
      );
    }
    const mappingSeconds = (Date.now() - waitStarted) / 1000;
    const storedIds = new Set(
      (await database.db.selectFrom('webhook_delivery').select('delivery_id').execute()).map((r) => r.delivery_id),
    );
    const lost = [...ackedIds].filter((id) => !storedIds.has(id)).length;
    const rows = await database.db
      .selectFrom('webhook_delivery')
      .select([
        'status',
        (eb) => eb.fn.countAll().as('n'),
        (eb) => eb.fn.count('delivery_id').distinct().as('distinct'),
      ])
      .groupBy('status')
      .execute();
    await database.close();
    const stored = rows.reduce((s, r) => s + Number(r.n), 0);
    const distinct = rows.reduce((s, r) => s + Number(r.distinct), 0);
    const failed = rows.filter((r) => r.status === 'failed').reduce((s, r) => s + Number(r.n), 0);
    const rps = hooks.requests.average;
    console.error(
      `webhooks: ${acknowledged} acknowledged, ${stored} stored (${distinct} distinct ids), ${lost} acknowledged but not stored, ${failed} failed mapping, ${hooks.non2xx} non-2xx, ${hooks.errors} socket errors at shutdown; mapping finished ${mappingSeconds.toFixed(1)} s after the load`,
    );
    // Deliveries still in flight when the load stopped are stored without being counted as acknowledged:
    // loss is an acknowledged id that is not stored; a duplicate is an id stored twice.
    const duplicates = stored - distinct;
    const lossless = lost === 0 && duplicates === 0 && hooks.non2xx === 0;
    figures.push(
      figure({
        name: `POST /hooks/github throughput (${list.length} example payloads, ${DURATION} s, ${CONNECTIONS} connections, SQLite)`,
        value: rps,
        unit: 'deliveries/s',
        floor: floor.requests.average,
        ratio: rps / floor.requests.average,
        target: '>= 2000 deliveries/s sustained, zero loss, zero duplicates',
        pass: rps >= 2000 && lossless,
      }),
      figure({
        name: 'POST /hooks/github p99 acknowledgement latency (stored durably first)',
        value: hooks.latency.p99,
        unit: 'ms',
        floor: floor.latency.p99,
        ratio: null,
        target: '<= 100 ms at p99',
        pass: hooks.latency.p99 <= 100,
      }),
      figure({
        name: `acknowledged deliveries lost + stored twice (of ${acknowledged} acknowledged)`,
        value: lost + duplicates,
        unit: 'deliveries',
        floor: null,
        ratio: null,
        target: '0',
        pass: lossless,
      }),
    );
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  writeResults('webhooks', figures);
};
