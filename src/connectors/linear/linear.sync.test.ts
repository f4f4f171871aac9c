import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LinearMapping } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import type { HttpRequest, HttpResponse, MapContext, SyncHttp, SyncPage } from '../connector.types.js';
import { createHttpClient } from '../http.client.js';
import { linearSyncPlan, type LinearHistoryEntry, type LinearIssue } from './linear.sync.js';
import { linearWebhooks } from './linear.webhook.js';

const mapping: LinearMapping = { teams: { ENG: { team: 'payments', component: 'checkout' } } };

const ada = { id: 'user-ada', name: 'Ada' };
const bob = { id: 'user-bob', name: 'Bob' };

const entry = (id: string, createdAt: string, fields: Partial<LinearHistoryEntry>): LinearHistoryEntry => ({
  id,
  createdAt,
  actor: ada,
  ...fields,
});

const issue = (n: number, fields: Partial<LinearIssue>): LinearIssue => ({
  id: `issue-${n}`,
  identifier: `ENG-${n}`,
  number: n,
  title: `Issue ${n}`,
  createdAt: '2026-04-01T09:00:00.000Z',
  updatedAt: '2026-04-03T09:00:00.000Z',
  url: `https://linear.app/acme/issue/ENG-${n}`,
  priority: 0,
  estimate: null,
  team: { key: 'ENG' },
  state: { name: 'Backlog', type: 'backlog' },
  assignee: null,
  creator: bob,
  labels: { nodes: [] },
  cycle: null,
  history: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } },
  ...fields,
});

/** ENG-1: created in Backlog, started, finished; labelled sev2 after creation. */
const eng1 = issue(1, {
  title: 'Checkout fails with 500',
  state: { name: 'Done', type: 'completed' },
  labels: { nodes: [{ name: 'Bug' }, { name: 'sev2' }] },
  history: {
    nodes: [
      // Linear returns newest first; the mapper must not care.
      entry('h1-3', '2026-04-02T15:00:00.000Z', {
        fromState: { name: 'In Progress', type: 'started' },
        toState: { name: 'Done', type: 'completed' },
      }),
      entry('h1-2', '2026-04-02T10:00:00.000Z', { addedLabels: [{ name: 'sev2' }] }),
      entry('h1-1', '2026-04-01T10:00:00.000Z', {
        fromState: { name: 'Backlog', type: 'backlog' },
        toState: { name: 'In Progress', type: 'started' },
        fromCycle: null,
        toCycle: { name: null, number: 7 },
      }),
    ],
    pageInfo: { hasNextPage: false, endCursor: null },
  },
});

/** ENG-2: history on two pages (assignee, then priority and estimate, then a system change). */
const eng2 = issue(2, {
  priority: 1,
  estimate: 5,
  assignee: bob,
  history: {
    nodes: [
      entry('h2-1', '2026-04-01T11:00:00.000Z', { fromAssignee: null, toAssignee: ada }),
      entry('h2-2', '2026-04-01T12:00:00.000Z', { fromAssignee: ada, toAssignee: bob }),
    ],
    pageInfo: { hasNextPage: true, endCursor: 'h2-page-2' },
  },
});
const eng2More: LinearHistoryEntry[] = [
  entry('h2-3', '2026-04-02T08:00:00.000Z', { fromPriority: 3, toPriority: 1, fromEstimate: null, toEstimate: 5 }),
  entry('h2-4', '2026-04-02T09:00:00.000Z', { actor: null, fromTitle: 'Issue 2', toTitle: 'Issue 2' }),
];

const eng3 = issue(3, { state: { name: 'Triage', type: 'triage' }, team: { key: 'ENG' } });

interface GraphqlBody {
  query: string;
  variables: Record<string, unknown>;
}

/** A fake Linear GraphQL endpoint: two issue pages, and a second history page for ENG-2. */
class FakeLinear implements SyncHttp {
  readonly requests: GraphqlBody[] = [];
  errors: unknown[] | undefined;
  headers = new Headers();

  async request(req: HttpRequest): Promise<HttpResponse> {
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/graphql');
    const body = req.body as GraphqlBody;
    this.requests.push(body);
    const answer = (data: unknown): HttpResponse => ({
      status: 200,
      headers: this.headers,
      body: this.errors ? { data: null, errors: this.errors } : { data },
      url: 'https://api.linear.app/graphql',
    });
    if (body.query.includes('LanesIssueHistory')) {
      expect(body.variables).toEqual({ id: 'issue-2', cursor: 'h2-page-2' });
      return answer({ issue: { history: { nodes: eng2More, pageInfo: { hasNextPage: false, endCursor: 'x' } } } });
    }
    if (body.variables['cursor'] === null) {
      return answer({ issues: { nodes: [eng1, eng2], pageInfo: { hasNextPage: true, endCursor: 'page-2' } } });
    }
    expect(body.variables['cursor']).toBe('page-2');
    return answer({ issues: { nodes: [eng3], pageInfo: { hasNextPage: false, endCursor: 'page-3' } } });
  }
}

const context = () => {
  const unmapped: string[] = [];
  const ctx: MapContext<LinearMapping> = { mapping, unmapped: (c, v) => unmapped.push(`${c}:${v}`) };
  return { ctx, unmapped };
};

const run = async (http: SyncHttp, cursor: string | null = null, since: string | null = null) => {
  const { ctx, unmapped } = context();
  const [stream] = linearSyncPlan('ENG').streams;
  const pages: SyncPage[] = [];
  for await (const page of stream!.pages({ http, cursor, since, etag: () => undefined, ctx })) pages.push(page);
  return { pages, unmapped, events: pages.flatMap((p) => p.events) };
};

const summary = (events: EventInput[], key: string) =>
  events
    .filter((e) => e.item?.key === key)
    .map((e) => [
      e.occurredAt,
      e.actor?.id ?? null,
      e.change.kind,
      e.change.field ?? e.change.target ?? null,
      e.change.to,
    ]);

const codeOf = async (promise: Promise<unknown>): Promise<AppError> => {
  try {
    await promise;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
};

describe('linear sync', () => {
  it('reads both issue pages and the second history page, with cursors and unit counts', async () => {
    const http = new FakeLinear();
    const { pages, events, unmapped } = await run(http);
    expect(pages.map((p) => [p.cursor, p.units])).toEqual([
      ['page-2', 2],
      [null, 1],
    ]);
    expect(
      http.requests.map((r) => (r.query.includes('LanesIssueHistory') ? 'history' : r.variables['cursor'])),
    ).toEqual([null, 'history', 'page-2']);
    expect(http.requests[0]!.variables['filter']).toEqual({ team: { key: { eq: 'ENG' } } });
    const checked = validateEventBatch(events);
    expect(checked.ok ? [] : checked.rejections).toEqual([]);
    expect(unmapped).toEqual([]);
  });

  it('rebuilds the issue as created, then replays its history', async () => {
    const { events } = await run(new FakeLinear());
    const created = events.find((e) => e.sourceEventId === 'issue-1/created')!;
    // Created in Backlog, without the sev2 label added later; created by Bob.
    expect(created).toMatchObject({
      occurredAt: '2026-04-01T09:00:00.000Z',
      actor: { kind: 'linear', id: 'user-bob', name: 'Bob' },
      item: {
        key: 'ENG-1',
        kind: 'bug',
        state: 'acknowledged',
        team: 'payments',
        component: 'checkout',
        title: 'Checkout fails with 500',
      },
    });
    expect(created.item).not.toHaveProperty('severity');
    expect(summary(events, 'ENG-1')).toEqual([
      ['2026-04-01T09:00:00.000Z', 'user-bob', 'created', null, undefined],
      ['2026-04-01T10:00:00.000Z', 'user-ada', 'field_changed', 'state', 'in_progress'],
      ['2026-04-01T10:00:00.000Z', 'user-ada', 'field_changed', 'sprint', 'Cycle 7'],
      ['2026-04-02T10:00:00.000Z', 'user-ada', 'label_added', 'sev2', undefined],
      ['2026-04-02T10:00:00.000Z', 'user-ada', 'field_changed', 'severity', 'high'],
      ['2026-04-02T15:00:00.000Z', 'user-ada', 'field_changed', 'state', 'done'],
    ]);
    const done = events.find((e) => e.sourceEventId === 'issue-1/state@2026-04-02T15:00:00.000Z')!;
    expect(done.change).toMatchObject({ from: 'in_progress', to: 'done', data: { historyId: 'h1-3' } });
  });

  it('maps the history from the follow-up page, and keeps system changes without an actor', async () => {
    const { events } = await run(new FakeLinear());
    const created = events.find((e) => e.sourceEventId === 'issue-2/created')!;
    // Priority and assignee as they were before the history changed them.
    expect(created.item).toMatchObject({ priority: 'P3' });
    expect(created.item).not.toHaveProperty('assignee');
    expect(summary(events, 'ENG-2')).toEqual([
      ['2026-04-01T09:00:00.000Z', 'user-bob', 'created', null, undefined],
      ['2026-04-01T11:00:00.000Z', 'user-ada', 'field_changed', 'assignee', 'user-ada'],
      ['2026-04-01T12:00:00.000Z', 'user-ada', 'field_changed', 'assignee', 'user-bob'],
      ['2026-04-02T08:00:00.000Z', 'user-ada', 'field_changed', 'priority', 'P1'],
      ['2026-04-02T08:00:00.000Z', 'user-ada', 'field_changed', 'estimate', '5'],
    ]);
    expect(events.find((e) => e.change.field === 'priority')?.change.from).toBe('P3');
  });

  it('resumes from a cursor and filters by since', async () => {
    const http = new FakeLinear();
    const { pages, events } = await run(http, 'page-2', '2026-04-02T00:00:00.000Z');
    expect(pages).toHaveLength(1);
    expect(http.requests).toHaveLength(1);
    expect(http.requests[0]!.variables).toEqual({
      cursor: 'page-2',
      filter: { team: { key: { eq: 'ENG' } }, updatedAt: { gte: '2026-04-02T00:00:00.000Z' } },
    });
    expect(events.map((e) => e.item?.key)).toEqual(['ENG-3']);
    expect(events[0]!.item).toMatchObject({ state: 'new' });
  });

  it('gives the same ids on a second run (re-syncs store nothing new)', async () => {
    const a = await run(new FakeLinear());
    const b = await run(new FakeLinear());
    expect(b.events.map((e) => e.sourceEventId)).toEqual(a.events.map((e) => e.sourceEventId));
    expect(new Set(a.events.map((e) => e.sourceEventId)).size).toBe(a.events.length);
  });

  it('gives a state change the same id as the webhook of the same update', async () => {
    const { events } = await run(new FakeLinear());
    const fromSync = events.find(
      (e) => e.item?.key === 'ENG-1' && e.change.field === 'state' && e.change.to === 'done',
    );
    const fromWebhook = linearWebhooks.map(
      'Issue.update',
      {
        type: 'Issue',
        action: 'update',
        createdAt: '2026-04-02T15:00:00.000Z',
        data: {
          id: 'issue-1',
          identifier: 'ENG-1',
          updatedAt: '2026-04-02T15:00:00.000Z',
          state: { name: 'Done', type: 'completed' },
          stateId: 's-done',
          team: { key: 'ENG' },
        },
        updatedFrom: { stateId: 's-started', updatedAt: '2026-04-02T14:00:00.000Z' },
      },
      context().ctx,
    );
    expect(fromWebhook?.map((e) => e.sourceEventId)).toEqual([fromSync?.sourceEventId]);
  });

  it('surfaces GraphQL errors in a 200 as LANES_UPSTREAM_FAILED with the message', async () => {
    const http = new FakeLinear();
    http.errors = [{ message: 'Argument Validation Error', extensions: { code: 'INVALID_INPUT' } }];
    const error = await codeOf(run(http));
    expect(error.code).toBe('LANES_UPSTREAM_FAILED');
    expect(error.message).toContain('Argument Validation Error');
  });

  it('turns a RATELIMITED error into LANES_RATE_LIMITED with the wait', async () => {
    const http = new FakeLinear();
    http.errors = [{ message: 'Rate limit exceeded', extensions: { code: 'RATELIMITED' } }];
    http.headers = new Headers({ 'x-ratelimit-requests-reset': String(Date.now() + 30_000) });
    const error = await codeOf(run(http));
    expect(error.code).toBe('LANES_RATE_LIMITED');
    const wait = (error.details as { retryAfterMs: number }).retryAfterMs;
    expect(wait).toBeGreaterThan(20_000);
    expect(wait).toBeLessThanOrEqual(30_000);
  });

  it('refuses data it cannot read', async () => {
    const http: SyncHttp = {
      request: async () => ({ status: 200, headers: new Headers(), body: { data: { issues: null } }, url: '' }),
    };
    expect((await codeOf(run(http))).code).toBe('LANES_UPSTREAM_FAILED');
  });
});

describe('linear sync through the real HTTP client', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('posts the query to /graphql with the API key and reads the answer', async () => {
    const seen: { path?: string; auth?: string; body?: GraphqlBody }[] = [];
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        seen.push({ path: req.url, auth: req.headers.authorization, body: JSON.parse(text) as GraphqlBody });
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ data: { issues: { nodes: [eng3], pageInfo: { hasNextPage: false, endCursor: null } } } }),
        );
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const http = createHttpClient({ baseUrl: `http://127.0.0.1:${port}`, authorization: async () => 'lin_api_test' });
    const { events } = await run(http);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ path: '/graphql', auth: 'lin_api_test' });
    expect(seen[0]!.body!.query).toContain('orderBy: updatedAt');
    expect(events.map((e) => e.sourceEventId)).toEqual(['issue-3/created']);
  });
});
