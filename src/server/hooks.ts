import { z } from 'zod';
import { errorBodySchema } from '../api/items.contract.js';
import { AppError } from '../domain/errors.js';
import { isProviderName } from '../connectors/registry.js';
import type { WebhookIntake } from '../services/webhooks.service.js';
import { createBodyBudget, type BodyBudget } from './body.budget.js';
import { defineRoute, type RouteSpec } from './route.js';

const receiptSchema = z.object({
  received: z.literal(true),
  deliveryId: z.string(),
  eventType: z.string(),
  duplicate: z.boolean(),
});

/**
 * `POST /hooks/:provider` (github, jira, linear). The body is kept as raw bytes
 * because the signature is computed over them; it is parsed only after the
 * signature checks out. The answer (202) is sent once the delivery is durably
 * stored; mapping it into events happens afterwards. Anonymous by design: the
 * provider's signature is the credential.
 *
 * Before the body is read, a request for an unknown or unconfigured provider,
 * or without its provider's signature header, is refused, and the bytes of
 * bodies being read before verification are bounded in total by
 * `pendingBytes` (`LANES_WEBHOOK_PENDING_BYTES`, 32 MiB by default): beyond
 * it, 503 `LANES_BUSY` with `Retry-After`.
 */
export const webhookRoutes = ({
  intake,
  bodyLimit,
  pendingBytes = DEFAULT_WEBHOOK_PENDING_BYTES,
}: {
  intake: WebhookIntake;
  bodyLimit: number;
  pendingBytes?: number | undefined;
}): RouteSpec[] => {
  const budget = createBodyBudget({ totalBytes: pendingBytes, bodyLimit });
  return [webhookRoute(intake, bodyLimit, budget)];
};

const unknownProvider = (provider: string): AppError =>
  new AppError('LANES_NOT_FOUND', `no webhook provider "${provider.slice(0, 40)}"; use github, jira or linear`);

/**
 * Bytes of unverified webhook bodies read at once, unless configured
 * otherwise. A byte read costs up to three while a body is checked (the
 * chunks, the joined body, the text the signature is computed over), so
 * 32 MiB keeps a flood of large unsigned posts near 100 MB: one GitHub-sized
 * (25 MB) delivery at a time, or about a thousand ordinary ones.
 */
export const DEFAULT_WEBHOOK_PENDING_BYTES = 32 * 1024 * 1024;

const webhookRoute = (intake: WebhookIntake, bodyLimit: number, budget: BodyBudget): RouteSpec =>
  defineRoute({
    method: 'POST',
    url: '/hooks/:provider',
    summary: 'A signed webhook delivery from GitHub, Jira or Linear (raw JSON; 202 once stored)',
    tag: 'connectors',
    access: 'public',
    params: z.strictObject({ provider: z.string().max(40) }),
    rawBody: {
      contentTypes: ['application/json', 'application/vnd.api+json'],
      parseAs: 'buffer',
      limit: bodyLimit,
      unsupported: 'send webhooks as application/json (in GitHub: Content type application/json)',
    },
    onRequest: async (request, reply) => {
      const { provider } = request.params as { provider: string };
      if (!isProviderName(provider)) throw unknownProvider(provider);
      intake.precheck(provider, lowerCaseHeaders(request.headers));
      budget.admit(request, reply);
    },
    responses: {
      202: receiptSchema,
      200: receiptSchema,
      401: errorBodySchema,
      404: errorBodySchema,
      503: errorBodySchema,
    },
    handler: async ({ params, body }, request, reply) => {
      const { provider } = params;
      if (!isProviderName(provider)) throw unknownProvider(provider);
      if (!Buffer.isBuffer(body) || body.length === 0) {
        throw new AppError('LANES_BODY_MALFORMED', 'the webhook body is empty');
      }
      const receipt = await intake.receive(provider, body, lowerCaseHeaders(request.headers));
      return reply.status(receipt.stored ? 202 : 200).send({
        received: true,
        deliveryId: receipt.deliveryId,
        eventType: receipt.eventType,
        duplicate: !receipt.stored,
      });
    },
  });

/** Header names in lower case, first value of repeated headers: what signature checks read. */
export const lowerCaseHeaders = (
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers))
    out[name.toLowerCase()] = Array.isArray(value) ? value[0] : value;
  return out;
};
