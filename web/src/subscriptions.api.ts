import type { Delivery, Subscription } from '../../src/api/subscriptions.contract.js';
import { ApiError } from './api';

/**
 * Follows and their notifications: my subscriptions with their delivery logs,
 * and the admins' dead letters. The same error semantics as `api.ts` (an
 * `ApiError` with the API's code); writes carry the session's CSRF token,
 * passed in by the page.
 */

export type { Delivery, Subscription };

interface Options {
  signal?: AbortSignal | undefined;
  csrfToken?: string | undefined;
}

const isErrorBody = (value: unknown): value is { error: { code: string; message: string; details?: unknown } } => {
  const error = (value as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string';
};

const request = async <T>(method: string, path: string, options: Options = {}): Promise<T> => {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.csrfToken) headers['x-csrf-token'] = options.csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', signal: options.signal ?? null });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(0, 'LANES_NETWORK', 'Could not reach the Lanes server. Check your connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // A proxy's HTML error page, for instance; reported below with the status.
  }
  if (!response.ok) {
    throw isErrorBody(body)
      ? new ApiError(response.status, body.error.code, body.error.message, body.error.details)
      : new ApiError(
          response.status,
          `HTTP_${response.status}`,
          `The server answered ${response.status} ${response.statusText}.`,
        );
  }
  if (body === undefined) {
    throw new ApiError(response.status, 'LANES_BAD_RESPONSE', 'The server sent an answer that is not JSON.');
  }
  return body as T;
};

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
