import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import autocannon from 'autocannon';
import type { SignedDelivery } from './webhooks.payloads.js';

/** Load for the webhook benchmarks: the server processes, an open-loop stream at a fixed rate, a closed-loop saturation. */

export interface BenchServer {
  port: number;
  stop(): Promise<void>;
}

/** Starts `webhooks.server.ts` on `url` (a SQLite file or a PostgreSQL URL) in its own process. */
export const startServer = async (url: string, port: number, secret: string, flags: string[]): Promise<BenchServer> => {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'webhooks.server.ts'), url, String(port), secret, ...flags],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the bench server exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
  });
  return {
    port,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
};

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

export interface StreamRun {
  rate: number;
  seconds: number;
  sent: number;
  /** Delivery ids answered 2xx. */
  acknowledged: string[];
  /** Acknowledgement latencies in ms, sorted, from when each delivery was due to be sent. */
  latencies: number[];
  non2xx: number;
  errors: number;
  /** Pending deliveries, sampled every second while the stream ran. */
  backlog: number[];
  /** When the last answer came, in seconds from the start (the stream kept pace when close to `seconds`). */
  lastAnswerSeconds: number;
}

const headersOf = (d: SignedDelivery, id: string) => ({
  'content-type': 'application/json',
  'content-length': String(Buffer.byteLength(d.body)),
  'x-github-event': d.event,
  'x-github-delivery': id,
  'x-hub-signature-256': d.signature,
});

/**
 * Sends `rate` deliveries a second for `seconds` (open loop: each is due at its
 * time whatever the answers before it), spread over `ports` in turn, and samples
 * the backlog each second. Latency counts from when a delivery was due, so
 * waiting for a free connection counts too.
 */
export const streamAt = async (options: {
  ports: readonly number[];
  rate: number;
  seconds: number;
  prefix: string;
  next: (n: number) => SignedDelivery;
  pending: () => Promise<number>;
}): Promise<StreamRun> => {
  const { ports, rate, seconds, prefix, next } = options;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const run: StreamRun = {
    rate,
    seconds,
    sent: 0,
    acknowledged: [],
    latencies: [],
    non2xx: 0,
    errors: 0,
    backlog: [],
    lastAnswerSeconds: 0,
  };
  let inFlight = 0;
  let allAnswered: () => void = () => undefined;
  const send = (n: number, dueAt: number): void => {
    const id = `${prefix}-${n}`;
    const d = next(n);
    inFlight += 1;
    const done = () => {
      inFlight -= 1;
      if (inFlight === 0) allAnswered();
    };
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: ports[n % ports.length],
        method: 'POST',
        path: '/hooks/github',
        headers: headersOf(d, id),
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            run.acknowledged.push(id);
            run.latencies.push(performance.now() - dueAt);
          } else run.non2xx += 1;
          done();
        });
      },
    );
    req.on('error', () => {
      run.errors += 1;
      done();
    });
    req.end(d.body);
  };
  const sampling = setInterval(() => {
    void options.pending().then((n) => run.backlog.push(n));
  }, 1000);
  const started = performance.now();
  const end = started + seconds * 1000;
  for (;;) {
    const now = performance.now();
    if (now >= end) break;
    const due = Math.floor(((now - started) / 1000) * rate);
    while (run.sent < due) {
      send(run.sent, started + (run.sent * 1000) / rate);
      run.sent += 1;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  clearInterval(sampling);
  if (inFlight > 0) await new Promise<void>((resolve) => (allAnswered = resolve));
  run.lastAnswerSeconds = (performance.now() - started) / 1000;
  agent.destroy();
  run.latencies.sort((a, b) => a - b);
  return run;
};

/**
 * Whether the rate was sustained with the backlog bounded: the stream was
 * acknowledged at its rate (at least 95 % of it, nothing refused, the last
 * answer within a second or 10 % of the window after it ended) and the
 * backlog's growth over the second half of the window (least-squares slope of
 * the per-second samples) is under 2 % of the rate.
 */
export const boundedAt = (run: StreamRun): { bounded: boolean; slope: number } => {
  const half = run.backlog.slice(Math.floor(run.backlog.length / 2));
  const n = half.length;
  const meanX = (n - 1) / 2;
  const meanY = half.reduce((s, y) => s + y, 0) / Math.max(n, 1);
  let num = 0;
  let den = 0;
  half.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  const slope = den === 0 ? 0 : num / den;
  const acknowledgedAtRate =
    run.acknowledged.length >= 0.95 * run.rate * run.seconds &&
    run.lastAnswerSeconds <= run.seconds + Math.max(1, 0.1 * run.seconds);
  return { bounded: acknowledgedAtRate && run.non2xx === 0 && run.errors === 0 && slope <= 0.02 * run.rate, slope };
};

/** Closed loop: as many deliveries as `connections` per port can get acknowledged in `seconds`; deliveries/s and p99. */
export const saturate = async (options: {
  ports: readonly number[];
  seconds: number;
  connections: number;
  prefix: string;
  next: (n: number) => SignedDelivery;
}): Promise<{ rate: number; p50: number; p99: number; non2xx: number }> => {
  let n = 0;
  const results = await Promise.all(
    options.ports.map(
      (port) =>
        new Promise<autocannon.Result>((resolve, reject) =>
          autocannon(
            {
              url: `http://127.0.0.1:${port}`,
              connections: options.connections,
              duration: options.seconds,
              method: 'POST',
              requests: [
                {
                  setupRequest: (req) => {
                    const d = options.next(n);
                    const id = `${options.prefix}-${n}`;
                    n += 1;
                    const { 'content-length': _length, ...headers } = headersOf(d, id);
                    return { ...req, path: '/hooks/github', method: 'POST', body: d.body, headers };
                  },
                },
              ],
            },
            (error, result) => (error ? reject(error) : resolve(result)),
          ),
        ),
    ),
  );
  return {
    rate: results.reduce((s, r) => s + r.requests.average, 0),
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    non2xx: results.reduce((s, r) => s + r.non2xx, 0),
  };
};
