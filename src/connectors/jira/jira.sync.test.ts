import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { JiraMapping } from '../../domain/connector.mapping.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import type { HttpRequest, HttpResponse, SyncHttp, SyncPage } from '../connector.types.js';
import { mapJiraIssue, type JiraIssue } from './jira.mapper.js';
import { jiraIssuesJql, jiraSyncPlan } from './jira.sync.js';

const RAW = join(process.cwd(), 'test/fixtures/external/devlake-e2e/jira/e2e/raw_tables');
const rows = (name: string): Record<string, string>[] =>
  parse(readFileSync(join(RAW, name), 'utf8'), { columns: true, relax_quotes: true }) as Record<string, string>[];

const ISSUES = rows('_raw_jira_api_issues.csv').map((r) => JSON.parse(r['data']!) as JiraIssue);
const STATUSES = rows('_raw_jira_api_status.csv').map((r) => JSON.parse(r['data']!) as unknown);
const statusCategories = new Map(
  (STATUSES as { id: string; statusCategory: { key: string } }[]).map((s) => [s.id, s.statusCategory.key]),
);
const TRUNCATED = 'EE-17';
const PAGE = 10;

const mapping: JiraMapping = { projects: { EE: { team: 'enterprise' }, K5: { team: 'k5' } } };
const ctx = { mapping, unmapped: () => undefined };

/** A fake Jira REST API over the DevLake issues; EE-17's embedded changelog is cut to 10 of 31 entries. */
class FakeJira implements SyncHttp {
  readonly requests: HttpRequest[] = [];
  constructor(private readonly flavor: 'cloud' | 'datacenter') {}

  private served(issue: JiraIssue): JiraIssue {
    if (issue.key !== TRUNCATED) return issue;
    const all = issue.changelog!.histories;
    return { ...issue, changelog: { startAt: 0, maxResults: 10, total: all.length, histories: all.slice(0, 10) } };
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    this.requests.push(req);
    const reply = (body: unknown): Promise<HttpResponse> =>
      Promise.resolve({ status: 200, headers: new Headers(), body, url: req.url });
    const q = req.query ?? {};
    const api = this.flavor === 'cloud' ? '/rest/api/3' : '/rest/api/2';
    if (req.url === `${api}/status`) return reply(STATUSES);
    if (this.flavor === 'cloud' && req.url === `${api}/search/jql`) {
      const offset = q['nextPageToken'] ? Number(String(q['nextPageToken']).replace('tok-', '')) : 0;
      const issues = ISSUES.slice(offset, offset + PAGE).map((i) => this.served(i));
      const more = offset + PAGE < ISSUES.length;
      return reply({ issues, ...(more ? { nextPageToken: `tok-${offset + PAGE}` } : {}), isLast: !more });
    }
    if (this.flavor === 'datacenter' && req.url === `${api}/search`) {
      const startAt = Number(q['startAt'] ?? 0);
      const issues = ISSUES.slice(startAt, startAt + PAGE).map((i) => this.served(i));
      return reply({ startAt, maxResults: PAGE, total: ISSUES.length, issues });
    }
    const full = ISSUES.find((i) => i.key === TRUNCATED)!;
    if (this.flavor === 'cloud' && req.url === `${api}/issue/${TRUNCATED}/changelog`) {
      // The server pages by 20 whatever was asked.
      const startAt = Number(q['startAt'] ?? 0);
      const all = full.changelog!.histories;
      const values = all.slice(startAt, startAt + 20);
      return reply({ startAt, maxResults: 20, total: all.length, isLast: startAt + 20 >= all.length, values });
    }
    if (this.flavor === 'datacenter' && req.url === `${api}/issue/${TRUNCATED}`) return reply(full);
    return Promise.reject(new Error(`unexpected request ${req.url} ${JSON.stringify(q)}`));
  }
}

const collect = async (
  http: SyncHttp,
  flavor: 'cloud' | 'datacenter',
  cursor: string | null = null,
  since: string | null = null,
): Promise<SyncPage[]> => {
  const [stream] = jiraSyncPlan('EE', { flavor }).streams;
  const pages: SyncPage[] = [];
  for await (const page of stream!.pages({ http, cursor, since, etag: () => undefined, ctx })) pages.push(page);
  return pages;
};

const expectedEvents = (issues: readonly JiraIssue[]): EventInput[] =>
  issues.flatMap((i) => mapJiraIssue(i, ctx, { statusCategories }));

describe('jiraSyncPlan issues stream', () => {
  it('names the plan after the project', () => {
    const plan = jiraSyncPlan('EE', { flavor: 'cloud' });
    expect(plan).toMatchObject({ source: 'jira', scope: 'EE' });
    expect(plan.streams.map((s) => [s.name, s.unit])).toEqual([['issues', 'issues']]);
  });

  it('Cloud: pages by nextPageToken and fetches the rest of a truncated changelog', async () => {
    const http = new FakeJira('cloud');
    const pages = await collect(http, 'cloud');
    expect(pages.map((p) => p.units)).toEqual([10, 10, 10, 3]);
    expect(pages.map((p) => p.cursor)).toEqual([
      JSON.stringify({ jql: jiraIssuesJql('EE', null), nextPageToken: 'tok-10' }),
      JSON.stringify({ jql: jiraIssuesJql('EE', null), nextPageToken: 'tok-20' }),
      JSON.stringify({ jql: jiraIssuesJql('EE', null), nextPageToken: 'tok-30' }),
      null,
    ]);
    const events = pages.flatMap((p) => p.events);
    expect(validateEventBatch(events).ok).toBe(true);
    // Identical to mapping the complete issues: nothing of EE-17's 31 history entries is lost.
    expect(events).toEqual(expectedEvents(ISSUES));
    const embedded = new Set(
      ISSUES.find((i) => i.key === TRUNCATED)!
        .changelog!.histories.slice(0, 10)
        .map((h) => h.id),
    );
    const fetched = events.filter(
      (e) =>
        e.item?.key === TRUNCATED &&
        e.sourceEventId.includes('/changelog/') &&
        !embedded.has(e.sourceEventId.split('/')[2]!),
    );
    expect(fetched.length).toBeGreaterThan(5);

    const changelogCalls = http.requests.filter((r) => r.url.endsWith('/changelog'));
    expect(changelogCalls.map((r) => r.query?.['startAt'])).toEqual([0, 20]);
    const search = http.requests.find((r) => r.url === '/rest/api/3/search/jql')!;
    expect(search.query).toMatchObject({
      jql: 'project = EE ORDER BY updated ASC, key ASC',
      expand: 'changelog',
      maxResults: 100,
    });
    expect(String(search.query?.['fields']).split(',')).toEqual(
      expect.arrayContaining(['summary', 'status', 'assignee', 'components', 'customfield_10020']),
    );
  });

  it('Data Center: pages by startAt with the total, and reloads a truncated changelog from the issue', async () => {
    const http = new FakeJira('datacenter');
    const pages = await collect(http, 'datacenter');
    expect(pages.map((p) => [p.units, p.total])).toEqual([
      [10, 33],
      [10, 33],
      [10, 33],
      [3, 33],
    ]);
    expect(pages.map((p) => p.cursor && (JSON.parse(p.cursor) as { startAt: number }).startAt)).toEqual([
      10,
      20,
      30,
      null,
    ]);
    expect(pages.flatMap((p) => p.events)).toEqual(expectedEvents(ISSUES));
    expect(http.requests.filter((r) => r.url === `/rest/api/2/issue/${TRUNCATED}`)).toHaveLength(1);
  });

  it('resumes from a saved cursor with the same query', async () => {
    for (const flavor of ['cloud', 'datacenter'] as const) {
      const first = await collect(new FakeJira(flavor), flavor, null, '2021-03-01T00:00:00Z');
      const http = new FakeJira(flavor);
      const rest = await collect(http, flavor, first[1]!.cursor, '2099-01-01T00:00:00Z');
      expect(rest.map((p) => p.units)).toEqual([10, 3]);
      expect(rest.flatMap((p) => p.events)).toEqual(expectedEvents(ISSUES.slice(20)));
      // The cursor's query wins over a later `since`, so pages do not shift under a resume.
      const search = http.requests.find((r) => r.url.includes('/search'))!;
      expect(search.query?.['jql']).toBe(
        'project = EE AND updated >= "2021-02-28 00:00" ORDER BY updated ASC, key ASC',
      );
    }
  });

  it('rejects a cursor it did not write', async () => {
    await expect(collect(new FakeJira('cloud'), 'cloud', 'https://example.com/next')).rejects.toMatchObject({
      code: 'LANES_VALIDATION',
    });
  });
});
