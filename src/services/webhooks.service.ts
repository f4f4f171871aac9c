import type {
  DeliveryDescription,
  MapContext,
  WebhookHeaders,
  WebhookProvider,
} from '../connectors/connector.types.js';
import { WEBHOOK_PROVIDERS, type ProviderName } from '../connectors/registry.js';
import { AppError } from '../domain/errors.js';
import { validateEventBatch, type EventInput } from '../domain/event.js';
import type { SecretName, Secrets } from '../config.js';
import {
  bumpUnmapped,
  deliveryRowId,
  insertDeliveries,
  listPendingDeliveries,
  markDeliveries,
  storableText,
  type DeliveryOutcome,
  type NewDelivery,
  type StoredDelivery,
} from '../store/connector.repository.js';
import { classifyDatabaseError } from '../store/database.errors.js';
import type { ServiceContext } from './context.js';
import { appendEvents, MAX_BATCH } from './events.service.js';
import { UnmappedTally } from './unmapped.js';

/**
 * Webhook intake (issue 4). A delivery is verified over its raw bytes, parsed,
 * and stored raw; only then is it acknowledged. Deliveries that arrive within
 * the same few milliseconds are written in one transaction (group commit), so
 * durability costs one commit per burst rather than per delivery. Mapping into
 * events happens after the acknowledgement, in batches; because events are
 * idempotent on (source, source event id), mapping the same delivery twice
 * (a crash before it was marked, two instances draining at once) stores nothing twice.
 */
export interface WebhookReceipt {
  deliveryId: string;
  eventType: string;
  /** False when this delivery id was stored before: acknowledged, not stored again. */
  stored: boolean;
}

export interface DrainResult {
  deliveries: number;
  mapped: number;
  unknown: number;
  failed: number;
  events: number;
}

export interface WebhookIntake {
  /**
   * What can be refused before the body is read: a provider whose secret is
   * not configured (`LANES_CONNECTOR_NOT_CONFIGURED`) or a request without the
   * provider's signature header (`LANES_WEBHOOK_SIGNATURE`). Throws; `receive`
   * checks the same.
   */
  precheck(provider: ProviderName, headers: WebhookHeaders): void;
  receive(provider: ProviderName, rawBody: Buffer, headers: WebhookHeaders): Promise<WebhookReceipt>;
  /** Maps every pending delivery; resolves when none is left. */
  drain(): Promise<DrainResult>;
  /** Waits for the writes and the mapping in flight. */
  close(): Promise<void>;
}

/** Mapping waits for this long without a new delivery before it takes the event loop. */
const QUIET_MS = 50;
/** ... but never longer than this. */
const MAX_DEFER_MS = 1000;
/** Deliveries mapped at a time while deliveries are still arriving. */
const BURST_BATCH = 20;

const SECRET_OF: Record<ProviderName, SecretName> = {
  github: 'LANES_GITHUB_WEBHOOK_SECRET',
  jira: 'LANES_JIRA_WEBHOOK_SECRET',
  linear: 'LANES_LINEAR_WEBHOOK_SECRET',
};

/** The header each provider signs its deliveries in. */
const SIGNATURE_HEADER: Record<ProviderName, string> = {
  github: 'x-hub-signature-256',
  jira: 'x-hub-signature',
  linear: 'linear-signature',
};

/** Providers whose webhook secret is configured; the others answer 404. */
export const activeWebhookProviders = (secrets: Readonly<Secrets>): ProviderName[] =>
  (Object.keys(SECRET_OF) as ProviderName[]).filter((p) => Boolean(secrets[SECRET_OF[p]]));

interface Pending {
  delivery: NewDelivery;
  resolve: (stored: boolean) => void;
  reject: (error: unknown) => void;
}

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

/**
 * Appends the events of a batch of mapped deliveries and returns how many
 * were stored. If the batch fails, each delivery's events are appended on
 * their own (appending is idempotent), so a delivery whose events the
 * database refuses is marked failed and does not hold back the others.
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
    ctx.logger.warn({ err: error }, 'appending a batch of webhook events failed; appending delivery by delivery');
  }
  for (const [i, m] of mapped.entries()) {
    if (m.events.length === 0) continue;
    try {
      stored += (await appendEvents(ctx, m.events)).stored;
    } catch (error) {
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

export const createWebhookIntake = (
  ctx: ServiceContext,
  secrets: Readonly<Secrets>,
  options: { drainBatch?: number; autoDrain?: boolean } = {},
): WebhookIntake => {
  const drainBatch = options.drainBatch ?? 500;
  const autoDrain = options.autoDrain ?? true;
  let queue: Pending[] = [];
  let flushing: Promise<void> | null = null;
  let draining: Promise<DrainResult> | null = null;
  let drainAgain = false;
  let lastReceiveAt = 0;

  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const fresh = await insertDeliveries(
          ctx.database,
          batch.map((p) => p.delivery),
        );
        const claimed = new Set<string>();
        for (const p of batch) {
          const id = deliveryRowId(p.delivery.provider, p.delivery.deliveryId);
          // Two copies in one burst: the first is the stored one.
          const isNew = fresh.has(id) && !claimed.has(id);
          claimed.add(id);
          p.resolve(isNew);
        }
      } catch (error) {
        // The database away or out of room refuses every one of them: no use trying them one by one.
        if (batch.length === 1 || classifyDatabaseError(error)) for (const p of batch) refuse(p, error);
        else await storeOneByOne(batch);
      }
    }
  };

  /** The batch's transaction failed: one delivery's write must not cost the others theirs. */
  const storeOneByOne = async (batch: readonly Pending[]): Promise<void> => {
    for (const p of batch) {
      try {
        const fresh = await insertDeliveries(ctx.database, [p.delivery]);
        p.resolve(fresh.has(deliveryRowId(p.delivery.provider, p.delivery.deliveryId)));
      } catch (error) {
        refuse(p, error);
      }
    }
  };

  const refuse = (p: Pending, error: unknown): void => {
    const { provider, deliveryId } = p.delivery;
    // The database away or out of room: its own code (503/507 with Retry-After), logged once per burst.
    const trouble = ctx.database.health.recognise(error, ctx.logger);
    if (trouble) return p.reject(trouble);
    ctx.logger.error({ err: error, provider, deliveryId }, 'storing a webhook delivery failed');
    p.reject(
      new AppError(
        'LANES_WEBHOOK_NOT_STORED',
        `the ${provider} delivery ${deliveryId} could not be stored; redeliver it`,
      ),
    );
  };

  const scheduleFlush = (): void => {
    if (flushing) return;
    flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(flush).finally(() => {
      flushing = null;
      if (queue.length > 0) scheduleFlush();
    });
  };

  const store = (delivery: NewDelivery): Promise<boolean> =>
    new Promise<boolean>((resolve, reject) => {
      queue.push({ delivery, resolve, reject });
      scheduleFlush();
    });

  /**
   * Acknowledging comes first. While deliveries keep arriving, mapping waits
   * for a quiet moment (but never more than `maxDeferMs`, so it still advances
   * under a sustained burst) and then maps a small batch, so the event loop is
   * never held long enough to delay an acknowledgement. Returns the batch size.
   */
  const yieldToReceives = async (): Promise<number> => {
    if (!autoDrain) return drainBatch;
    const started = Date.now();
    while (Date.now() - lastReceiveAt < QUIET_MS && Date.now() - started < MAX_DEFER_MS) {
      await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    }
    await new Promise((resolve) => setImmediate(resolve));
    return Date.now() - lastReceiveAt < 5 * QUIET_MS ? BURST_BATCH : drainBatch;
  };

  const drainOnce = async (): Promise<DrainResult> => {
    const total: DrainResult = { deliveries: 0, mapped: 0, unknown: 0, failed: 0, events: 0 };
    const mappingOf = ctx.charter()?.charter.connectors;
    for (;;) {
      const size = await yieldToReceives();
      const pending = await listPendingDeliveries(ctx.database, size);
      if (pending.length === 0) return total;
      const tally = new UnmappedTally();
      const mapped = pending.map((d) => mapDelivery(d, mappingOf, tally));
      total.events += await appendMapped(ctx, mapped);
      const outcomes = mapped.map((m) => m.outcome);
      const now = ctx.clock().toISOString();
      await bumpUnmapped(ctx.database, tally.entries(), now);
      await markDeliveries(ctx.database, outcomes, now);
      total.deliveries += pending.length;
      for (const o of outcomes) total[o.status] += 1;
      if (pending.length < size) return total;
    }
  };

  const drain = (): Promise<DrainResult> => {
    if (draining) {
      drainAgain = true;
      return draining;
    }
    draining = (async () => {
      const total: DrainResult = { deliveries: 0, mapped: 0, unknown: 0, failed: 0, events: 0 };
      do {
        drainAgain = false;
        const r = await drainOnce();
        for (const k of Object.keys(total) as (keyof DrainResult)[]) total[k] += r[k];
      } while (drainAgain);
      return total;
    })().finally(() => {
      draining = null;
    });
    return draining;
  };

  let drainTimer: NodeJS.Timeout | null = null;
  const scheduleDrain = (): void => {
    if (!autoDrain || drainTimer) return;
    drainTimer = setTimeout(() => {
      drainTimer = null;
      drain().catch((error: unknown) => ctx.logger.error({ err: error }, 'mapping webhook deliveries failed'));
    }, 20);
  };

  const precheck = (providerName: ProviderName, headers: WebhookHeaders): string => {
    const secret = secrets[SECRET_OF[providerName]];
    if (!secret) {
      throw new AppError(
        'LANES_CONNECTOR_NOT_CONFIGURED',
        `the ${providerName} webhook is not configured: set ${WEBHOOK_PROVIDERS[providerName].secretName}`,
      );
    }
    const header = SIGNATURE_HEADER[providerName];
    if (!headers[header]) throw new AppError('LANES_WEBHOOK_SIGNATURE', `the ${header} header is missing`);
    return secret;
  };

  const receive = async (
    providerName: ProviderName,
    rawBody: Buffer,
    headers: WebhookHeaders,
  ): Promise<WebhookReceipt> => {
    const secret = precheck(providerName, headers);
    const provider = WEBHOOK_PROVIDERS[providerName] as WebhookProvider<unknown>;
    await provider.verify(secret, rawBody, headers);
    let description: DeliveryDescription;
    if (provider.describeFromHeaders) {
      description = provider.describeFromHeaders(rawBody, headers, ctx.clock());
    } else {
      let payload: unknown;
      try {
        payload = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw new AppError('LANES_BODY_MALFORMED', 'the webhook body is not valid JSON');
      }
      description = provider.describe(payload, rawBody, headers, ctx.clock());
    }
    const { deliveryId, eventType } = description;
    lastReceiveAt = Date.now();
    const stored = await store({
      provider: providerName,
      deliveryId: storableText(deliveryId.slice(0, 200)),
      eventType: eventType.slice(0, 200),
      receivedAt: ctx.clock().toISOString(),
      body: rawBody,
    });
    if (stored) scheduleDrain();
    return { deliveryId, eventType, stored };
  };

  const close = async (): Promise<void> => {
    if (drainTimer) {
      clearTimeout(drainTimer);
      drainTimer = null;
    }
    while (flushing) await flushing;
    if (draining) await draining.catch(() => undefined);
  };

  return {
    precheck: (provider, headers) => void precheck(provider, headers),
    receive,
    drain,
    close,
  };
};
