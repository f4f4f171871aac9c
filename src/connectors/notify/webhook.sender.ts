import { DeliveryFailure, signWebhook } from '../../domain/notification.js';
import type { NotificationSender } from './notify.types.js';

/**
 * A signed outgoing webhook: `POST` of the message's JSON to the subscriber's
 * http(s) URL with `X-Lanes-Timestamp` (Unix seconds) and `X-Lanes-Signature:
 * sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` (see docs/notifications.md
 * for verifying it), `X-Lanes-Delivery` (stable across retries) and
 * `X-Lanes-Event`. Redirects are not followed. Any 2xx is success; 5xx, 408,
 * 429, timeouts and network errors are retried; other answers are permanent.
 */
export interface WebhookSenderOptions {
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Seconds since the epoch (tests pass a clock). */
  now?: () => number;
  userAgent?: string;
}

export const isHttpUrl = (address: string): boolean => {
  try {
    const url = new URL(address);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
};

export const webhookSender = (options: WebhookSenderOptions = {}): NotificationSender => {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  return async (n) => {
    if (!isHttpUrl(n.address)) throw new DeliveryFailure('the webhook URL is not an http(s) URL', true);
    if (!n.secret) throw new DeliveryFailure('the subscription has no signing secret', true);
    const body = JSON.stringify({ id: n.key, ...n.message.payload });
    const timestamp = now();
    let response: Response;
    try {
      response = await fetch(n.address, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/json',
          'user-agent': options.userAgent ?? 'Lanes-Webhook/1',
          'x-lanes-delivery': n.key,
          'x-lanes-event': String(n.message.payload['type'] ?? 'notification'),
          'x-lanes-timestamp': String(timestamp),
          'x-lanes-signature': signWebhook(n.secret, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : String(error);
      throw new DeliveryFailure(`webhook ${reason}`);
    }
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return;
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new DeliveryFailure(`webhook answered HTTP ${response.status}`, !retryable);
  };
};
