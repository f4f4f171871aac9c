import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { GithubMapping } from '../../domain/connector.mapping.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import type { HttpRequest, HttpResponse, SyncHttp, SyncPage, SyncStream } from '../connector.types.js';
import { createHttpClient } from '../http.client.js';
import { devlakeRaw, DEVLAKE_REPO, recordingContext } from './github.fixtures.test-helper.js';
import { githubSyncPlan } from './github.sync.js';

const BASE = 'https://api.test';
const MAPPING: GithubMapping = { repos: { [DEVLAKE_REPO]: { team: 'runtime' } } };

interface Route {
  /** Pages of the list, or one object body. */
  pages: unknown[];
  version?: number;
}

/**
 * A recorded GitHub: serves each path's pages with `Link` and `ETag` headers,
 * answers 304 to a matching `If-None-Match`, and fails the test on any request
 * it has no recording for.
 */
class FakeGithub implements SyncHttp {
  readonly requests: HttpRequest[] = [];
  constructor(readonly routes: Map<string, Route>) {}

  etagOf(path: string): string {
    return `W/"${path}@${this.routes.get(path)?.version ?? 1}"`;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    const url = new URL(req.url, BASE);
    const route = this.routes.get(url.pathname);
    if (!route) throw new Error(`unexpected request ${req.url}`);
    const page = Number(url.searchParams.get('page') ?? '1');
    const headers = new Headers();
    const etag = this.etagOf(url.pathname);
    if (page === 1) headers.set('etag', etag);
    if (page === 1 && req.etag === etag) return { status: 304, headers, body: null, url: url.toString() };
    if (page < route.pages.length) {
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      headers.set('link', `<${next.toString()}>; rel="next", <${BASE}${url.pathname}?page=1>; rel="first"`);
    }
    const body = route.pages[page - 1];
    if (body === undefined) throw new Error(`no page ${page} of ${url.pathname}`);
    return { status: 200, headers, body, url: url.toString() };
  }
}

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out.length > 0 ? out : [[]];
};

type Raw = Record<string, unknown> & { number: number; updated_at: string; pull_request?: unknown };
type RawEvent = Record<string, unknown> & { issue: Raw; created_at: string; id: number };

/** The DevLake issues plus the issues embedded in its events, with those events as their timelines. */
const recordedIssues = (pageSize: number): { routes: Map<string, Route>; issues: Raw[] } => {
  const events = devlakeRaw<RawEvent>('_raw_github_api_events');
  const byNumber = new Map<number, Raw>();
  for (const issue of devlakeRaw<Raw>('_raw_github_api_issues')) byNumber.set(issue.number, issue);
  for (const event of events) byNumber.set(event.issue.number, event.issue);
  const issues = [...byNumber.values()].sort((a, b) => a.updated_at.localeCompare(b.updated_at));
  const routes = new Map<string, Route>();
  routes.set(`/repos/${DEVLAKE_REPO}/issues`, { pages: chunk(issues, pageSize) });
  for (const issue of issues) {
    const timeline = events
      .filter((e) => e.issue.number === issue.number)
      .map(({ issue: _issue, ...rest }) => rest)
      .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
    // Two pages for one issue, to show timelines are followed to the end.
    routes.set(`/repos/${DEVLAKE_REPO}/issues/${issue.number}/timeline`, {
      pages: issue.number === 228 ? chunk(timeline, 3) : [timeline],
    });
  }
  return { routes, issues };
};

const streamOf = (name: string): SyncStream<GithubMapping> =>
  githubSyncPlan(DEVLAKE_REPO).streams.find((s) => s.name === name)!;

const collect = async (
  stream: SyncStream<GithubMapping>,
  http: SyncHttp,
  options: { cursor?: string | null; since?: string | null; etags?: Record<string, string>; stopAfter?: number } = {},
): Promise<SyncPage[]> => {
  const { ctx } = recordingContext(MAPPING);
  const pages: SyncPage[] = [];
  for await (const page of stream.pages({
    http,
    cursor: options.cursor ?? null,
    since: options.since ?? null,
    etag: (url) => options.etags?.[url],
    ctx,
  })) {
    const checked = validateEventBatch(page.events);
    if (!checked.ok) throw new Error(JSON.stringify(checked.rejections.slice(0, 3)));
    pages.push(page);
    if (options.stopAfter !== undefined && pages.length >= options.stopAfter) break;
  }
  return pages;
};

const ids = (pages: SyncPage[]): string[] => pages.flatMap((p) => p.events.map((e) => e.sourceEventId));
const allEvents = (pages: SyncPage[]): EventInput[] => pages.flatMap((p) => p.events);

describe('githubSyncPlan', () => {
  it('names its source, scope and four streams', () => {
    const plan = githubSyncPlan('acme/pay');
    expect(plan.source).toBe('github');
    expect(plan.scope).toBe('acme/pay');
    expect(plan.streams.map((s) => s.name)).toEqual(['issues', 'pulls', 'deployments', 'runs']);
  });
});

describe('issues stream', () => {
  it('walks every list page with its timelines, skipping pull requests', async () => {
    const { routes, issues } = recordedIssues(10);
    const http = new FakeGithub(routes);
    const pages = await collect(streamOf('issues'), http);
    const plain = issues.filter((i) => !i.pull_request);
    expect(pages).toHaveLength(Math.ceil(issues.length / 10));
    expect(pages.reduce((n, p) => n + p.units, 0)).toBe(plain.length);
    expect(pages.slice(0, -1).every((p) => p.cursor?.startsWith(`${BASE}/repos/${DEVLAKE_REPO}/issues?`))).toBe(true);
    expect(pages.at(-1)!.cursor).toBeNull();

    const first = http.requests[0]!;
    expect(first.url).toBe(`/repos/${DEVLAKE_REPO}/issues?state=all&sort=updated&direction=asc&per_page=100`);
    expect(http.requests.some((r) => /\/issues\/(206|210|211|4)\/timeline/.test(r.url))).toBe(false);
    expect(http.requests.filter((r) => r.url.includes('/issues/228/timeline'))).toHaveLength(2);

    const events = allEvents(pages);
    const created = events.filter((e) => e.change.kind === 'created');
    expect(created).toHaveLength(plain.length);
    const of228 = events.filter((e) => e.item?.key === 'panjf2000/ants#228').map((e) => e.change.kind);
    expect(of228).toEqual(['created', 'label_added', 'label_added', 'field_changed', 'field_changed', 'closed']);
    expect(new Set(ids(pages)).size).toBe(events.length);

    // The list spans pages, so its ETag is not kept; single-page timelines' are.
    const etags = Object.assign({}, ...pages.map((p) => p.etags ?? {})) as Record<string, string>;
    expect(Object.keys(etags).some((u) => u.includes('/issues?'))).toBe(false);
    expect(etags[`/repos/${DEVLAKE_REPO}/issues/212/timeline?per_page=100`]).toBe(
      http.etagOf(`/repos/${DEVLAKE_REPO}/issues/212/timeline`),
    );
    expect(Object.keys(etags).some((u) => u.includes('/issues/228/'))).toBe(false);
  });

  it('resumes from a saved cursor where it stopped, with nothing lost', async () => {
    const { routes } = recordedIssues(10);
    const full = ids(await collect(streamOf('issues'), new FakeGithub(routes)));
    const firstRun = await collect(streamOf('issues'), new FakeGithub(routes), { stopAfter: 2 });
    expect(firstRun).toHaveLength(2);
    const cursor = firstRun[1]!.cursor!;
    expect(new URL(cursor).searchParams.get('page')).toBe('3');
    const http = new FakeGithub(routes);
    const rest = await collect(streamOf('issues'), http, { cursor });
    expect(http.requests[0]!.url).toBe(cursor);
    expect(http.requests[0]!.etag).toBeUndefined();
    expect([...ids(firstRun), ...ids(rest)]).toEqual(full);
  });

  it('asks only for what changed since the last run', async () => {
    const { routes } = recordedIssues(100);
    const http = new FakeGithub(routes);
    await collect(streamOf('issues'), http, { since: '2022-06-01T00:00:00.000Z' });
    expect(http.requests[0]!.url).toContain('since=2022-06-01T00%3A00%3A00.000Z');
  });

  it('ends with no events when the first page answers 304, and skips unchanged timelines', async () => {
    const { routes } = recordedIssues(100);
    const firstRun = await collect(streamOf('issues'), new FakeGithub(routes));
    expect(firstRun).toHaveLength(1);
    const etags = firstRun[0]!.etags!;
    const listUrl = `/repos/${DEVLAKE_REPO}/issues?state=all&sort=updated&direction=asc&per_page=100`;
    expect(etags[listUrl]).toBeDefined();

    const unchanged = new FakeGithub(routes);
    expect(await collect(streamOf('issues'), unchanged, { etags })).toEqual([]);
    expect(unchanged.requests).toHaveLength(1);

    // The list changed, the timelines did not: issues are mapped without asking for their history again.
    routes.get(`/repos/${DEVLAKE_REPO}/issues`)!.version = 2;
    const http = new FakeGithub(routes);
    const pages = await collect(streamOf('issues'), http, { etags });
    const timelineRequests = http.requests.filter((r) => r.url.includes('/timeline'));
    expect(timelineRequests.filter((r) => r.etag !== undefined).length).toBeGreaterThan(10);
    const events = allEvents(pages);
    expect(events.filter((e) => e.change.kind === 'created').length).toBeGreaterThan(20);
    // Only #228's timeline (two pages, so no ETag kept) is read again.
    const labelled = new Set(events.filter((e) => e.change.kind === 'label_added').map((e) => e.item?.key));
    expect(labelled).toEqual(new Set(['panjf2000/ants#228']));
  });
});

describe('pulls stream', () => {
  const pulls = devlakeRaw<Raw & { url: string }>('_raw_github_api_pull_requests').sort((a, b) =>
    a.updated_at.localeCompare(b.updated_at),
  );
  const reviews = devlakeRaw<{ pull_request_url: string }>('_raw_github_api_pull_request_reviews');
  const routes = (): Map<string, Route> => {
    const map = new Map<string, Route>([[`/repos/${DEVLAKE_REPO}/pulls`, { pages: chunk(pulls, 20) }]]);
    for (const pull of pulls) {
      const own = reviews.filter((r) => r.pull_request_url.endsWith(`/pulls/${pull.number}`));
      map.set(`/repos/${DEVLAKE_REPO}/pulls/${pull.number}/reviews`, { pages: [own] });
    }
    return map;
  };

  it('maps every pull request and its reviews, page by page', async () => {
    const http = new FakeGithub(routes());
    const pages = await collect(streamOf('pulls'), http);
    expect(pages.map((p) => p.units)).toEqual([20, 20, pulls.length - 40]);
    expect(pages.map((p) => p.cursor === null)).toEqual([false, false, true]);
    const events = allEvents(pages);
    const opened = events.filter((e) => e.change.kind === 'pr_opened' && !e.sourceEventId.includes('/for/'));
    expect(opened).toHaveLength(pulls.length);
    expect(events.filter((e) => e.change.kind === 'review_submitted')).toHaveLength(reviews.length);
    expect(http.requests[0]!.url).toBe(
      `/repos/${DEVLAKE_REPO}/pulls?state=all&sort=updated&direction=asc&per_page=100`,
    );
  });

  it('skips pull requests not updated since the last run', async () => {
    const since = '2022-01-01T00:00:00Z';
    const http = new FakeGithub(routes());
    const pages = await collect(streamOf('pulls'), http, { since });
    const recent = pulls.filter((p) => p.updated_at >= since);
    const opened = allEvents(pages).filter((e) => e.change.kind === 'pr_opened' && !e.sourceEventId.includes('/for/'));
    expect(opened.map((e) => e.item?.key).sort()).toEqual(recent.map((p) => `${DEVLAKE_REPO}#${p.number}`).sort());
    expect(pages.reduce((n, p) => n + p.units, 0)).toBe(pulls.length);
    expect(http.requests.filter((r) => r.url.includes('/reviews'))).toHaveLength(recent.length);
  });
});

describe('runs stream', () => {
  const runs = devlakeRaw<Record<string, unknown>>('_raw_github_api_runs');
  const routes = () =>
    new Map<string, Route>([
      [
        `/repos/${DEVLAKE_REPO}/actions/runs`,
        { pages: chunk(runs, 20).map((page) => ({ total_count: runs.length, workflow_runs: page })) },
      ],
    ]);

  it('reports the total and maps every run', async () => {
    const http = new FakeGithub(routes());
    const pages = await collect(streamOf('runs'), http, { since: '2022-09-01T08:00:00Z' });
    expect(pages.map((p) => [p.units, p.total])).toEqual([
      [20, runs.length],
      [runs.length - 20, runs.length],
    ]);
    expect(allEvents(pages)).toHaveLength(runs.length);
    expect(allEvents(pages).every((e) => e.change.kind === 'ci_run' && !e.item)).toBe(true);
    expect(http.requests[0]!.url).toBe(`/repos/${DEVLAKE_REPO}/actions/runs?per_page=100&created=%3E%3D2022-09-01`);
  });
});

describe('deployments stream', () => {
  const deployment = (id: number, at: string) => ({
    id,
    sha: `sha${id}`,
    ref: 'main',
    environment: id % 2 ? 'production' : 'staging',
    creator: { login: 'octocat', type: 'User' },
    created_at: at,
    updated_at: at,
  });
  const routes = () => {
    const deployments = [
      deployment(4, '2024-04-04T00:00:00Z'),
      deployment(3, '2024-03-03T00:00:00Z'),
      deployment(2, '2024-02-02T00:00:00Z'),
      deployment(1, '2024-01-01T00:00:00Z'),
    ];
    const map = new Map<string, Route>([[`/repos/${DEVLAKE_REPO}/deployments`, { pages: chunk(deployments, 2) }]]);
    for (const d of deployments) {
      map.set(`/repos/${DEVLAKE_REPO}/deployments/${d.id}/statuses`, {
        pages: [
          [
            {
              id: d.id * 10,
              state: 'success',
              creator: null,
              created_at: d.created_at.replace('00:00:00', '00:05:00'),
            },
          ],
        ],
      });
    }
    return map;
  };

  it('maps deployments and their statuses', async () => {
    const pages = await collect(streamOf('deployments'), new FakeGithub(routes()));
    const events = allEvents(pages);
    expect(events).toHaveLength(8);
    expect(events.filter((e) => e.change.data?.['production'] === true)).toHaveLength(4);
    expect(events.map((e) => e.change.data?.['state'])).toContain('success');
  });

  it('stops at the first page with nothing since the last run', async () => {
    const http = new FakeGithub(routes());
    const pages = await collect(streamOf('deployments'), http, { since: '2024-03-15T00:00:00Z' });
    expect(pages.map((p) => p.cursor === null)).toEqual([false, true]);
    expect(allEvents(pages).map((e) => e.sourceEventId)).toEqual([
      `${DEVLAKE_REPO}/deployment/4`,
      `${DEVLAKE_REPO}/deployment/4/status/40`,
    ]);
  });
});

describe('through the real HTTP client', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('follows Link headers under a GitHub Enterprise base path', async () => {
    const seen: string[] = [];
    server = createServer((req, res) => {
      seen.push(req.url!);
      const url = new URL(req.url!, 'http://127.0.0.1');
      const page = Number(url.searchParams.get('page') ?? '1');
      const origin = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (page === 1)
        headers['link'] = `<${origin}/api/v3/repos/acme/pay/actions/runs?per_page=100&page=2>; rel="next"`;
      res.writeHead(200, headers);
      const run = { id: page, status: 'completed', conclusion: 'success', created_at: '2024-01-01T00:00:00Z' };
      res.end(JSON.stringify({ total_count: 2, workflow_runs: [run] }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const http = createHttpClient({ baseUrl: `http://127.0.0.1:${port}/api/v3`, maxAttempts: 1 });
    const stream = githubSyncPlan('acme/pay').streams.find((s) => s.name === 'runs')!;
    const pages = await collect(stream, http);
    expect(seen).toEqual([
      '/api/v3/repos/acme/pay/actions/runs?per_page=100',
      '/api/v3/repos/acme/pay/actions/runs?per_page=100&page=2',
    ]);
    expect(allEvents(pages).map((e) => e.sourceEventId)).toEqual([
      'acme/pay/run/1/1/completed',
      'acme/pay/run/2/1/completed',
    ]);
  });
});
