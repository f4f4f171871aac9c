import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The GitHub event types the webhook benchmarks send, from `@octokit/webhooks-examples`. */
export const BENCH_EVENTS = [
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

export interface SignedDelivery {
  event: string;
  body: string;
  signature: string;
}

const exampleBodies = (): { event: string; body: string }[] => {
  const require = createRequire(import.meta.url);
  const all = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples'), 'utf8')) as {
    name: string;
    examples: unknown[];
  }[];
  return all
    .filter((d) => BENCH_EVENTS.includes(d.name))
    .flatMap((d) => d.examples.map((e) => ({ event: d.name, body: JSON.stringify(e) })));
};

const signed = (secret: string, event: string, body: string): SignedDelivery => ({
  event,
  body,
  signature: `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
});

/** Every example payload as it is, signed: repeated deliveries of the same facts (mostly duplicate events). */
export const repeatedDeliveries = (secret: string): SignedDelivery[] =>
  exampleBodies().map((e) => signed(secret, e.event, e.body));

/**
 * Delivery `n` of a stream of new facts: the examples in turn, with every
 * issue, pull request and object number and id made `n`'s own, so each delivery
 * is about an item (or run, deployment, comment) nobody mentioned before and
 * mapping it stores new events, as a live organisation's deliveries do.
 */
export const freshDeliveries = (secret: string): ((n: number) => SignedDelivery) => {
  const examples = exampleBodies();
  return (n) => {
    const e = examples[n % examples.length]!;
    const body = e.body.replace(/"number":\d+/g, `"number":${n + 1}`).replace(/"id":\d+/g, `"id":${1_000_000_000 + n}`);
    return signed(secret, e.event, body);
  };
};
