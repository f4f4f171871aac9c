import type { Delivery, Subscription } from '../../src/api/subscriptions.contract.js';
import { request as apiRequest } from './api';

/**
 * Follows and their notifications: my subscriptions with their delivery logs,
 * and the admins' dead letters. The same error semantics as `api.ts` (an
 * `ApiError` with the API's code); writes carry the session's CSRF token,
 * passed in by the page.
 */

export type { Delivery, Subscription };

interface Options {
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  signal?: AbortSignal | undefined;
  csrfToken?: string | undefined;
}

/** Calls go through `request` in `api.ts` (the CSRF token comes from the session there; `csrfToken` is not needed). */
const request = <T>(method: string, path: string, options: Options = {}): Promise<T> =>
  apiRequest<T>(method, path, {
    ...(options.query ? { query: options.query } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });

const enc = encodeURIComponent;

export const subscriptionsApi = {
  mine: (signal?: AbortSignal) =>
    request<{ subscriptions: Subscription[] }>('GET', '/api/v1/subscriptions', { signal }),
  deliveries: (id: string, signal?: AbortSignal) =>
    request<{ deliveries: Delivery[] }>('GET', `/api/v1/subscriptions/${enc(id)}/deliveries`, { signal }),
  unsubscribe: (id: string, csrfToken: string) =>
    request<void>('DELETE', `/api/v1/subscriptions/${enc(id)}`, { csrfToken }),
  dead: (signal?: AbortSignal) => request<{ deliveries: Delivery[] }>('GET', '/api/v1/notifications/dead', { signal }),
  retry: (id: string, csrfToken: string) =>
    request<Delivery>('POST', `/api/v1/notifications/deliveries/${enc(id)}/retry`, { csrfToken }),
};

const CHANNEL_LABELS: Record<Subscription['channel'], string> = {
  email: 'E-mail',
  slack: 'Slack',
  webhook: 'Webhook',
  feed: 'Atom feed',
};

/** "PAY-231", "Team payments", "Saved search “EU cards”". */
export const describeTarget = (s: Subscription): string => {
  switch (s.target.kind) {
    case 'item':
      return s.target.value;
    case 'component':
      return `Component ${s.target.value}`;
    case 'team':
      return `Team ${s.target.value}`;
    case 'search':
      return `Saved search “${s.target.value}”`;
  }
};

/** "E-mail to ana@acme.example, daily digest". */
export const describeDelivery = (s: Subscription): string => {
  const to = s.address ? ` to ${s.address}` : '';
  const cadence = s.channel === 'feed' ? '' : s.cadence === 'immediate' ? ', as it happens' : `, ${s.cadence} digest`;
  return `${CHANNEL_LABELS[s.channel]}${to}${cadence}`;
};

export const DELIVERY_STATUS_LABELS: Record<Delivery['status'], string> = {
  pending: 'waiting',
  sending: 'sending',
  sent: 'sent',
  failed: 'will retry',
  dead: 'gave up',
  skipped: 'not sent',
};

export const deliveryBadgeClass = (status: Delivery['status']): string =>
  status === 'sent' ? 'badge badge-ok' : status === 'skipped' ? 'badge badge-muted' : 'badge badge-warn';
