import type { NotificationMessage } from '../../domain/notification.js';

/**
 * What a sender is handed: one message (a single change or a digest) to one
 * address. `key` is stable for the delivery (or digest) across retries and
 * instances: e-mail uses it for the Message-ID, webhooks send it as
 * `X-Lanes-Delivery`, so a receiver can drop a repeat.
 */
export interface OutgoingNotification {
  key: string;
  /** E-mail address, Slack channel or member id, or webhook URL. */
  address: string;
  /** The webhook signing secret. */
  secret: string | null;
  message: NotificationMessage;
  unsubscribeUrl: string;
}

/**
 * Sends one notification or throws; a `DeliveryFailure` with `permanent` set
 * makes the delivery dead at once, anything else is retried with backoff.
 */
export type NotificationSender = (notification: OutgoingNotification) => Promise<void>;

/** The configured senders; a channel without one fails its sends (and they are retried). */
export interface NotificationSenders {
  email?: NotificationSender | undefined;
  slack?: NotificationSender | undefined;
  webhook?: NotificationSender | undefined;
  /** Releases pooled connections. */
  close?: (() => Promise<void>) | undefined;
}
