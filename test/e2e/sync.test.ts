import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpClient } from '../../src/connectors/http.client.js';
import { githubSyncPlan } from '../../src/connectors/github/github.sync.js';
import { runSync } from '../../src/services/sync.service.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { countEvents } from '../../src/store/event.repository.js';
import { getCheckpoint } from '../../src/store/connector.repository.js';
import { startFakeApi, type FakeAnswer, type FakeApi, type FakeRequest } from '../support/fake-api.js';

/**
 * `lanes sync github` as a user runs it, in its own process, against a local
 * server that answers like GitHub from recorded pages (DevLake's real
 * responses for panjf2000/ants), with the failures real syncs meet: primary
 * rate-limit exhaustion, a 502, a request that never answers, a retry-after,
 * and finally the process killed with SIGKILL in the middle of a page.
 */
const REPO = 'panjf2000/ants';
const PAGE = 5;
const RAW = join(import.meta.dirname, '..', 'fixtures', 'external', 'devlake-e2e', 'github', 'e2e', 'raw_tables');

const raw = (table: string): Record<string, unknown>[] => {
  const seen = new Set<unknown>();
  const rows = parse(readFileSync(join(RAW, `${table}.csv`), 'utf8'), { columns: true, relax_quotes: true }) as {
    data: string;
  }[];
  return rows
    .map((r) => JSON.parse(r.data) as Record<string, unknown>)
    .filter((d) => (seen.has(d['id']) ? false : (seen.add(d['id']), true)));
};

const issues = raw('_raw_github_api_issues').sort((a, b) =>
  String(a['updated_at']).localeCompare(String(b['updated_at'])),
);
const timelines = new Map<number, Record<string, unknown>[]>();
for (const e of raw('_raw_github_api_events')) {
  const number = (e['issue'] as { number: number }).number;
  const { issue: _issue, ...event } = e;
  timelines.set(number, [...(timelines.get(number) ?? []), event]);
}
const pages = Math.ceil(issues.length / PAGE);
/** An issue (not a pull request) on the second page or later: its timeline request never answers once. */
const hangingIssue = Number(issues.slice(PAGE).find((i) => !i['pull_request'])!['number']);

interface Faults {
  enabled: boolean;
  seen: Set<string>;
  onPage?: (page: number) => FakeAnswer | undefined;
}

const githubLike =
  (faults: Faults) =>
  (req: FakeRequest, base: string): FakeAnswer => {
    const once = (key: string): boolean => {
      if (!faults.enabled || faults.seen.has(key)) return false;
      faults.seen.add(key);
      return true;
    };
    const list = new RegExp(`^/repos/${REPO}/issues$`).exec(req.path);
    if (list) {
      const page = Number(req.url.searchParams.get('page') ?? '1');
      if (page === 2 && once('rate-limit')) {
        return {
          status: 403,
          headers: {
            'x-ratelimit-limit': '5000',
            'x-ratelimit-remaining': '0',
            'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 1),
          },
          body: { message: 'API rate limit exceeded' },
        };
      }
      if (page === 3 && once('bad-gateway')) return { status: 502, body: { message: 'Server Error' } };
      if (page === 4 && once('retry-after')) return { status: 429, headers: { 'retry-after': '1' }, body: {} };
      const special = faults.enabled ? faults.onPage?.(page) : undefined;
      if (special) return special;
      const next = new URL(req.url.toString().replace(req.url.origin, base));
      next.searchParams.set('per_page', String(PAGE));
      next.searchParams.set('page', String(page + 1));
      const last = new URL(next);
      last.searchParams.set('page', String(pages));
      return {
        headers: {
          etag: `"list-${page}"`,
          ...(page < pages ? { link: `<${next.toString()}>; rel="next", <${last.toString()}>; rel="last"` } : {}),
        },
        body: issues.slice((page - 1) * PAGE, page * PAGE),
      };
    }
    const timeline = new RegExp(`^/repos/${REPO}/issues/(\\d+)/timeline$`).exec(req.path);
    if (timeline) {
      const n = Number(timeline[1]);
      if (n === hangingIssue && once('hang')) return { hang: true };
      if (req.headers['if-none-match'] === `"timeline-${n}"`) return { status: 304 };
      return { headers: { etag: `"timeline-${n}"` }, body: timelines.get(n) ?? [] };
    }
    return { status: 404, body: { message: 'Not Found' } };
  };

const runCliProcess = (
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; out: string; err: string }> } => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, '..', 'support', 'lanes-cli.ts'), ...args],
    { env: { ...process.env, CI: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, done };
};

describe('lanes sync github against a GitHub that misbehaves', () => {
  let dir: string;
  let reference: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lanes-sync-e2e-'));
    // The reference: the same recorded pages synced in-process with no faults.
    const api = await startFakeApi(githubLike({ enabled: false, seen: new Set() }));
    const database = await openDatabase({ url: ':memory:' });
    try {
      const totals: (number | undefined)[] = [];
      await runSync(
        {
          database,
          logger: pino({ level: 'silent' }),
          clock: () => new Date(),
          newId: () => crypto.randomUUID(),
          charter: () => undefined,
        },
        {
          plan: githubSyncPlan(REPO),
          http: createHttpClient({ baseUrl: api.url }),
          mapping: undefined,
          streams: ['issues'],
          progress: {
            streamStarted: () => {},
            pageStored: (_stream, p) => void totals.push(p.total),
            streamFinished: () => {},
            waiting: () => {},
          },
        },
      );
      reference = await countEvents(database);
      // GitHub sends no count; the rel="last" link gives the estimate behind the ETA.
      expect(totals[0]).toBe(pages * PAGE);
    } finally {
      await database.close();
      await api.close();
    }
    expect(reference).toBeGreaterThan(issues.length);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('waits out rate limits, retries a 502 and a timeout, survives SIGKILL, and ends with every event once', async () => {
    const dbPath = join(dir, 'lanes.db');
    let victim: ChildProcess | undefined;
    const faults: Faults = {
      enabled: true,
      seen: new Set(),
      onPage: (page) => {
        if (page === 6 && !faults.seen.has('kill')) {
          faults.seen.add('kill');
          victim?.kill('SIGKILL');
          return { hang: true };
        }
        return undefined;
      },
    };
    const api: FakeApi = await startFakeApi(githubLike(faults));
    const env = {
      LANES_GITHUB_API_URL: api.url,
      LANES_GITHUB_TOKEN: 'ghp_test_token',
      LANES_DATABASE_URL: dbPath,
      LANES_CHARTER: join(dir, 'missing-lanes.yaml'),
      LANES_SYNC_TIMEOUT_MS: '500',
      LANES_SYNC_BACKOFF_MS: '50',
      LANES_LOG_LEVEL: 'silent',
    };
    const args = ['sync', 'github', '--repo', REPO, '--stream', 'issues'];
    try {
      const first = runCliProcess(args, env);
      victim = first.child;
      const killed = await first.done;
      expect(killed.signal).toBe('SIGKILL');
      // The plain (non-terminal) progress said why it waited.
      expect(killed.err).toMatch(/rate limited \(HTTP 403\); waiting/);
      expect(killed.err).toMatch(/HTTP 502; retrying/);
      expect(killed.err).toMatch(/timed out after 500 ms; retrying/);
      expect(killed.err).toMatch(/rate limited \(HTTP 429\); waiting 1s/);

      const database: Database = await openDatabase({ url: dbPath });
      const partial = await countEvents(database);
      const checkpoint = await getCheckpoint(database, 'github', REPO, 'issues');
      await database.close();
      expect(partial).toBeGreaterThan(0);
      expect(partial).toBeLessThan(reference);
      expect(checkpoint).toMatchObject({ completedAt: null });
      expect(checkpoint!.cursor).toMatch(/page=\d+/);

      const second = await runCliProcess(args, env).done;
      expect(second.code, second.err).toBe(0);
      expect(second.err).toMatch(/resuming where the last run stopped/);
      expect(second.out).toMatch(/Synced github panjf2000\/ants/);

      const after = await openDatabase({ url: dbPath });
      try {
        expect(await countEvents(after)).toBe(reference);
        const done = await getCheckpoint(after, 'github', REPO, 'issues');
        expect(done).toMatchObject({ cursor: null, units: expect.any(Number) });
        expect(done!.completedAt).not.toBeNull();
      } finally {
        await after.close();
      }
      // The resumed run started at the stored cursor, not from page 1.
      const listPages = api.requests
        .filter((r) => r.path === `/repos/${REPO}/issues`)
        .map((r) => r.url.searchParams.get('page') ?? '1');
      expect(listPages.filter((p) => p === '1')).toHaveLength(1);
      // Every request carried the token.
      expect(api.requests.every((r) => r.headers['authorization'] === 'Bearer ghp_test_token')).toBe(true);
    } finally {
      victim?.kill('SIGKILL');
      await api.close();
    }
  }, 60_000);

  it('a full re-run asks for every timeline with its remembered ETag; 304s store nothing new', async () => {
    const dbPath = join(dir, 'again.db');
    const api = await startFakeApi(githubLike({ enabled: false, seen: new Set() }));
    const env = {
      LANES_GITHUB_API_URL: api.url,
      LANES_GITHUB_TOKEN: 't',
      LANES_DATABASE_URL: dbPath,
      LANES_CHARTER: join(dir, 'missing-lanes.yaml'),
      LANES_LOG_LEVEL: 'silent',
    };
    try {
      const args = ['sync', 'github', '--repo', REPO, '--stream', 'issues'];
      expect((await runCliProcess(args, env).done).code).toBe(0);
      const before = api.requests.length;
      const again = await runCliProcess([...args, '--full'], env).done;
      expect(again.code, again.err).toBe(0);
      expect(again.out).toMatch(/; 0 new events/);
      const second = api.requests.slice(before).filter((r) => r.path.endsWith('/timeline'));
      expect(second.length).toBeGreaterThan(10);
      for (const r of second) expect(r.headers['if-none-match']).toMatch(/^"timeline-\d+"$/);
    } finally {
      await api.close();
    }
  }, 60_000);
});
