import { DeliveryFailure, signWebhook } from '../../domain/notification.js';
import { createOutboundGuard, OutboundError, type OutboundGuard } from '../outbound.guard.js';
import type { NotificationSender } from './notify.types.js';

/**
 * A signed outgoing webhook: `POST` of the message's JSON to the subscriber's
 * http(s) URL with `X-Lanes-Timestamp` (Unix seconds) and `X-Lanes-Signature:
 * sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` (see docs/notifications.md
 * for verifying it), `X-Lanes-Delivery` (stable across retries) and
 * `X-Lanes-Event`. It goes through the outbound guard: addresses inside the
 * network are refused (unless `LANES_OUTBOUND_ALLOW` lets them through) and
 * redirects are not followed. Any 2xx is success; 5xx, 408, 429, timeouts and
 * network errors are retried; refused addresses, redirects and other answers
 * are permanent. Failure messages are for admins (they tell ports apart);
 * members see `WEBHOOK_FAILURE_FOR_MEMBERS`.
 */
export interface WebhookSenderOptions {
  /** Per attempt; default 10 s. */
  timeoutMs?: number;
  /** Seconds since the epoch (tests pass a clock). */
  now?: () => number;
  userAgent?: string;
  /** Where requests may go; default: a guard that allows nothing internal. */
  guard?: OutboundGuard;
}

/**
 * What anyone but an admin reads for any failed webhook delivery: the same
 * sentence whether the port was closed, filtered, open and answering 500, or
 * refused by the guard, so the delivery log is no port scanner.
 */
export const WEBHOOK_FAILURE_FOR_MEMBERS =
  'The webhook could not be delivered: the receiver could not be reached, is at an address Lanes may not call, or did not answer with a 2xx status in time. An admin can see the details.';

export const webhookSender = (options: WebhookSenderOptions = {}): NotificationSender => {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const guard = options.guard ?? createOutboundGuard();
  return async (n) => {
    if (!n.secret) throw new DeliveryFailure('the subscription has no signing secret', true);
    const body = JSON.stringify({ id: n.key, ...n.message.payload });
    const timestamp = now();
    let response;
    try {
      response = await guard.request(n.address, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': options.userAgent ?? 'Lanes-Webhook/1',
          'x-lanes-delivery': n.key,
          'x-lanes-event': String(n.message.payload['type'] ?? 'notification'),
          'x-lanes-timestamp': String(timestamp),
          'x-lanes-signature': signWebhook(n.secret, timestamp, body),
        },
        body,
        timeoutMs,
        maxResponseBytes: 0,
      });
    } catch (error) {
      if (!(error instanceof OutboundError)) throw new DeliveryFailure(`webhook failed: ${String(error)}`);
      const permanent = error.reason === 'invalid' || error.reason === 'forbidden';
      throw new DeliveryFailure(`webhook ${permanent ? 'refused' : 'failed'}: ${error.message}`, permanent);
    }
    const { status } = response;
    if (status >= 200 && status < 300) return;
    if (status >= 300 && status < 400) {
      const to = response.headers.location ? ` to ${response.headers.location}` : '';
      throw new DeliveryFailure(
        `webhook answered HTTP ${status}, a redirect${to}; redirects are not followed, so subscribe with the final URL`,
        true,
      );
    }
    const retryable = status >= 500 || status === 408 || status === 429;
    throw new DeliveryFailure(`webhook answered HTTP ${status}`, !retryable);
  };
};
