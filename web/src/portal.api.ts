import type {
  PortalItem,
  PortalItemSummary,
  PortalSearchQuery,
  PortalSearchResult,
  ShareLink,
  StageStep,
} from '../../src/api/portal.contract.js';
import type { Subscription } from '../../src/api/subscriptions.contract.js';
import { request as apiRequest } from './api';

/**
 * The status portal's calls: search, the item page, share links and follows.
 * The same error semantics as `api.ts` (an `ApiError` with the API's code);
 * writes carry the session's CSRF token, passed in by the page.
 */

export type { PortalItem, PortalItemSummary, PortalSearchResult, ShareLink, StageStep, Subscription };

/** The filters the search page puts in its address; paging is added per request. */
export type PortalFilters = Partial<Pick<PortalSearchQuery, 'q' | 'reporter' | 'customer' | 'stage' | 'mine'>>;

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

export const portalApi = {
  search: (filters: PortalFilters, cursor: string | null, signal?: AbortSignal) =>
    request<PortalSearchResult>('GET', '/api/v1/portal/search', {
      query: { ...filters, cursor: cursor ?? undefined, limit: 20 },
      signal,
    }),
  item: (key: string, signal?: AbortSignal) =>
    request<PortalItem>('GET', `/api/v1/portal/items/${enc(key)}`, { signal }),
  /** Anonymous: the item behind a share link. */
  shared: (token: string, signal?: AbortSignal) =>
    request<PortalItem>('GET', `/api/v1/public/share/${enc(token)}`, { signal }),

  shares: (key: string, signal?: AbortSignal) =>
    request<{ links: ShareLink[] }>('GET', `/api/v1/portal/items/${enc(key)}/shares`, { signal }),
  createShare: (key: string, csrfToken: string) =>
    request<ShareLink>('POST', `/api/v1/portal/items/${enc(key)}/share`, { body: {}, csrfToken }),
  revokeShare: (id: string, csrfToken: string) =>
    request<void>('DELETE', `/api/v1/portal/shares/${enc(id)}`, { csrfToken }),

  subscriptions: (signal?: AbortSignal) =>
    request<{ subscriptions: Subscription[] }>('GET', '/api/v1/subscriptions', { signal }),
  /** Follows an item by e-mail, on every stage change (the defaults). */
  follow: (key: string, csrfToken: string) =>
    request<Subscription>('POST', '/api/v1/subscriptions', {
      body: { target: { kind: 'item', key }, channel: 'email' },
      csrfToken,
    }),
  unfollow: (id: string, csrfToken: string) =>
    request<void>('DELETE', `/api/v1/subscriptions/${enc(id)}`, { csrfToken }),
};

/** The follows of one item by e-mail (normally one), so "Unfollow" can remove them. */
export const itemFollows = (subscriptions: readonly Subscription[], key: string): Subscription[] =>
  subscriptions.filter((s) => s.target.kind === 'item' && s.target.value === key && s.channel === 'email');

/** The portal page of an item. */
export const itemPath = (key: string): string => `/portal/items/${encodeURIComponent(key)}`;

/** The path of a share link inside this app (`/s/<token>`), from the full URL the API returns. */
export const sharePath = (url: string): string => {
  try {
    return new URL(url, window.location.origin).pathname;
  } catch {
    return url;
  }
};
