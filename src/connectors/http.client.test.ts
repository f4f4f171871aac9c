import { afterEach, describe, expect, it } from 'vitest';
import { startFakeApi, type FakeApi } from '../../test/support/fake-api.js';
import { createHttpClient, nextLink, rateLimitWait } from './http.client.js';

let api: FakeApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

const recorder = () => {
  const waits: { reason: string; ms: number }[] = [];
  const slept: number[] = [];
  return {
    waits,
    slept,
    onWait: (reason: string, ms: number) => waits.push({ reason, ms }),
    sleep: async (ms: number) => {
      slept.push(ms);
    },
  };
};

describe('the sync HTTP client', () => {
  it('waits for the primary rate-limit reset, says so, and then gets the page', async () => {
    let calls = 0;
    api = await startFakeApi(() => {
      calls += 1;
      if (calls === 1) {
        return {
          status: 403,
          headers: {
            'x-ratelimit-limit': '5000',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 42),
          },
          body: { message: 'API rate limit exceeded for user ID 1.' },
        };
      }
      return { body: [{ id: 1 }] };
    });
    const r = recorder();
    const http = createHttpClient({ baseUrl: api.url, onWait: r.onWait, sleep: r.sleep });
    const res = await http.request({ url: '/repos/o/r/issues' });
    expect(res.body).toEqual([{ id: 1 }]);
    expect(r.waits).toHaveLength(1);
    expect(r.waits[0]!.reason).toMatch(/rate limited \(HTTP 403\); waiting 4\ds/);
    expect(r.slept[0]).toBeGreaterThan(40_000);
    expect(r.slept[0]).toBeLessThan(45_000);
  });

  it('honours retry-after on a secondary rate limit and on 429', async () => {
    const answers = [
      { status: 403, headers: { 'retry-after': '3' }, body: { message: 'You have exceeded a secondary rate limit.' } },
      { status: 429, headers: { 'retry-after': '1' }, body: {} },
      { body: { ok: true } },
    ];
    api = await startFakeApi(() => answers.shift()!);
    const r = recorder();
    const http = createHttpClient({ baseUrl: api.url, onWait: r.onWait, sleep: r.sleep });
    expect((await http.request({ url: '/x' })).body).toEqual({ ok: true });
    expect(r.slept).toEqual([3000, 1000]);
  });

  it('waits when Linear answers a GraphQL RATELIMITED error with 400', async () => {
    const answers = [
      {
        status: 400,
        headers: { 'x-ratelimit-requests-reset': String(Date.now() + 5000) },
        body: { errors: [{ message: 'Rate limit exceeded', extensions: { code: 'RATELIMITED' } }] },
      },
      { body: { data: { issues: { nodes: [] } } } },
    ];
    api = await startFakeApi(() => answers.shift()!);
    const r = recorder();
    const http = createHttpClient({ baseUrl: api.url, onWait: r.onWait, sleep: r.sleep });
    expect((await http.request({ method: 'POST', url: '/graphql', body: { query: '{}' } })).body).toEqual({
      data: { issues: { nodes: [] } },
    });
    expect(r.waits[0]!.reason).toMatch(/RATELIMITED/);
    expect(r.slept[0]).toBeGreaterThan(3000);
  });

  it('retries a 502 and a timeout with backoff, then succeeds', async () => {
    let calls = 0;
    api = await startFakeApi(() => {
      calls += 1;
      if (calls === 1) return { status: 502, body: { message: 'Bad Gateway' } };
      if (calls === 2) return { hang: true };
      return { body: { page: 1 } };
    });
    const r = recorder();
    const http = createHttpClient({ baseUrl: api.url, onWait: r.onWait, sleep: r.sleep, timeoutMs: 200 });
    expect((await http.request({ url: '/x' })).body).toEqual({ page: 1 });
    expect(r.waits.map((w) => w.reason)).toEqual([
      expect.stringMatching(/^HTTP 502; retrying/),
      expect.stringMatching(/^timed out after 200 ms; retrying/),
    ]);
  });

  it('gives up after the last attempt with a stable code', async () => {
    api = await startFakeApi(() => ({ status: 503, body: {} }));
    const r = recorder();
    const http = createHttpClient({ baseUrl: api.url, sleep: r.sleep, maxAttempts: 3 });
    await expect(http.request({ url: '/x' })).rejects.toMatchObject({ code: 'LANES_UPSTREAM_FAILED' });
    expect(api.requests).toHaveLength(3);
  });

  it('does not retry a 404 or a 401', async () => {
    api = await startFakeApi(() => ({ status: 404, body: { message: 'Not Found' } }));
    const http = createHttpClient({ baseUrl: api.url, sleep: async () => {} });
    await expect(http.request({ url: '/repos/o/missing' })).rejects.toMatchObject({
      code: 'LANES_UPSTREAM_FAILED',
      details: { status: 404 },
    });
    expect(api.requests).toHaveLength(1);
  });

  it('sends If-None-Match and treats 304 as an answer without a body; sends auth and the base path', async () => {
    api = await startFakeApi((req) =>
      req.headers['if-none-match'] === '"abc"' ? { status: 304 } : { headers: { etag: '"abc"' }, body: [1] },
    );
    const http = createHttpClient({
      baseUrl: `${api.url}/api/v3`,
      authorization: async () => 'Bearer t0ken',
      sleep: async () => {},
    });
    const first = await http.request({ url: '/repos/o/r/issues', query: { per_page: 100, since: undefined } });
    expect(first.headers.get('etag')).toBe('"abc"');
    const second = await http.request({ url: '/repos/o/r/issues', query: { per_page: 100 }, etag: '"abc"' });
    expect(second).toMatchObject({ status: 304, body: null });
    expect(api.requests[0]!.path).toBe('/api/v3/repos/o/r/issues');
    expect(api.requests[0]!.url.search).toBe('?per_page=100');
    expect(api.requests[0]!.headers['authorization']).toBe('Bearer t0ken');
  });

  it('reads Link headers and rate-limit headers the way GitHub sends them', () => {
    const headers = new Headers({
      link: '<https://api.github.com/repositories/1/issues?page=2>; rel="next", <https://api.github.com/repositories/1/issues?page=9>; rel="last"',
    });
    expect(nextLink(headers)).toBe('https://api.github.com/repositories/1/issues?page=2');
    expect(nextLink(new Headers())).toBeUndefined();
    expect(rateLimitWait(200, new Headers({ 'x-ratelimit-remaining': '0' }), 0)).toBeUndefined();
    expect(rateLimitWait(429, new Headers(), 0)).toBe(60_000);
  });
});
