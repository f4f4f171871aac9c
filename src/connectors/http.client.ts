import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '../domain/errors.js';
import type { HttpRequest, HttpResponse, SyncHttp } from './connector.types.js';

/**
 * The HTTP client every sync uses (GitHub REST, Jira REST, Linear GraphQL).
 * It owns what all three APIs need alike:
 * - auth (a header value produced per request, so GitHub App tokens can renew);
 * - a timeout per attempt, and retries of network errors, timeouts and 5xx with
 *   exponential backoff and jitter;
 * - rate limits: a 429, or a 403 with `retry-after` or an exhausted
 *   `x-ratelimit-remaining` (GitHub's secondary and primary limits, Jira's and
 *   Linear's 429s), waits for `retry-after` or the reset time and tries again,
 *   telling `onWait` so the progress line can say so;
 * - conditional requests: `etag` becomes `If-None-Match`, a 304 is a normal answer.
 * Anything else that is not 2xx ends in `AppError('LANES_UPSTREAM_FAILED')`.
 */
export interface HttpClientOptions {
  baseUrl: string;
  /** The `Authorization` header value, asked for before every request. */
  authorization?: () => Promise<string | undefined>;
  userAgent?: string;
  accept?: string;
  /** Per attempt; default 30 s. */
  timeoutMs?: number;
  /** Attempts for network errors and 5xx; default 5. Rate-limit waits do not count. */
  maxAttempts?: number;
  /** Longest single rate-limit wait before giving up; default 1 hour. */
  maxWaitMs?: number;
  onWait?: (reason: string, ms: number) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Base of the exponential backoff; default 500 ms. */
  backoffMs?: number;
}

/** The `rel="next"` URL of a `Link` header (GitHub, GitLab), if any. */
export const nextLink = (headers: Headers): string | undefined => {
  const link = headers.get('link');
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
};

const resolveUrl = (baseUrl: string, url: string, query: HttpRequest['query']): string => {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const target = /^https?:\/\//.test(url) ? new URL(url) : new URL(url.replace(/^\//, ''), base);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) target.searchParams.set(k, String(v));
  return target.toString();
};

/** How long a rate-limited response asks us to wait, or undefined when it is not a rate limit. */
export const rateLimitWait = (status: number, headers: Headers, nowMs: number): number | undefined => {
  const retryAfter = headers.get('retry-after');
  if ((status === 429 || status === 403 || status === 503) && retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return Math.max(0, at - nowMs);
  }
  const remaining = headers.get('x-ratelimit-remaining');
  if ((status === 429 || status === 403) && remaining === '0') {
    const reset = Number(headers.get('x-ratelimit-reset'));
    // GitHub sends epoch seconds; some APIs send epoch milliseconds.
    if (Number.isFinite(reset) && reset > 0) return Math.max(0, (reset > 1e12 ? reset : reset * 1000) - nowMs + 1000);
    return 60_000;
  }
  if (status === 429) return 60_000;
  return undefined;
};

const describeWait = (ms: number): string => {
  const seconds = Math.ceil(ms / 1000);
  return seconds < 120 ? `${seconds}s` : `${Math.ceil(seconds / 60)}m`;
};

const readBody = async (response: Response): Promise<unknown> => {
  if (response.status === 204 || response.status === 304) return null;
  const text = await response.text();
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AppError(
      'LANES_UPSTREAM_FAILED',
      `${response.url} answered ${response.status} with a body that is not JSON`,
    );
  }
};

export const createHttpClient = (options: HttpClientOptions): SyncHttp => {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const maxWaitMs = options.maxWaitMs ?? 3_600_000;
  const backoffMs = options.backoffMs ?? 500;
  const sleep = options.sleep ?? ((ms: number) => delay(ms).then(() => undefined));

  const request = async (req: HttpRequest): Promise<HttpResponse> => {
    const url = resolveUrl(options.baseUrl, req.url, req.query);
    const method = req.method ?? 'GET';
    let failures = 0;
    for (;;) {
      const headers: Record<string, string> = {
        accept: options.accept ?? 'application/json',
        'user-agent': options.userAgent ?? 'lanes',
      };
      const authorization = await options.authorization?.();
      if (authorization) headers['authorization'] = authorization;
      if (req.etag) headers['if-none-match'] = req.etag;
      if (req.body !== undefined) headers['content-type'] = 'application/json';

      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers,
          body: req.body === undefined ? undefined : JSON.stringify(req.body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        failures += 1;
        const reason = (error as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : String(error);
        if (failures >= maxAttempts) {
          throw new AppError('LANES_UPSTREAM_FAILED', `${method} ${url} failed ${failures} times: ${reason}`);
        }
        const wait = backoff(backoffMs, failures);
        options.onWait?.(`${reason}; retrying in ${describeWait(wait)}`, wait);
        await sleep(wait);
        continue;
      }

      if (response.ok || response.status === 304) {
        return { status: response.status, headers: response.headers, body: await readBody(response), url };
      }
      const limitWait = rateLimitWait(response.status, response.headers, Date.now());
      if (limitWait !== undefined) {
        await response.body?.cancel();
        if (limitWait > maxWaitMs) {
          throw new AppError(
            'LANES_UPSTREAM_FAILED',
            `rate limited for ${describeWait(limitWait)}, longer than the ${describeWait(maxWaitMs)} Lanes waits`,
          );
        }
        options.onWait?.(`rate limited (HTTP ${response.status}); waiting ${describeWait(limitWait)}`, limitWait);
        await sleep(limitWait);
        continue;
      }
      if (response.status >= 500) {
        await response.body?.cancel();
        failures += 1;
        if (failures >= maxAttempts) {
          throw new AppError('LANES_UPSTREAM_FAILED', `${method} ${url} answered ${response.status} ${failures} times`);
        }
        const wait = backoff(backoffMs, failures);
        options.onWait?.(`HTTP ${response.status}; retrying in ${describeWait(wait)}`, wait);
        await sleep(wait);
        continue;
      }
      const text = (await response.text()).slice(0, 2000);
      if (response.status === 400 && text.includes('RATELIMITED')) {
        // Linear answers a GraphQL rate limit with 400 and an error whose code is RATELIMITED.
        const reset = Number(response.headers.get('x-ratelimit-requests-reset'));
        const wait = Number.isFinite(reset) && reset > 0 ? Math.max(1000, reset - Date.now()) : 60_000;
        if (wait > maxWaitMs) {
          throw new AppError(
            'LANES_UPSTREAM_FAILED',
            `rate limited for ${describeWait(wait)}, longer than Lanes waits`,
          );
        }
        options.onWait?.(`rate limited (GraphQL RATELIMITED); waiting ${describeWait(wait)}`, wait);
        await sleep(wait);
        continue;
      }
      throw new AppError(
        'LANES_UPSTREAM_FAILED',
        `${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`,
        {
          status: response.status,
        },
      );
    }
  };
  return { request };
};

/** Exponential backoff with full jitter, capped at 30 s. */
const backoff = (baseMs: number, failures: number): number =>
  Math.round(Math.min(30_000, baseMs * 2 ** (failures - 1)) * (0.5 + Math.random() / 2));
