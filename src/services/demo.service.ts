import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import { generateDemoEvents } from '../domain/demo/demo.events.js';
import type { EventInput } from '../domain/event.js';
import type { ServiceContext } from './context.js';
import { appendEvents } from './events.service.js';

export interface LoadDemoOptions {
  /** Work items to generate (bugs, tasks, features, tech debt, incidents). */
  items: number;
  seed: number;
  /** The end of the six months of history. */
  now: Date;
  /** Events per `appendEvents` transaction; 5,000 by default. */
  batchSize?: number;
  /** Called after each stored batch with the running totals. */
  onProgress?: (progress: { items: number; events: number }) => void;
}

export interface LoadDemoResult {
  /** Items generated (each has exactly one `created` event). */
  items: number;
  /** Events generated and sent to the log. */
  events: number;
  /** Events new to the log. */
  stored: number;
  /** Events the log already held (a re-load of the same seed stores nothing new). */
  duplicates: number;
}

export const DEFAULT_DEMO_BATCH = 5000;

/**
 * Loads the demo workspace (docs/demo.md) into the event log, streaming the
 * generator in batches so memory stays flat for any number of items.
 *
 * The events name people by their identities in the demo charter of the same
 * seed (`buildDemoCharter(seed, now)`): load that charter into the context
 * first (`ctx.charter()`) so actors resolve to people. Without a charter the
 * load still works, with every actor left unresolved.
 *
 * Idempotent: loading the same (items, seed, now) again stores no new events.
 */
export const loadDemo = async (ctx: ServiceContext, options: LoadDemoOptions): Promise<LoadDemoResult> => {
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_DEMO_BATCH));
  const charter = buildDemoCharter(options.seed, options.now);
  const result: LoadDemoResult = { items: 0, events: 0, stored: 0, duplicates: 0 };
  let batch: EventInput[] = [];

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const appended = await appendEvents(ctx, batch);
    result.stored += appended.stored;
    result.duplicates += appended.duplicates;
    batch = [];
    options.onProgress?.({ items: result.items, events: result.events });
  };

  for (const event of generateDemoEvents({ items: options.items, seed: options.seed, now: options.now, charter })) {
    if (event.change.kind === 'created') result.items += 1;
    result.events += 1;
    batch.push(event);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  ctx.logger.debug({ ...result, seed: options.seed }, 'demo workspace loaded');
  return result;
};
