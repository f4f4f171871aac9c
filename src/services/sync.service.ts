import type { MapContext, SyncHttp, SyncPlan } from '../connectors/connector.types.js';
import { AppError } from '../domain/errors.js';
import { validateEventBatch, type EventInput } from '../domain/event.js';
import {
  bumpUnmapped,
  getCheckpoint,
  getEtags,
  saveCheckpoint,
  saveEtags,
  type Checkpoint,
} from '../store/connector.repository.js';
import type { ServiceContext } from './context.js';
import { appendEvents, MAX_BATCH } from './events.service.js';
import { UnmappedTally } from './unmapped.js';

/**
 * Runs a backfill plan (issue 4): every stream of a GitHub repository, a Jira
 * project or a Linear team, page by page. After each page its events are
 * appended (idempotently) and only then is the stream's resume point saved, so
 * a sync killed at any moment, even with SIGKILL, continues where it stopped
 * and ends with every event exactly once. A stream that completed remembers
 * when its run started; the next run asks only for what changed since.
 */
/** Events gathered from consecutive pages before they are stored in one go. */
const STORE_EVERY = 5000;
/** ... or this long after the last store, so progress and the resume point keep moving on slow APIs. */
const STORE_AFTER_MS = 1000;

export interface SyncProgress {
  streamStarted(stream: string, unit: string, resumed: boolean): void;
  pageStored(
    stream: string,
    progress: { units: number; total: number | undefined; events: number; stored: number },
  ): void;
  streamFinished(stream: string, summary: StreamSummary): void;
  waiting(reason: string, ms: number): void;
}

export interface StreamSummary {
  stream: string;
  units: number;
  events: number;
  stored: number;
  duplicates: number;
  /** Events a mapping produced that failed validation: left out and counted as unmapped `invalid_event`. */
  invalid: number;
  resumed: boolean;
  completed: boolean;
}

export interface SyncResult {
  source: string;
  scope: string;
  streams: StreamSummary[];
  /** True when a stop was asked for (Ctrl-C) and the run ended early, resumable. */
  interrupted: boolean;
}

export interface SyncOptions<M> {
  plan: SyncPlan<M>;
  http: SyncHttp;
  mapping: M | undefined;
  /** Start from this instant instead of the last completed run (ISO); `null` forces a full backfill. */
  since?: string | null | undefined;
  /** Only these streams. */
  streams?: readonly string[] | undefined;
  progress?: SyncProgress | undefined;
  signal?: AbortSignal | undefined;
}

const validOnly = (events: readonly EventInput[]): EventInput[] =>
  events.flatMap((e) => {
    const one = validateEventBatch([e]);
    return one.ok ? one.events : [];
  });

export const runSync = async <M>(ctx: ServiceContext, options: SyncOptions<M>): Promise<SyncResult> => {
  const { plan, http } = options;
  const streams = options.streams ? plan.streams.filter((s) => options.streams!.includes(s.name)) : plan.streams;
  if (options.streams && streams.length === 0) {
    throw new AppError(
      'LANES_VALIDATION',
      `no stream named ${options.streams.join(', ')}; streams: ${plan.streams.map((s) => s.name).join(', ')}`,
    );
  }
  const result: SyncResult = { source: plan.source, scope: plan.scope, streams: [], interrupted: false };
  const etags = await getEtags(ctx.database, '');

  for (const stream of streams) {
    const now = ctx.clock().toISOString();
    const previous = await getCheckpoint(ctx.database, plan.source, plan.scope, stream.name);
    const resumed = Boolean(previous && previous.cursor !== null && previous.completedAt === null);
    const checkpoint: Checkpoint = resumed
      ? { ...previous!, updatedAt: now, lastError: null }
      : {
          source: plan.source,
          scope: plan.scope,
          stream: stream.name,
          cursor: null,
          since: options.since === undefined ? (previous?.lastSuccessStartedAt ?? null) : options.since,
          runStartedAt: now,
          updatedAt: now,
          completedAt: null,
          lastSuccessStartedAt: previous?.lastSuccessStartedAt ?? null,
          units: 0,
          eventCount: 0,
          lastError: null,
        };
    await saveCheckpoint(ctx.database, checkpoint);
    options.progress?.streamStarted(stream.name, stream.unit, resumed);

    const summary: StreamSummary = {
      stream: stream.name,
      units: 0,
      events: 0,
      stored: 0,
      duplicates: 0,
      invalid: 0,
      resumed,
      completed: false,
    };
    const tally = new UnmappedTally();
    const mapCtx: MapContext<M> = { mapping: options.mapping, unmapped: tally.sink(plan.source) };
    try {
      const pages = stream.pages({
        http,
        cursor: checkpoint.cursor,
        since: checkpoint.since,
        etag: (url) => etags.get(url),
        ctx: mapCtx,
      });
      // Pages are stored together once they hold STORE_EVERY events or a second has passed: one transaction
      // per few thousand events instead of per page. The resume point moves only with what is stored.
      let buffer: EventInput[] = [];
      let pending = {
        units: 0,
        etags: {} as Record<string, string>,
        cursor: checkpoint.cursor,
        total: undefined as number | undefined,
      };
      let lastStore = Date.now();
      const store = async (): Promise<void> => {
        let stored = 0;
        for (let i = 0; i < buffer.length; i += MAX_BATCH) {
          stored += (await appendEvents(ctx, buffer.slice(i, i + MAX_BATCH))).stored;
        }
        const at = ctx.clock().toISOString();
        if (Object.keys(pending.etags).length > 0) {
          await saveEtags(ctx.database, pending.etags, at);
          for (const [url, etag] of Object.entries(pending.etags)) etags.set(url, etag);
        }
        await bumpUnmapped(ctx.database, tally.entries(), at);
        tally.clear();
        checkpoint.cursor = pending.cursor;
        checkpoint.units += pending.units;
        checkpoint.eventCount += stored;
        checkpoint.updatedAt = at;
        await saveCheckpoint(ctx.database, checkpoint);

        summary.units += pending.units;
        summary.events += buffer.length;
        summary.stored += stored;
        summary.duplicates += buffer.length - stored;
        options.progress?.pageStored(stream.name, {
          units: checkpoint.units,
          total: pending.total,
          events: summary.events,
          stored: summary.stored,
        });
        buffer = [];
        pending = { units: 0, etags: {}, cursor: pending.cursor, total: pending.total };
        lastStore = Date.now();
      };
      try {
        for await (const page of pages) {
          // An event the mapping got wrong must not stop the sync for good: it is left out, counted, and
          // reported with the stream; everything else on the page is stored.
          const checked = validateEventBatch(page.events);
          const valid = checked.ok ? checked.events : validOnly(page.events);
          if (!checked.ok) {
            for (const r of checked.rejections) tally.add(plan.source, 'invalid_event', `${r.code}: ${r.message}`);
            summary.invalid += checked.rejections.length;
            checkpoint.lastError = `${checked.rejections.length} event(s) left out as invalid, e.g. ${checked.rejections[0]!.message}`;
          }
          for (const e of valid) buffer.push(e);
          pending.units += page.units;
          pending.cursor = page.cursor;
          pending.total = page.total ?? pending.total;
          Object.assign(pending.etags, page.etags ?? {});
          const stopping = Boolean(options.signal?.aborted) && page.cursor !== null;
          if (stopping || buffer.length >= STORE_EVERY || Date.now() - lastStore >= STORE_AFTER_MS) await store();
          if (stopping) {
            result.interrupted = true;
            break;
          }
        }
      } catch (error) {
        // What was fetched and mapped before the failure is kept; the run resumes after it.
        if (buffer.length > 0 || pending.units > 0) await store();
        throw error;
      }
      if (buffer.length > 0 || pending.units > 0 || pending.cursor !== checkpoint.cursor) await store();
    } catch (error) {
      checkpoint.lastError = (error as Error).message.slice(0, 1000);
      checkpoint.updatedAt = ctx.clock().toISOString();
      await saveCheckpoint(ctx.database, checkpoint);
      throw error;
    }
    if (result.interrupted) {
      result.streams.push(summary);
      options.progress?.streamFinished(stream.name, summary);
      return result;
    }
    const done = ctx.clock().toISOString();
    checkpoint.cursor = null;
    checkpoint.completedAt = done;
    checkpoint.updatedAt = done;
    checkpoint.lastSuccessStartedAt = checkpoint.runStartedAt;
    await saveCheckpoint(ctx.database, checkpoint);
    summary.completed = true;
    result.streams.push(summary);
    options.progress?.streamFinished(stream.name, summary);
    if (options.signal?.aborted) {
      result.interrupted = streams.indexOf(stream) < streams.length - 1;
      return result;
    }
  }
  return result;
};
