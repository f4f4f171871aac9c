import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';

/**
 * Signed GitHub `issues.opened` deliveries, each about its own issue, streamed
 * over real HTTP by a few concurrent senders, with every answer recorded: what
 * the resilience tests need to say which deliveries were acknowledged and what
 * the others were told.
 */
export const STREAM_SECRET = 'resilience-test-secret-5e1f';

const require = createRequire(import.meta.url);
const openedExample = (): Record<string, unknown> => {
  const all = require('@octokit/webhooks-examples') as { name: string; examples: Record<string, unknown>[] }[];
  return all.find((d) => d.name === 'issues')!.examples.find((e) => e['action'] === 'opened')!;
};

/** The body of delivery `n`: issue number `n` opened; `padding` bytes make it larger. */
export const issueOpenedBody = (n: number, padding = 0): string => {
  const example = structuredClone(openedExample());
  const issue = example['issue'] as Record<string, unknown>;
  issue['number'] = n;
  issue['id'] = 1_000_000 + n;
  issue['title'] = `Resilience issue ${n}`;
  issue['body'] = padding > 0 ? 'x'.repeat(padding) : `issue ${n}`;
  return JSON.stringify(example);
};

export interface Answer {
  deliveryId: string;
  status: number;
  retryAfter: string | undefined;
  code: string | undefined;
  ms: number;
  /** When the answer arrived (`performance.now()`). */
  at: number;
}

/** Posts one signed delivery to `/hooks/github` on `port`; connection failures answer status 0. */
export const postDelivery = async (port: number, deliveryId: string, body: string): Promise<Answer> => {
  const signature = await sign(STREAM_SECRET, body);
  const started = performance.now();
  return new Promise<Answer>((resolve) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/hooks/github',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issues',
          'x-github-delivery': deliveryId,
          'x-hub-signature-256': signature,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let code: string | undefined;
          try {
            code = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined;
          }
          const retryAfter = res.headers['retry-after'];
          resolve({
            deliveryId,
            status: res.statusCode ?? 0,
            retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
            code,
            ms: performance.now() - started,
            at: performance.now(),
          });
        });
      },
    );
    req.on('error', () =>
      resolve({ deliveryId, status: 0, retryAfter: undefined, code: undefined, ms: 0, at: performance.now() }),
    );
    req.end(body);
  });
};

export interface Stream {
  answers: Answer[];
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<Answer[]>;
}

/**
 * Sends deliveries `prefix-0`, `prefix-1`, … (issue numbers from `firstIssue`)
 * with `concurrency` senders until stopped.
 */
export const streamDeliveries = (
  port: number,
  options: { prefix: string; concurrency?: number; firstIssue?: number; padding?: number; pauseMs?: number },
): Stream => {
  const answers: Answer[] = [];
  let next = 0;
  let stopped = false;
  const sender = async (): Promise<void> => {
    while (!stopped) {
      const n = next++;
      const body = issueOpenedBody((options.firstIssue ?? 1) + n, options.padding ?? 0);
      answers.push(await postDelivery(port, `${options.prefix}-${n}`, body));
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const senders = Array.from({ length: options.concurrency ?? 8 }, () => sender());
  return {
    answers,
    stop: async () => {
      stopped = true;
      await Promise.all(senders);
      return answers;
    },
  };
};

/** Counts answers by status, e.g. `{ 202: 812, 503: 40 }`. */
export const byStatus = (answers: readonly Answer[]): Record<number, number> => {
  const out: Record<number, number> = {};
  for (const a of answers) out[a.status] = (out[a.status] ?? 0) + 1;
  return out;
};
