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
  /** Where queries hold the event loop (SQLite): how long a batch may, while deliveries arrive (default 30 ms) … */
  blockTargetMs?: number;
  /** … and while a backlog is being worked off (default 60 ms) … */
  backlogBlockTargetMs?: number;
  /** … and with nothing arriving (default 200 ms). */
  idleBlockTargetMs?: number;
  /** How long a claim lasts before another instance may take the deliveries (default 30 s). */
  leaseMs?: number;
  /** Whether deliveries are arriving now: batches then keep to the block target. */
  receiving: () => boolean;
  /** Awaited before each batch: acknowledgements waiting to be stored go first. */
  beforeBatch?: () => Promise<void>;
}

export interface DeliveryDrain {
  /** Deliveries were stored: map them soon (when `auto`; while backing off after a failure, retry within a second). */
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

/** What a `BatchSizer` keeps to: batch sizes, and how long a batch may hold the event loop in each case. */
export interface BatchLimits {
  min: number;
  max: number;
  /** While deliveries arrive and little is pending. */
  targetMs: number;
  /** While deliveries arrive and a backlog is worked off (the last batch came back full). */
  backlogTargetMs: number;
  /** With nothing arriving: other requests (the API, health checks, a SIGTERM) still get the loop. */
  idleTargetMs: number;
}

/**
 * Sizes mapping batches. The size is only a ceiling: a claim takes what is
 * pending, so little pending makes small batches.
 *
 * Where the database driver is synchronous (SQLite), a batch holds the event
 * loop from its first query to its last, so the next batch is what the last
 * ones' cost per delivery fits into a block target: short while deliveries
 * arrive, so acknowledgements keep their latency; longer while a backlog is
 * worked off, so mapping takes more of the loop as the backlog grows; longest
 * with nothing arriving. Where it is not (PostgreSQL), acknowledgements run
 * during every query a batch waits for and its own stretches are short (about
 * 45 ms for 1,000 deliveries on a busy two-core machine), while the longest
 * stretches seen during a batch are mostly the acknowledgements' own; the size
 * then follows the backlog alone: doubling while batches come back full.
 */
export class BatchSizer {
  private msPerDelivery = 0;
  private lastAsked = 0;
  private lastClaimed = 0;

  constructor(
    private readonly limits: BatchLimits,
    private readonly holdsLoop = true,
  ) {}

  /** The next batch's size. */
  next(receiving: boolean): number {
    const { min, max, targetMs, backlogTargetMs, idleTargetMs } = this.limits;
    const full = this.lastAsked > 0 && this.lastClaimed >= this.lastAsked;
    if (!this.holdsLoop) {
      return Math.max(min, Math.min(max, full ? 2 * this.lastAsked : 2 * this.lastClaimed));
    }
    // Nothing measured yet: a small batch to learn from.
    if (this.msPerDelivery === 0) return receiving ? min : Math.min(max, 10 * min);
    const target = !receiving ? idleTargetMs : full ? backlogTargetMs : targetMs;
    return Math.max(min, Math.min(max, Math.floor(target / this.msPerDelivery)));
  }

  /** What the last batch was: its size, how many it claimed, and how long it held the event loop at most. */
  record(asked: number, claimed: number, blockedMs: number): void {
    this.lastAsked = asked;
    this.lastClaimed = claimed;
    if (claimed === 0) return;
    const cost = Math.max(blockedMs, 0.01) / claimed;
    // Smoothed, so that one slow batch (a checkpoint, a garbage collection) does not halve the next.
    this.msPerDelivery = this.msPerDelivery === 0 ? cost : 0.6 * this.msPerDelivery + 0.4 * cost;
  }
}

/**
 * The longest stretch the event loop was held between `start()` and `read()`,
 * as the gaps between the ticks of a 1 ms interval timer show it. (Node's
 * `monitorEventLoopDelay` drops the first interval after a reset, which is the
 * one a batch right after the reset holds up.)
 */
const createBlockMeter = () => {
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  let longest = 0;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  };
  return {
    start: () => {
      last = performance.now();
      longest = 0;
      if (!timer) {
        timer = setInterval(tick, 1);
        timer.unref();
      }
    },
    /** After a turn of the timers, so that a stretch that just ended is counted. */
    read: async (): Promise<number> => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      tick();
      return longest;
    },
    stop: () => {
      clearInterval(timer);
      timer = undefined;
    },
  };
};

/** Who claims, and for how long. */
interface Claimant {
  holder: string;
  leaseMs: number;
}

/** Claims, maps, appends and marks one batch; null when nothing was left to claim. */
const runBatch = async (ctx: ServiceContext, size: number, claimant: Claimant): Promise<DrainResult | null> => {
  const now = ctx.clock();
  const claimed = await claimPendingDeliveries(ctx.database, size, {
    now: now.toISOString(),
    until: new Date(now.getTime() + claimant.leaseMs).toISOString(),
    by: claimant.holder,
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
      claimant.holder,
    ).catch(() => undefined);
    throw error;
  }
};

/** What a round and its scheduler share: more was asked for meanwhile; the drain is closing. */
interface RoundState {
  again: boolean;
  closed: boolean;
}

/**
 * A round: batches until nothing is left to claim (or the drain closes),
 * yielding to acknowledgements before each and sizing each from the last.
 */
const createRound = (
  ctx: ServiceContext,
  options: DrainOptions,
  claimant: Claimant,
  state: RoundState,
): (() => Promise<DrainResult>) => {
  // better-sqlite3 runs every query synchronously on the event loop.
  const holdsLoop = ctx.database.engine === 'sqlite';
  const sizer = new BatchSizer(
    {
      min: options.minBatch ?? 10,
      max: options.maxBatch ?? 1000,
      targetMs: options.blockTargetMs ?? 30,
      backlogTargetMs: options.backlogBlockTargetMs ?? 60,
      idleTargetMs: options.idleBlockTargetMs ?? 200,
    },
    holdsLoop,
  );
  const meter = createBlockMeter();
  return async () => {
    const total = emptyResult();
    try {
      do {
        state.again = false;
        for (;;) {
          await nextTurn();
          await options.beforeBatch?.();
          if (state.closed) return total;
          const size = sizer.next(options.receiving());
          if (holdsLoop) meter.start();
          const r = await runBatch(ctx, size, claimant);
          // The whole batch is one stretch, but for the yields of the mapping between slices.
          const blocked = holdsLoop ? await meter.read() : 0;
          sizer.record(size, r?.deliveries ?? 0, blocked);
          if (!r) break;
          addResult(total, r);
          if (r.deliveries < size) break;
        }
      } while (state.again && !state.closed);
      return total;
    } finally {
      meter.stop();
    }
  };
};

/** While backing off, a stored delivery brings the retry this close. */
const KICKED_RETRY_MS = 1000;

/** Creates the mapping loop of one intake (one claim holder): its rounds, the poll and the retries. */
export const createDeliveryDrain = (ctx: ServiceContext, options: DrainOptions): DeliveryDrain => {
  const pollMs = options.pollMs ?? 5000;
  const state: RoundState = { again: false, closed: false };
  const runRound = createRound(ctx, options, { holder: ctx.newId(), leaseMs: options.leaseMs ?? 30_000 }, state);
  const failures = createRoundFailures(ctx, 'mapping webhook deliveries', {
    intervalMs: (options.retryMs ?? 1000) / 2,
    maxDelayMs: options.maxRetryMs ?? 30_000,
  });
  let running: Promise<DrainResult> | null = null;
  /** While backing off after a failed round: when the retry is due. */
  let retryAt: number | null = null;
  let timer: NodeJS.Timeout | null = null;

  const schedule = (ms: number): void => {
    if (!options.auto || state.closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void drain().catch(() => undefined);
    }, ms);
    // The poll never keeps a process alive by itself.
    timer.unref();
  };

  const drain = (): Promise<DrainResult> => {
    if (running) {
      state.again = true;
      return running;
    }
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    const round = runRound();
    running = round;
    round.then(
      () => {
        running = null;
        retryAt = null;
        failures.succeeded();
        schedule(pollMs);
      },
      (error: unknown) => {
        running = null;
        // Logged once per burst (the database's health for an outage or a full disk); retried with backoff.
        const wait = failures.failed(error);
        retryAt = Date.now() + wait;
        schedule(wait);
      },
    );
    return round;
  };

  const kick = (): void => {
    if (!options.auto || state.closed) return;
    if (running) state.again = true;
    // A delivery just stored: the database takes writes again, so a far-off retry comes sooner, but at most once a
    // second while rounds keep failing.
    else if (retryAt === null) schedule(0);
    else if (retryAt - Date.now() > KICKED_RETRY_MS) {
      retryAt = Date.now() + KICKED_RETRY_MS;
      schedule(KICKED_RETRY_MS);
    }
  };

  const close = async (): Promise<void> => {
    state.closed = true;
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
