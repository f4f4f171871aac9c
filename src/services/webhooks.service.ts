import type { DeliveryDescription, WebhookHeaders, WebhookProvider } from '../connectors/connector.types.js';
import { WEBHOOK_PROVIDERS, type ProviderName } from '../connectors/registry.js';
import { AppError } from '../domain/errors.js';
import type { SecretName, Secrets } from '../config.js';
import {
  deliveryRowId,
  insertDeliveries,
  storableText,
  type DeliveryDurability,
  type NewDelivery,
} from '../store/connector.repository.js';
import { classifyDatabaseError } from '../store/database.errors.js';
import type { ServiceContext } from './context.js';
import { createDeliveryDrain, type DrainOptions, type DrainResult } from './webhook.drain.js';

export type { DrainResult } from './webhook.drain.js';

/**
 * Webhook intake (issue 4). A delivery is verified over its raw bytes, parsed,
 * and stored raw; only then is it acknowledged. Deliveries that arrive within
 * the same few milliseconds are written in one transaction (group commit), so
 * durability costs one commit per burst rather than per delivery; that commit
 * survives a power loss (`insertDeliveries`, issue 14). Mapping into events
 * happens after the acknowledgement, continuously and in batches sized to the
 * backlog (`webhook.drain.ts`); because events are idempotent on (source,
 * source event id), mapping the same delivery twice (a crash before it was
 * marked, a lease that ran out) stores nothing twice.
 */
export interface WebhookReceipt {
  deliveryId: string;
  eventType: string;
  /** False when this delivery id was stored before: acknowledged, not stored again. */
  stored: boolean;
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
  /** Maps every pending delivery it can claim; resolves when none is left. */
  drain(): Promise<DrainResult>;
  /**
   * Waits for the writes in flight, then stops mapping after the batch in
   * flight: a stop takes one batch, whatever the backlog; what is left stays
   * pending for the next start or another instance.
   */
  close(): Promise<void>;
}

export interface IntakeOptions extends Partial<Omit<DrainOptions, 'auto' | 'receiving' | 'beforeBatch'>> {
  /** Map on its own (default): soon after deliveries are stored, on a timer, and again after failures. */
  autoDrain?: boolean;
  /** How the delivery store commits (default `full`: survives a power loss); `process` only for measuring. */
  durability?: DeliveryDurability;
}

/** Deliveries count as arriving for this long after the last one: mapping keeps its batches short meanwhile. */
const RECEIVING_MS = 1000;

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

/** The group commit: deliveries queued in the same turn of the event loop are stored in one transaction. */
interface DeliveryStore {
  /** Resolves true when stored, false when this delivery id was stored before; rejects with the answer to give. */
  store(delivery: NewDelivery): Promise<boolean>;
  /** Waits for the writes queued or in flight. */
  settled(): Promise<void>;
}

const createDeliveryStore = (ctx: ServiceContext, durability: DeliveryDurability): DeliveryStore => {
  let queue: Pending[] = [];
  let flushing: Promise<void> | null = null;

  const flush = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const fresh = await insertDeliveries(
          ctx.database,
          batch.map((p) => p.delivery),
          durability,
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
        const fresh = await insertDeliveries(ctx.database, [p.delivery], durability);
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

  return {
    store: (delivery) =>
      new Promise<boolean>((resolve, reject) => {
        queue.push({ delivery, resolve, reject });
        scheduleFlush();
      }),
    settled: async () => {
      while (flushing) await flushing;
    },
  };
};

/** Creates the intake: `receive` stores and acknowledges, and (unless `autoDrain` is false) mapping runs by itself. */
export const createWebhookIntake = (
  ctx: ServiceContext,
  secrets: Readonly<Secrets>,
  options: IntakeOptions = {},
): WebhookIntake => {
  const { autoDrain = true, durability = 'full', ...drainOptions } = options;
  const deliveries = createDeliveryStore(ctx, durability);
  let lastReceiveAt = 0;
  /** Deliveries being received: verified, stored and answered. */
  const answering = new Set<Promise<WebhookReceipt>>();

  const mapping = createDeliveryDrain(ctx, {
    ...drainOptions,
    auto: autoDrain,
    receiving: () => Date.now() - lastReceiveAt < RECEIVING_MS,
    // Acknowledging comes first: a batch starts once the deliveries being received when it was due are answered
    // (verified, stored, committed), so each waits for one batch at most, however many turns of the loop it takes.
    beforeBatch: async () => {
      if (answering.size > 0) await Promise.allSettled([...answering]);
      await deliveries.settled();
    },
  });

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

  const receiveOne = async (
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
    const stored = await deliveries.store({
      provider: providerName,
      deliveryId: storableText(deliveryId.slice(0, 200)),
      eventType: eventType.slice(0, 200),
      receivedAt: ctx.clock().toISOString(),
      body: rawBody,
    });
    if (stored) mapping.kick();
    return { deliveryId, eventType, stored };
  };

  const receive = (providerName: ProviderName, rawBody: Buffer, headers: WebhookHeaders): Promise<WebhookReceipt> => {
    const receipt = receiveOne(providerName, rawBody, headers);
    answering.add(receipt);
    receipt.then(
      () => answering.delete(receipt),
      () => answering.delete(receipt),
    );
    return receipt;
  };

  const close = async (): Promise<void> => {
    await deliveries.settled();
    await mapping.close();
  };

  return {
    precheck: (provider, headers) => void precheck(provider, headers),
    receive,
    drain: mapping.drain,
    close,
  };
};
