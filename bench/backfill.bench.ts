import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { HttpRequest, HttpResponse, SyncHttp } from '../src/connectors/connector.types.js';
import { mapRestIssue } from '../src/connectors/github/github.mapper.js';
import { githubSyncPlan } from '../src/connectors/github/github.sync.js';
import { toLoggedEvent } from '../src/services/events.service.js';
import { runSync } from '../src/services/sync.service.js';
import { openDatabase } from '../src/store/database.js';
import { EVENT_COLUMNS, eventToRow } from '../src/store/event.mapper.js';
import { BENCH_NOW, counterIds, demoCharter, demoContext } from './bench.context.js';
import { figure, seconds, writeResults } from './bench.lib.js';

/**
 * `backfill`: recorded GitHub pages mapped into the event log through the real
 * sync path (`githubSyncPlan` → `runSync` → `appendEvents`), issues with their
 * timelines. The pages are served from memory, so the API's time is excluded
 * by construction. They are DevLake's real panjf2000/ants issues and issue
 * events, repeated with fresh numbers and ids up to BENCH_BACKFILL_ISSUES.
 * Floor: a raw prepared insert of the same events into the same table.
 */
const ISSUES = Number(process.env['BENCH_BACKFILL_ISSUES'] ?? 20_000);
const REPO = 'acme/payments-api';
const RAW = join(
  import.meta.dirname,
  '..',
  'test',
  'fixtures',
  'external',
  'devlake-e2e',
  'github',
  'e2e',
  'raw_tables',
);

const raw = (table: string): Record<string, unknown>[] =>
  (
    parse(readFileSync(join(RAW, `${table}.csv`), 'utf8'), { columns: true, relax_quotes: true }) as { data: string }[]
  ).map((r) => JSON.parse(r.data) as Record<string, unknown>);

interface Recorded {
  issues: Record<string, unknown>[];
  timelines: Map<number, Record<string, unknown>[]>;
}

const recordedPages = (): Recorded => {
  const templates = raw('_raw_github_api_issues').filter((i) => !i['pull_request']);
  const eventTemplates = raw('_raw_github_api_events').map(({ issue: _issue, ...e }) => e);
  const issues: Record<string, unknown>[] = [];
  const timelines = new Map<number, Record<string, unknown>[]>();
  let eventId = 1;
  for (let n = 1; n <= ISSUES; n++) {
    const t = templates[n % templates.length]!;
    issues.push({ ...t, id: 10_000_000 + n, number: n, html_url: `https://github.com/${REPO}/issues/${n}` });
    const timeline: Record<string, unknown>[] = [];
    const count = 3 + (n % 6);
    for (let k = 0; k < count; k++) {
      const e = eventTemplates[(n * 7 + k) % eventTemplates.length]!;
      timeline.push({ ...e, id: eventId++ });
    }
    timelines.set(n, timeline);
  }
  return { issues, timelines };
};

/** Answers the issues list (100 a page, Link headers) and each timeline from memory. */
const memoryGithub = (recorded: Recorded): SyncHttp => ({
  request: async (req: HttpRequest): Promise<HttpResponse> => {
    const url = new URL(req.url, 'https://api.github.test');
    const timeline = /\/issues\/(\d+)\/timeline$/.exec(url.pathname);
    if (timeline) {
      return {
        status: 200,
        headers: new Headers({ etag: `"t${timeline[1]}"` }),
        body: recorded.timelines.get(Number(timeline[1])) ?? [],
        url: url.toString(),
      };
    }
    if (url.pathname.endsWith('/issues')) {
      const page = Number(url.searchParams.get('page') ?? '1');
      const body = recorded.issues.slice((page - 1) * 100, page * 100);
      const headers = new Headers();
      if (page * 100 < recorded.issues.length) {
        url.searchParams.set('page', String(page + 1));
        headers.set('link', `<${url.toString()}>; rel="next"`);
      }
      return { status: 200, headers, body, url: url.toString() };
    }
    return { status: 200, headers: new Headers(), body: [], url: url.toString() };
  },
});

export const run = async (): Promise<void> => {
  const recorded = recordedPages();
  const dir = mkdtempSync(join(tmpdir(), 'lanes-bench-backfill-'));
  try {
    // Floor: the same events, mapped beforehand, inserted raw.
    const { index } = demoCharter();
    const ctxMap = { mapping: demoCharter().charter.connectors?.github, unmapped: () => {} };
    const rows = recorded.issues
      .flatMap((issue) =>
        mapRestIssue(REPO, issue as never, ctxMap, recorded.timelines.get(issue['number'] as number) as never),
      )
      .map((e, i) => eventToRow(toLoggedEvent(e, index, `f${i}`, BENCH_NOW.toISOString())));
    const floorDb = await openDatabase({ url: join(dir, 'floor.db') });
    const insert = floorDb.sqlite!.prepare(
      `INSERT INTO event (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`,
    );
    const insertAll = floorDb.sqlite!.transaction((batch: typeof rows) => {
      for (const r of batch) insert.run(EVENT_COLUMNS.map((c) => r[c]));
    });
    let started = process.hrtime.bigint();
    for (let i = 0; i < rows.length; i += 5000) insertAll(rows.slice(i, i + 5000));
    const floorIssuesPerSecond = ISSUES / seconds(started);
    await floorDb.close();

    const database = await openDatabase({ url: join(dir, 'lanes.db') });
    const ctx = demoContext(database, { newId: counterIds('b-'), clock: () => new Date() });
    started = process.hrtime.bigint();
    const result = await runSync(ctx, {
      plan: githubSyncPlan(REPO) as never,
      http: memoryGithub(recorded),
      mapping: demoCharter().charter.connectors?.github,
      streams: ['issues'],
    });
    const elapsed = seconds(started);
    await database.close();
    const stored = result.streams[0]!.stored;
    console.error(
      `backfill: ${ISSUES} issues, ${stored} events stored (${rows.length} in the floor) in ${elapsed.toFixed(2)} s`,
    );
    const value = ISSUES / elapsed;
    writeResults('backfill', [
      figure({
        name: `github backfill, issues with timelines (${ISSUES} issues, ${stored} events, SQLite)`,
        value,
        unit: 'issues/s',
        floor: floorIssuesPerSecond,
        ratio: value / floorIssuesPerSecond,
        target: '>= 5000 issues/s including timelines (floor: raw insert of the same events)',
        pass: value >= 5000 && stored === rows.length,
      }),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
