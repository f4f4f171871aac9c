import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

const event = (
  id: string,
  key: string,
  at: string,
  change: Record<string, unknown>,
  item: Record<string, unknown> = {},
) => ({
  source: 'native',
  sourceEventId: id,
  occurredAt: at,
  actor: { kind: 'email', id: 'pm@acme.example' },
  item: { key, ...item },
  change,
});

describe.each(testEngines())('items and events API on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  const get = (url: string) => t.as('member', { method: 'GET', url });
  beforeEach(async () => {
    database = await open();
    t = await buildTestServer(database);
  });
  afterEach(async () => {
    await t.server.app.close();
    await database.close();
  });

  const post = (payload: unknown) =>
    t.as('member', { method: 'POST', url: '/api/v1/events', payload: payload as object });

  it('answers /healthz', async () => {
    const res = await get('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok' });
  });

  it('stores a batch, lists items with filters and pages, and shows an item with its history', async () => {
    const events = [];
    for (let i = 1; i <= 5; i++) {
      events.push(
        event(
          `c${i}`,
          `PAY-${i}`,
          `2026-05-0${i}T10:00:00Z`,
          { kind: 'created' },
          {
            kind: i % 2 ? 'bug' : 'task',
            title: i === 3 ? '<img src=x onerror=alert(1)> checkout' : `Refund fails ${i}`,
            team: 'payments',
            severity: 'high',
          },
        ),
      );
    }
    events.push(
      event('p1', 'PAY-1', '2026-05-06T10:00:00Z', { kind: 'field_changed', field: 'priority', from: null, to: 'P1' }),
    );
    const res = await post({ events });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ received: 6, stored: 6, duplicates: 0 });

    const again = await post({ events });
    expect(again.json()).toMatchObject({ stored: 0, duplicates: 6 });

    const bugs = await get('/api/v1/items?kind=bug&team=payments');
    expect(bugs.json().items.map((i: { key: string }) => i.key)).toEqual(['PAY-1', 'PAY-5', 'PAY-3']);

    const page1 = (await get('/api/v1/items?limit=2')).json();
    expect(page1.items).toHaveLength(2);
    const page2 = (await get(`/api/v1/items?limit=2&cursor=${page1.nextCursor}`)).json();
    const page3 = (await get(`/api/v1/items?limit=2&cursor=${page2.nextCursor}`)).json();
    expect(page3.nextCursor).toBeNull();
    expect([...page1.items, ...page2.items, ...page3.items].map((i: { key: string }) => i.key).sort()).toEqual([
      'PAY-1',
      'PAY-2',
      'PAY-3',
      'PAY-4',
      'PAY-5',
    ]);

    const search = (await get(`/api/v1/items?q=${encodeURIComponent("refund' OR 1=1 --")}`)).json();
    expect(search.items).toEqual([]);
    const found = (await get('/api/v1/items?q=onerror')).json();
    expect(found.items.map((i: { title: string }) => i.title)).toEqual(['<img src=x onerror=alert(1)> checkout']);
    const percent = (await get('/api/v1/items?q=%25')).json();
    expect(percent.items).toEqual([]);

    const detail = await get('/api/v1/items/PAY-1');
    expect(detail.statusCode).toBe(200);
    expect(detail.json().item).toMatchObject({
      key: 'PAY-1',
      priority: 'P1',
      stage: 'reported',
      stageLabel: 'Reported',
    });
    expect(detail.json().events.map((e: { kind: string }) => e.kind)).toEqual(['created', 'field_changed']);
  });

  it('rejects bad input with one error body and stores nothing', async () => {
    const good = event('g1', 'GRO-1', '2026-05-01T00:00:00Z', { kind: 'created' }, { title: 'ok' });
    const cases: Array<[unknown, number, string]> = [
      [
        { events: [good, { ...good, sourceEventId: 'g2', change: { kind: 'exploded' } }] },
        400,
        'LANES_EVENT_UNKNOWN_KIND',
      ],
      [{ events: [good, { ...good, sourceEventId: 'g3', occurredAt: 'yesterday' }] }, 400, 'LANES_EVENT_INVALID'],
      [{ events: [good], extra: true }, 400, 'LANES_VALIDATION'],
      [{ events: [{ ...good, surprise: 1 }] }, 400, 'LANES_EVENT_INVALID'],
      [{ events: [{ ...good, sourceEventId: 'x'.repeat(70_000) }] }, 413, 'LANES_BODY_TOO_LARGE'],
    ];
    for (const [payload, status, code] of cases) {
      const res = await post(payload);
      expect(res.statusCode, code).toBe(status);
      expect(res.json().error.code).toBe(code);
      expect(typeof res.json().error.message).toBe('string');
    }
    const malformed = await t.as('member', {
      method: 'POST',
      url: '/api/v1/events',
      headers: { 'content-type': 'application/json' },
      payload: '{"events": [',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('LANES_BODY_MALFORMED');
    const items = (await get('/api/v1/items')).json();
    expect(items.items).toEqual([]);
    const rejected = (
      await post({ events: [good, { ...good, sourceEventId: 'g2', change: { kind: 'exploded' } }] })
    ).json();
    expect(rejected.error.details.rejections).toEqual([
      expect.objectContaining({ index: 1, code: 'LANES_EVENT_UNKNOWN_KIND' }),
    ]);
  });

  it('answers unknown items, routes and cursors with stable codes', async () => {
    expect((await get('/api/v1/items/NOPE-1')).json().error.code).toBe('LANES_NOT_FOUND');
    expect((await get('/api/v1/nothing')).statusCode).toBe(404);
    expect((await get('/api/v1/items?cursor=garbage')).json().error.code).toBe('LANES_CURSOR_INVALID');
    expect((await get('/api/v1/items?limit=5000')).json().error.code).toBe('LANES_VALIDATION');
  });
});
