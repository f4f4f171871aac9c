import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ITEM_KEY_MAX } from '../domain/event.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { jsonNestsDeeperThan, MAX_JSON_DEPTH, scanJson, storableString } from './body.parse.js';
import { PATH_PARAM_MAX } from './fastify-errors.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

const nested = (depth: number, leaf = '1'): string => '['.repeat(depth) + leaf + ']'.repeat(depth);

const event = (key: string, id: string) => ({
  source: 'deploys',
  sourceEventId: id,
  occurredAt: '2026-05-01T12:00:00Z',
  item: { key, kind: 'bug', title: `item ${id}` },
  change: { kind: 'created' },
});

/** The documented error shape and nothing else. */
const expectErrorShape = (res: { statusCode: number; json(): unknown }, status: number, code: string): void => {
  expect(res.statusCode).toBe(status);
  const body = res.json() as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatchObject({ code, message: expect.any(String) });
  expect(Object.keys(body.error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true);
};

describe('the JSON depth scan', () => {
  it('counts nesting outside strings only, escapes included, in one pass', () => {
    expect(jsonNestsDeeperThan(nested(3), 3)).toBe(false);
    expect(jsonNestsDeeperThan(nested(4), 3)).toBe(true);
    expect(jsonNestsDeeperThan('{"a":{"b":[{}]}}', 4)).toBe(false);
    expect(jsonNestsDeeperThan('{"a":{"b":[{}]}}', 3)).toBe(true);
    expect(jsonNestsDeeperThan(JSON.stringify({ text: '[[[[[[{{{{{' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(JSON.stringify({ text: 'say \\"[[[[[["' }), 1)).toBe(false);
    expect(jsonNestsDeeperThan(`["\\\\",${nested(2)}]`, 2)).toBe(true);
    // 100,000 levels are answered without recursion.
    expect(jsonNestsDeeperThan(nested(100_000), MAX_JSON_DEPTH)).toBe(true);
  });

  it('notices NUL and surrogate escapes, and makes such text storable', () => {
    expect(scanJson(JSON.stringify({ a: 'x\u0000' }), 9).suspectText).toBe(true);
    expect(scanJson(JSON.stringify({ a: '\ud800' }), 9).suspectText).toBe(true);
    expect(scanJson('{"a":"\\\\u0000"}', 9).suspectText).toBe(false);
    expect(scanJson(JSON.stringify({ a: 'plain 🙂' }), 9).suspectText).toBe(false);
    expect(storableString('a\u0000b\ud800c\udc00🙂')).toBe('a\uFFFDb\uFFFDc\uFFFD🙂');
  });
});

describe.each(testEngines())('bad input on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  beforeAll(async () => {
    database = await open();
    t = await buildTestServer(database, { server: { bodyLimit: 1 << 20 } });
  });
  afterAll(async () => {
    await t.server.app.close();
    await database.close();
  });

  const sample = (url: string): string => url.replace(/:[a-z]+/g, 'x1');

  it('answers 400 LANES_BODY_TOO_DEEP to a 100,000-level body on every JSON route, and keeps serving', async () => {
    const writes = t.server.routes.filter((r) => r.method !== 'GET' && !r.rawBody);
    expect(writes.length).toBeGreaterThan(10);
    for (const bodyText of [nested(100_000), `{"events":[{"payload":${nested(100_000)}}]}`]) {
      for (const r of writes) {
        const res = await t.as('admin', {
          method: r.method,
          url: sample(r.url),
          headers: { 'content-type': 'application/json' },
          payload: bodyText,
        });
        expectErrorShape(res, 400, 'LANES_BODY_TOO_DEEP');
      }
    }
    expect((await t.as('anonymous', { method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('accepts nesting up to the limit and still refuses prototype poisoning', async () => {
    const atLimit = { ...event('DEEP-1', 'deep-1'), payload: JSON.parse(nested(MAX_JSON_DEPTH - 3)) as unknown };
    const ok = await t.as('admin', { method: 'POST', url: '/api/v1/events', payload: { events: [atLimit] } });
    expect(ok.statusCode, ok.body).toBe(200);
    const poisoned = await t.as('admin', {
      method: 'POST',
      url: '/api/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: '{"events":[],"__proto__":{"admin":true}}',
    });
    expectErrorShape(poisoned, 400, 'LANES_BODY_MALFORMED');
  });

  it('stores text with NUL and lone surrogates on every route, as U+FFFD', async () => {
    const created = await t.as('admin', {
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":"ci\\u0000bot\\ud800"}',
    });
    expect(created.statusCode, created.body).toBe(201);
    const tokens = await t.as('admin', { method: 'GET', url: '/api/v1/tokens' });
    expect(JSON.stringify(tokens.json())).toContain('ci\uFFFDbot\uFFFD');
    const nulInUrl = await t.as('admin', { method: 'DELETE', url: '/api/v1/tokens/a%00b' });
    expectErrorShape(nulInUrl, 400, 'LANES_VALIDATION');
  });

  it("answers Fastify's own refusals in the documented shape with a 4xx", async () => {
    const cases: { request: Parameters<TestServer['as']>[1]; status: number; code: string }[] = [
      { request: { method: 'GET', url: '/api/v1/items/%E0%A4%A' }, status: 400, code: 'LANES_VALIDATION' },
      {
        request: { method: 'GET', url: `/api/v1/items/${'A'.repeat(PATH_PARAM_MAX + 1)}` },
        status: 400,
        code: 'LANES_VALIDATION',
      },
      {
        request: {
          method: 'POST',
          url: '/api/v1/events',
          headers: { 'content-type': 'application/json', 'content-length': '5' },
          payload: '{"events":[]}',
        },
        status: 400,
        code: 'LANES_BODY_MALFORMED',
      },
      {
        request: {
          method: 'POST',
          url: '/api/v1/events',
          headers: { 'content-type': 'application/json' },
          payload: '',
        },
        status: 400,
        code: 'LANES_BODY_MALFORMED',
      },
      {
        request: {
          method: 'POST',
          url: '/api/v1/events',
          headers: { 'content-type': 'application/json' },
          payload: '{',
        },
        status: 400,
        code: 'LANES_BODY_MALFORMED',
      },
      {
        request: { method: 'POST', url: '/api/v1/events', headers: { 'content-type': 'image/png' }, payload: 'x' },
        status: 415,
        code: 'LANES_UNSUPPORTED_MEDIA_TYPE',
      },
      {
        request: {
          method: 'POST',
          url: '/api/v1/events',
          headers: { 'content-type': 'application/json' },
          payload: `"${'x'.repeat(1 << 20)}"`,
        },
        status: 413,
        code: 'LANES_BODY_TOO_LARGE',
      },
      { request: { method: 'GET', url: '/api/v1/nothing-here' }, status: 404, code: 'LANES_NOT_FOUND' },
    ];
    for (const c of cases) {
      const res = await t.as('admin', c.request);
      expect(res.statusCode, `${c.request.method} ${c.request.url}: ${res.body}`).toBe(c.status);
      expectErrorShape(res, c.status, c.code);
    }
  });

  it('fetches an item whose key is as long as the schema allows, and refuses a longer key at ingest', async () => {
    const longest = `PAY/${'a#b:c.d-'.repeat(20)}`.slice(0, ITEM_KEY_MAX);
    expect(longest).toHaveLength(ITEM_KEY_MAX);
    const stored = await t.as('admin', {
      method: 'POST',
      url: '/api/v1/events',
      payload: { events: [event(longest, 'long-1')] },
    });
    expect(stored.statusCode, stored.body).toBe(200);
    const fetched = await t.as('admin', { method: 'GET', url: `/api/v1/items/${encodeURIComponent(longest)}` });
    expect(fetched.statusCode, fetched.body).toBe(200);
    expect(fetched.json()).toMatchObject({ item: { key: longest } });

    const tooLong = `${longest}x`;
    const refused = await t.as('admin', {
      method: 'POST',
      url: '/api/v1/events',
      payload: { events: [event(tooLong, 'long-2')] },
    });
    expectErrorShape(refused, 400, 'LANES_EVENT_INVALID');
    const notFetched = await t.as('admin', { method: 'GET', url: `/api/v1/items/${encodeURIComponent(tooLong)}` });
    expectErrorShape(notFetched, 400, 'LANES_VALIDATION');
  });

  it('routes every path parameter that its schema accepts', () => {
    for (const r of t.server.routes) {
      const shape = (r.params as z.ZodObject | undefined)?.shape ?? {};
      for (const [name, schema] of Object.entries(shape)) {
        const max = (schema as z.ZodString).maxLength;
        expect(max, `${r.url} :${name} has no maximum length`).not.toBeNull();
        expect(max, `${r.url} :${name}`).toBeLessThanOrEqual(PATH_PARAM_MAX);
      }
    }
  });
});
