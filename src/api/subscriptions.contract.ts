import { z } from 'zod';
import { portalSearchQuerySchema } from './portal.contract.js';

/**
 * Follows and notifications (PRODUCT.md C4): a signed-in user follows an item,
 * a component, a team or a saved search, and hears about stage changes (not
 * every tracker edit) by email, Slack, a signed webhook, or an Atom feed.
 */

export const SUBSCRIPTION_TARGETS = ['item', 'component', 'team', 'search'] as const;
export const SUBSCRIPTION_CHANNELS = ['email', 'slack', 'webhook', 'feed'] as const;
export const SUBSCRIPTION_CADENCES = ['immediate', 'daily', 'weekly'] as const;

/** A saved search is the portal search's filters (without paging). */
export const savedSearchSchema = portalSearchQuerySchema.omit({ cursor: true, limit: true, mine: true });
export type SavedSearch = z.infer<typeof savedSearchSchema>;

export const subscriptionInputSchema = z.strictObject({
  target: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('item'), key: z.string().min(1).max(120) }),
    z.strictObject({ kind: z.literal('component'), component: z.string().min(1).max(120) }),
    z.strictObject({ kind: z.literal('team'), team: z.string().min(1).max(64) }),
    z.strictObject({ kind: z.literal('search'), name: z.string().min(1).max(120), search: savedSearchSchema }),
  ]),
  channel: z.enum(SUBSCRIPTION_CHANNELS).default('email'),
  /**
   * Email address (default: the user's; another one is asked to confirm first), Slack channel or member id, or
   * https webhook URL. Not for feeds.
   */
  address: z.string().min(1).max(2000).optional(),
  cadence: z.enum(SUBSCRIPTION_CADENCES).default('immediate'),
});
export type SubscriptionInput = z.input<typeof subscriptionInputSchema>;

export const subscriptionSchema = z.object({
  id: z.string(),
  target: z.object({
    kind: z.enum(SUBSCRIPTION_TARGETS),
    /** Item key, component, team id, or the saved search's name. */
    value: z.string(),
    search: savedSearchSchema.nullable(),
  }),
  channel: z.enum(SUBSCRIPTION_CHANNELS),
  address: z.string().nullable(),
  cadence: z.enum(SUBSCRIPTION_CADENCES),
  createdAt: z.string(),
  /** For feeds: the feed's secret URL, returned when created. For webhooks: the signing secret, returned when created. */
  feedUrl: z.string().nullable(),
  webhookSecret: z.string().nullable(),
  /**
   * E-mail to an address other than the subscriber's own is `pending` until that address confirms through the link
   * Lanes e-mails it; nothing else is sent there before. `not_needed` for one's own address and other channels.
   */
  confirmation: z.enum(['not_needed', 'pending', 'confirmed']),
});
export type Subscription = z.infer<typeof subscriptionSchema>;

export const subscriptionsSchema = z.object({ subscriptions: z.array(subscriptionSchema) });

export const deliverySchema = z.object({
  id: z.string(),
  subscriptionId: z.string(),
  itemKey: z.string(),
  toStage: z.string(),
  /** `failed`: will be retried at `nextAttemptAt`; `dead`: gave up (admins may retry); `skipped`: not sent (unsubscribed, or the item is no longer visible). */
  status: z.enum(['pending', 'sending', 'sent', 'failed', 'dead', 'skipped']),
  attempts: z.number().int(),
  nextAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  sentAt: z.string().nullable(),
  createdAt: z.string(),
});
export type Delivery = z.infer<typeof deliverySchema>;
export const deliveriesSchema = z.object({ deliveries: z.array(deliverySchema) });
