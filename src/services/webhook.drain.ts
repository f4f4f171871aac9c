import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { MapContext, WebhookProvider } from '../connectors/connector.types.js';
import { WEBHOOK_PROVIDERS, type ProviderName } from '../connectors/registry.js';
import { validateEventBatch, type EventInput } from '../domain/event.js';
import {
  bumpUnmapped,
  claimPendingDeliveries,
  markDeliveries,
  releaseDeliveryClaims,
  type DeliveryOutcome,
  type StoredDelivery,
} from '../store/connector.repository.js';
import { classifyDatabaseError } from '../store/database.errors.js';
import type { ServiceContext } from './context.js';
import { appendEvents, MAX_BATCH } from './events.service.js';
import { createRoundFailures } from './round.failures.js';
import { UnmappedTally } from './unmapped.js';

/**
 * Mapping stored webhook deliveries into events (issue 4; continuous since
 * issue 14). Deliveries are claimed in batches with a lease, mapped by their
 * provider, appended through `appendEvents` and marked. Because events are
 * idempotent on (source, source event id), mapping the same delivery twice (a
 * crash before it was marked, a lease that ran out) stores nothing twice.
 */
export interface DrainResult {
  deliveries: number;
  mapped: number;
  unknown: number;
  failed: number;
  events: number;
}

export interface DrainOptions {
  /**
   * Map without being asked: soon after deliveries are stored (`kick`), every
   * `pollMs` when idle (deliveries another instance stored, leases that ran
   * out), and again with backoff after a failed round. Off: only `drain()` maps.
   */
  auto: boolean;
  /** The idle poll (default 5 s). */
  pollMs?: number;
  /** The first retry after a failure (default 1 s); it doubles up to `maxRetryMs` (default 30 s). */
  retryMs?: number;
  maxRetryMs?: number;
  /** Batch size bounds (defaults 10 and 1,000). */
  minBatch?: number;
  maxBatch?: number;
  /** The longest a batch should hold the event loop while deliveries arrive (default 40 ms) … */
  blockTargetMs?: number;
  /** … and while a backlog is being worked off (default 80 ms). */
  backlogBlockTargetMs?: number;
  /** How long a claim lasts before another instance may take the deliveries (default 30 s). */
  leaseMs?: number;
  /** Whether deliveries are arriving now: batches then keep to the block target. */
  receiving: () => boolean;
  /** Awaited before each batch: acknowledgements waiting to be stored go first. */
  beforeBatch?: () => Promise<void>;
}

export interface DeliveryDrain {
  /** Deliveries were stored: map them soon (ignored when not `auto`, or while backing off after a failure). */
  kick(): void;
  /** Maps every pending delivery this instance can claim; resolves when none is left. */
  drain(): Promise<DrainResult>;
  /** Stops the timer and any further batch; waits for the batch in flight. */
  close(): Promise<void>;
}

const emptyResult = (): DrainResult => ({ deliveries: 0, mapped: 0, unknown: 0, failed: 0, events: 0 });

const addResult = (total: DrainResult, r: DrainResult): void => {
  for (const k of Object.keys(total) as (keyof DrainResult)[]) total[k] += r[k];
};

interface MappedDelivery {
  outcome: DeliveryOutcome;
  events: EventInput[];
}

const failedWith = (id: string, error: string, eventType?: string): MappedDelivery => ({
  outcome: { id, status: 'failed', eventCount: 0, error: error.slice(0, 1000), eventType },
  events: [],
});

/** Parses and maps one stored delivery: its outcome and the events to append. */
const mapDelivery = (
  d: StoredDelivery,
  mappingOf: Partial<Record<ProviderName, unknown>> | undefined,
  tally: UnmappedTally,
): MappedDelivery => {
  const provider = WEBHOOK_PROVIDERS[d.provider as ProviderName] as WebhookProvider<unknown> | undefined;
  if (!provider) return failedWith(d.id, `no provider "${d.provider}"`);
  const mapCtx: MapContext<unknown> = {
    mapping: mappingOf?.[d.provider as ProviderName],
    unmapped: tally.sink(d.provider),
    receivedAt: d.receivedAt,
  };
  let payload: unknown;
  try {
    payload = JSON.parse(d.body.toString('utf8'));
  } catch {
    return failedWith(d.id, 'the body is not valid JSON');
  }
  const refined = provider.refineEventType?.(d.eventType, payload) ?? d.eventType;
  const eventType = refined === d.eventType ? undefined : refined;
  try {
    const mapped = provider.map(refined, payload, mapCtx);
    if (mapped === null) {
      tally.add(d.provider, 'event_type', refined);
      return { outcome: { id: d.id, status: 'unknown', eventCount: 0, error: null, eventType }, events: [] };
    }
    const checked = validateEventBatch(mapped);
    if (!checked.ok) {
      const first = checked.rejections[0]!;
      return failedWith(d.id, `mapped event ${first.index} is invalid: ${first.message}`, eventType);
    }
    return {
      outcome: { id: d.id, status: 'mapped', eventCount: checked.events.length, error: null, eventType },
      events: checked.events,
    };
  } catch (error) {
    return failedWith(d.id, (error as Error).message, eventType);
  }
};

/** Mapping is CPU work: between slices this long, acknowledgements get the event loop. */
const SLICE_MS = 8;

/** Maps a batch, handing the event loop back every `SLICE_MS`. */
const mapAll = async (
  deliveries: readonly StoredDelivery[],
  mappingOf: Partial<Record<ProviderName, unknown>> | undefined,
  tally: UnmappedTally,
): Promise<MappedDelivery[]> => {
  const out: MappedDelivery[] = [];
  let sliceStarted = performance.now();
  for (const d of deliveries) {
    out.push(mapDelivery(d, mappingOf, tally));
    if (performance.now() - sliceStarted > SLICE_MS) {
      await nextTurn();
      sliceStarted = performance.now();
    }
  }
  return out;
};

/**
 * Appends the events of a batch of mapped deliveries and returns how many
 * were stored. If the batch fails, each delivery's events are appended on
 * their own (appending is idempotent), so a delivery whose events the
 * database refuses is marked failed and does not hold back the others. The
 * database away or out of room fails the whole round instead: the deliveries
 * stay pending and are retried, none is marked failed.
 */
const appendMapped = async (ctx: ServiceContext, mapped: MappedDelivery[]): Promise<number> => {
  const events = mapped.flatMap((m) => m.events);
  let stored = 0;
  try {
    for (let i = 0; i < events.length; i += MAX_BATCH) {
      stored += (await appendEvents(ctx, events.slice(i, i + MAX_BATCH))).stored;
    }
    return stored;
  } catch (error) {
    if (classifyDatabaseError(error)) throw error;
    ctx.logger.warn({ err: error }, 'appending a batch of webhook events failed; appending delivery by delivery');
  }
  for (const [i, m] of mapped.entries()) {
    if (m.events.length === 0) continue;
    try {
      stored += (await appendEvents(ctx, m.events)).stored;
    } catch (error) {
      if (classifyDatabaseError(error)) throw error;
      ctx.logger.error({ err: error, delivery: m.outcome.id }, 'storing the events of a webhook delivery failed');
      mapped[i] = failedWith(
        m.outcome.id,
        `storing its events failed: ${(error as Error).message}`,
        m.outcome.eventType,
      );
    }
  }
  return stored;
};

/**
 * Sizes mapping batches. A batch holds the event loop for a while (SQLite's
 * driver is synchronous, mapping is CPU work), so while deliveries arrive the
 * next batch is what the last ones' cost per delivery fits into the block
 * target — a longer target while a backlog is worked off (the last batch came
 * back full), so mapping takes more of the loop as the backlog grows. With
 * nothing arriving, batches grow to the maximum. The size is only a ceiling:
 * a claim takes what is pending, so little pending makes small batches.
 */
export class BatchSizer {
  private msPerDelivery = 0;
  private lastFull = false;

  constructor(private readonly limits: { min: number; max: number; targetMs: number; backlogTargetMs: number }) {}

  /** The next batch's size. */
  next(receiving: boolean): number {
    const { min, max, targetMs, backlogTargetMs } = this.limits;
    if (!receiving) return max;
    if (this.msPerDelivery === 0) return min;
    const target = this.lastFull ? backlogTargetMs : targetMs;
    return Math.max(min, Math.min(max, Math.floor(target / this.msPerDelivery)));
  }

  /** What the last batch was: its size, how many it claimed, and how long it held the event loop at most. */
  record(asked: number, claimed: number, blockedMs: number): void {
    this.lastFull = claimed >= asked;
    if (claimed === 0) return;
    const cost = Math.max(blockedMs, 0.01) / claimed;
    // Smoothed, so that one slow batch (a checkpoint, a garbage collection) does not halve the next.
    this.msPerDelivery = this.msPerDelivery === 0 ? cost : 0.6 * this.msPerDelivery + 0.4 * cost;
  }
}

const BLOCK_RESOLUTION_MS = 2;

/** Creates the mapping loop of one intake (one claim holder). */
export const createDeliveryDrain = (ctx: ServiceContext, options: DrainOptions): DeliveryDrain => {
  const pollMs = options.pollMs ?? 5000;
  const leaseMs = options.leaseMs ?? 30_000;
  const holder = ctx.newId();
  const sizer = new BatchSizer({
    min: options.minBatch ?? 10,
    max: options.maxBatch ?? 1000,
    targetMs: options.blockTargetMs ?? 40,
    backlogTargetMs: options.backlogBlockTargetMs ?? 80,
  });
  const failures = createRoundFailures(ctx, 'mapping webhook deliveries', {
    intervalMs: (options.retryMs ?? 1000) / 2,
    maxDelayMs: options.maxRetryMs ?? 30_000,
  });
  let loopDelay: ReturnType<typeof monitorEventLoopDelay> | undefined;
  let running: Promise<DrainResult> | null = null;
  let again = false;
  let closed = false;
  let backingOff = false;
  let timer: NodeJS.Timeout | null = null;

  /** Claims, maps, appends and marks one batch; null when nothing was left to claim. */
  const runBatch = async (size: number): Promise<DrainResult | null> => {
    const now = ctx.clock();
    const claimed = await claimPendingDeliveries(ctx.database, size, {
      now: now.toISOString(),
      until: new Date(now.getTime() + leaseMs).toISOString(),
      by: holder,
    });
    if (claimed.length === 0) return null;
    try {
      const tally = new UnmappedTally();
      const mapped = await mapAll(claimed, ctx.charter()?.charter.connectors, tally);
      const events = await appendMapped(ctx, mapped);
      const outcomes = mapped.map((m) => m.outcome);
      const at = ctx.clock().toISOString();
      await bumpUnmapped(ctx.database, tally.entries(), at);
      await markDeliveries(ctx.database, outcomes, at);
      const result: DrainResult = { ...emptyResult(), deliveries: claimed.length, events };
      for (const o of outcomes) result[o.status] += 1;
      return result;
    } catch (error) {
      // Let any instance take them at once; if even that fails, this holder takes them back first, or the lease ends.
      await releaseDeliveryClaims(
        ctx.database,
        claimed.map((d) => d.id),
        holder,
      ).catch(() => undefined);
      throw error;
    }
  };

  /** Batches until nothing is left to claim (or close() is called), yielding to acknowledgements between them. */
  const runRounds = async (): Promise<DrainResult> => {
    const total = emptyResult();
    loopDelay ??= monitorEventLoopDelay({ resolution: BLOCK_RESOLUTION_MS });
    loopDelay.enable();
    try {
      do {
        again = false;
        for (;;) {
          await nextTurn();
          await options.beforeBatch?.();
          if (closed) return total;
          const size = sizer.next(options.receiving());
          loopDelay.reset();
          const started = performance.now();
          const r = await runBatch(size);
          const wall = performance.now() - started;
          // The histogram's timer records a stretch that held the loop once it fires: give it that turn. On SQLite
          // the whole batch is one stretch; on PostgreSQL the longest one between the queries' waits.
          await nextTurn();
          sizer.record(size, r?.deliveries ?? 0, Math.min(wall, loopDelay.max / 1e6));
          if (!r) break;
          addResult(total, r);
          if (r.deliveries < size) break;
        }
      } while (again && !closed);
      return total;
    } finally {
      loopDelay.disable();
    }
  };

  const schedule = (ms: number): void => {
    if (!options.auto || closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      backingOff = false;
      void drain().catch(() => undefined);
    }, ms);
    // The poll never keeps a process alive by itself.
    timer.unref();
  };

  const drain = (): Promise<DrainResult> => {
    if (running) {
      again = true;
      return running;
    }
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    const round = runRounds();
    running = round;
    round.then(
      () => {
        running = null;
        failures.succeeded();
        schedule(pollMs);
      },
      (error: unknown) => {
        running = null;
        // Logged once per burst (the database's health for an outage or a full disk); retried with backoff.
        const wait = failures.failed(error);
        backingOff = true;
        schedule(wait);
      },
    );
    return round;
  };

  const kick = (): void => {
    if (!options.auto || closed || backingOff) return;
    if (running) again = true;
    else schedule(0);
  };

  const close = async (): Promise<void> => {
    closed = true;
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (running) await running.catch(() => undefined);
  };

  // Deliveries stored before this process started, or by another instance: found by the first poll.
  schedule(0);
  return { kick, drain, close };
};
