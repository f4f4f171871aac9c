import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncHttp, SyncPlan, SyncStream } from '../connectors/connector.types.js';
import type { EventInput } from '../domain/event.js';
import { getCheckpoint, listUnmapped } from '../store/connector.repository.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { countEvents } from '../store/event.repository.js';
import type { ServiceContext } from './context.js';
import { runSync } from './sync.service.js';

/** A stream over N pages of `perPage` issues, each issue one created event; may fail at a page. */
const pagedStream = (
  pages: number,
  perPage: number,
  seen: { cursors: (string | null)[]; since: (string | null)[] },
  failAt?: number,
): SyncStream<unknown> => ({
  name: 'issues',
  unit: 'issues',
  async *pages({ cursor, since, etag, ctx }) {
    seen.cursors.push(cursor);
    seen.since.push(since);
    for (let page = cursor === null ? 0 : Number(cursor); page < pages; page++) {
      if (page === failAt) throw new Error(`upstream broke at page ${page}`);
      const events: EventInput[] = [];
      for (let i = 0; i < perPage; i++) {
        const n = page * perPage + i;
        events.push({
          source: 'fake',
          sourceEventId: `issue-${n}`,
          occurredAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
          actor: { kind: 'github', id: 'octocat' },
          item: { key: `o/r#${n}`, kind: 'bug', title: `Issue ${n}` },
          change: { kind: 'created' },
        });
      }
      ctx.unmapped('label', 'good first issue');
      const url = `https://api.example/issues?page=${page}`;
      yield {
        events,
        cursor: page + 1 < pages ? String(page + 1) : null,
        units: perPage,
        total: pages * perPage,
        etags: etag(url) ? {} : { [url]: `"etag-${page}"` },
      };
    }
  },
});

const noHttp: SyncHttp = {
  request: () => Promise.reject(new Error('not used')),
};

describe.each(testEngines())('sync runner on $engine', ({ open }) => {
  let database: Database;
  let ctx: ServiceContext;
  let now = Date.parse('2026-06-01T00:00:00Z');
  beforeEach(async () => {
    database = await open();
    ctx = {
      database,
      logger: pino({ level: 'silent' }),
      clock: () => new Date((now += 1000)),
      newId: randomUUID,
      charter: () => undefined,
    };
  });
  afterEach(async () => {
    await database.close();
  });

  const plan = (stream: SyncStream<unknown>): SyncPlan<unknown> => ({
    source: 'fake',
    scope: 'o/r',
    streams: [stream],
  });

  it('resumes after a failure from the last stored page and ends with every event exactly once', async () => {
    const seen = { cursors: [] as (string | null)[], since: [] as (string | null)[] };
    await expect(
      runSync(ctx, { plan: plan(pagedStream(5, 10, seen, 3)), http: noHttp, mapping: undefined }),
    ).rejects.toThrow(/page 3/);
    expect(await countEvents(database)).toBe(30);
    const stopped = await getCheckpoint(database, 'fake', 'o/r', 'issues');
    expect(stopped).toMatchObject({ cursor: '3', completedAt: null, units: 30 });
    expect(stopped!.lastError).toMatch(/page 3/);

    const result = await runSync(ctx, { plan: plan(pagedStream(5, 10, seen)), http: noHttp, mapping: undefined });
    expect(seen.cursors).toEqual([null, '3']);
    expect(result.streams[0]).toMatchObject({ resumed: true, completed: true, units: 20, stored: 20 });
    expect(await countEvents(database)).toBe(50);
    const done = await getCheckpoint(database, 'fake', 'o/r', 'issues');
    expect(done).toMatchObject({ cursor: null, units: 50, lastError: null });
    expect(done!.completedAt).not.toBeNull();
  });

  it('asks the next run only for what changed since the last complete run started; --full asks for everything', async () => {
    const seen = { cursors: [] as (string | null)[], since: [] as (string | null)[] };
    await runSync(ctx, { plan: plan(pagedStream(2, 5, seen)), http: noHttp, mapping: undefined });
    const first = await getCheckpoint(database, 'fake', 'o/r', 'issues');
    const again = await runSync(ctx, { plan: plan(pagedStream(2, 5, seen)), http: noHttp, mapping: undefined });
    expect(seen.since).toEqual([null, first!.runStartedAt]);
    expect(again.streams[0]).toMatchObject({ stored: 0, duplicates: 10 });
    await runSync(ctx, { plan: plan(pagedStream(2, 5, seen)), http: noHttp, mapping: undefined, since: null });
    expect(seen.since[2]).toBeNull();
    expect(await countEvents(database)).toBe(10);
  });

  it('stops after the current page when asked to, and the next run resumes', async () => {
    const seen = { cursors: [] as (string | null)[], since: [] as (string | null)[] };
    const controller = new AbortController();
    const inner = pagedStream(4, 5, seen);
    // Ctrl-C arrives while the second page is being fetched.
    const interrupted: SyncStream<unknown> = {
      ...inner,
      async *pages(args) {
        let n = 0;
        for await (const page of inner.pages(args)) {
          if (++n === 2) controller.abort();
          yield page;
        }
      },
    };
    const result = await runSync(ctx, {
      plan: plan(interrupted),
      http: noHttp,
      mapping: undefined,
      signal: controller.signal,
    });
    expect(result.interrupted).toBe(true);
    expect(await countEvents(database)).toBe(10);
    await runSync(ctx, { plan: plan(pagedStream(4, 5, seen)), http: noHttp, mapping: undefined });
    expect(seen.cursors).toEqual([null, '2']);
    expect(await countEvents(database)).toBe(20);
  });

  it('counts unmapped values per source and keeps ETags for the next run', async () => {
    const seen = { cursors: [] as (string | null)[], since: [] as (string | null)[] };
    await runSync(ctx, { plan: plan(pagedStream(3, 2, seen)), http: noHttp, mapping: undefined });
    expect(await listUnmapped(database)).toMatchObject([
      { source: 'fake', category: 'label', value: 'good first issue', count: 3 },
    ]);
    const etags = await database.db.selectFrom('http_etag').select(['url', 'etag']).orderBy('url').execute();
    expect(etags.map((e) => e.etag)).toEqual(['"etag-0"', '"etag-1"', '"etag-2"']);
  });

  it('leaves out an event the mapping got wrong, stores the rest, and reports it', async () => {
    const bad: SyncStream<unknown> = {
      name: 'issues',
      unit: 'issues',
      async *pages() {
        yield {
          events: [
            {
              source: 'fake',
              sourceEventId: 'ok',
              occurredAt: '2026-01-01T00:00:00Z',
              item: { key: 'o/r#1' },
              change: { kind: 'created' },
            },
            {
              source: 'fake',
              sourceEventId: 'bad',
              occurredAt: 'yesterday',
              change: { kind: 'created' },
            } as EventInput,
          ],
          cursor: null,
          units: 2,
        };
      },
    };
    const result = await runSync(ctx, { plan: plan(bad), http: noHttp, mapping: undefined });
    expect(result.streams[0]).toMatchObject({ completed: true, stored: 1, invalid: 1 });
    expect(await countEvents(database)).toBe(1);
    const checkpoint = await getCheckpoint(database, 'fake', 'o/r', 'issues');
    expect(checkpoint!.lastError).toMatch(/1 event\(s\) left out as invalid/);
    expect(await listUnmapped(database)).toMatchObject([{ source: 'fake', category: 'invalid_event', count: 1 }]);
  });
});
