import { z } from 'zod';
import type { GithubMapping } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import type { EventInput } from '../../domain/event.js';
import { mapWithConcurrency } from '../concurrency.js';
import type { SyncHttp, SyncPage, SyncPlan, SyncStream, SyncStreamArgs } from '../connector.types.js';
import { nextLink } from '../http.client.js';
import {
  GITHUB_SOURCE,
  instant,
  mapRestDeployment,
  mapRestIssue,
  mapRestPull,
  mapRestReview,
  mapRestWorkflowRun,
} from './github.mapper.js';
import {
  githubDeploymentSchema,
  githubDeploymentStatusSchema,
  githubIssueSchema,
  githubPullSchema,
  githubReviewSchema,
  githubRunsPageSchema,
  githubTimelineEventSchema,
} from './github.schema.js';

/**
 * The GitHub backfill of one repository, as four resumable streams over the
 * REST API. Each page of a list becomes one `SyncPage` whose cursor is the
 * list's next URL (GitHub's `Link` header), so a killed sync resumes at the
 * page after the last one stored.
 *
 * ETags: a list's first page and an issue's timeline are asked for with the
 * ETag remembered from the last run; a 304 means nothing there changed. An
 * ETag is only remembered for a list that fit in one page: with more pages,
 * the first can stay the same while a later one changes.
 */

type Args = SyncStreamArgs<GithubMapping>;

const withQuery = (path: string, query: Record<string, string | number | null | undefined>): string => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, String(v));
  return `${path}?${params.toString()}`;
};

const parseBody = <T>(schema: z.ZodType<T>, body: unknown, url: string): T => {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new AppError(
    'LANES_UPSTREAM_FAILED',
    `GitHub answered ${url} with something Lanes cannot read (${issue.path.join('.')}: ${issue.message})`,
  );
};

interface FullList<T> {
  items: T[];
  notModified: boolean;
  /** The first page's ETag, when the whole list fit in it. */
  etag: string | undefined;
}

/** Every page of a small list (a timeline, reviews, statuses); a 304 on the first page means unchanged. */
const fetchAll = async <T>(
  http: SyncHttp,
  url: string,
  schema: z.ZodType<T>,
  etag: string | undefined,
): Promise<FullList<T>> => {
  const list = z.array(schema);
  let res = await http.request({ url, etag });
  if (res.status === 304) return { items: [], notModified: true, etag };
  const firstEtag = res.headers.get('etag') ?? undefined;
  const items = parseBody(list, res.body, url);
  let next = nextLink(res.headers);
  const single = next === undefined;
  while (next) {
    res = await http.request({ url: next });
    items.push(...parseBody(list, res.body, next));
    next = nextLink(res.headers);
  }
  return { items, notModified: false, etag: single ? firstEtag : undefined };
};

interface MappedPage {
  events: EventInput[];
  units: number;
  total?: number | undefined;
  /** Ends the stream after this page even when the list goes on. */
  last?: boolean;
}

/**
 * GitHub gives no count for issue and pull lists, but its `rel="last"` link
 * names the last page: pages × page size is an upper bound good enough for an
 * ETA (pull requests listed among issues are skipped, so the ETA errs long).
 */
const estimateTotal = (headers: Headers): number | undefined => {
  const last = /<([^>]+)>\s*;\s*rel="?last"?/.exec(headers.get('link') ?? '')?.[1];
  if (!last) return undefined;
  const url = new URL(last);
  const page = Number(url.searchParams.get('page'));
  const perPage = Number(url.searchParams.get('per_page') ?? '30');
  return Number.isFinite(page) && page > 0 && Number.isFinite(perPage) ? page * perPage : undefined;
};

/**
 * Walks a paginated list from the cursor (or `firstUrl`), yielding one page
 * per list page. The first page is asked for with its remembered ETag; a 304
 * there ends the stream with nothing to store.
 */
async function* pagesOf(
  args: Args,
  firstUrl: string,
  mapPage: (body: unknown, url: string, etags: Record<string, string>) => Promise<MappedPage>,
): AsyncIterable<SyncPage> {
  let url: string | null = args.cursor ?? firstUrl;
  let first = args.cursor === null;
  while (url !== null) {
    const res = await args.http.request({ url, etag: first ? args.etag(url) : undefined });
    if (res.status === 304) return;
    const listNext = nextLink(res.headers) ?? null;
    const etags: Record<string, string> = {};
    const etag = res.headers.get('etag');
    if (first && listNext === null && etag) etags[url] = etag;
    const { last, ...page } = await mapPage(res.body, url, etags);
    const next = last ? null : listNext;
    const total = page.total ?? estimateTotal(res.headers);
    yield { ...page, total, cursor: next, ...(Object.keys(etags).length > 0 ? { etags } : {}) };
    url = next;
    first = false;
  }
}

const issuesStream = (repo: string): SyncStream<GithubMapping> => ({
  name: 'issues',
  unit: 'issues',
  pages: (args) =>
    pagesOf(
      args,
      withQuery(`/repos/${repo}/issues`, {
        state: 'all',
        sort: 'updated',
        direction: 'asc',
        per_page: 100,
        since: args.since,
      }),
      async (body, url, etags) => {
        // The issues list includes pull requests; the pulls stream covers them.
        const issues = parseBody(z.array(githubIssueSchema), body, url).filter((issue) => !issue.pull_request);
        const timelines = await mapWithConcurrency(issues, IN_FLIGHT, (issue) => {
          const timelineUrl = `/repos/${repo}/issues/${issue.number}/timeline?per_page=100`;
          return fetchAll(args.http, timelineUrl, githubTimelineEventSchema, args.etag(timelineUrl)).then(
            (timeline) => ({ timelineUrl, timeline }),
          );
        });
        const events: EventInput[] = [];
        issues.forEach((issue, i) => {
          const { timelineUrl, timeline } = timelines[i]!;
          if (timeline.notModified) {
            events.push(...mapRestIssue(repo, issue, args.ctx));
          } else {
            events.push(...mapRestIssue(repo, issue, args.ctx, timeline.items));
            if (timeline.etag) etags[timelineUrl] = timeline.etag;
          }
        });
        return { events, units: issues.length };
      },
    ),
});

/** Per-item requests (timelines, reviews, statuses) in flight at once behind one list page. */
const IN_FLIGHT = 4;

const isBefore = (value: string | null | undefined, since: string | null): boolean => {
  if (!since) return false;
  const at = instant(value);
  const limit = instant(since);
  return at !== undefined && limit !== undefined && at < limit;
};

const pullsStream = (repo: string): SyncStream<GithubMapping> => ({
  name: 'pulls',
  unit: 'pull requests',
  pages: (args) =>
    pagesOf(
      args,
      withQuery(`/repos/${repo}/pulls`, { state: 'all', sort: 'updated', direction: 'asc', per_page: 100 }),
      async (body, url) => {
        const pulls = parseBody(z.array(githubPullSchema), body, url);
        // The pulls API has no `since`; older ones are skipped here.
        const recent = pulls.filter((pull) => !isBefore(pull.updated_at, args.since));
        const reviews = await mapWithConcurrency(recent, IN_FLIGHT, (pull) =>
          fetchAll(
            args.http,
            `/repos/${repo}/pulls/${pull.number}/reviews?per_page=100`,
            githubReviewSchema,
            undefined,
          ),
        );
        const events: EventInput[] = [];
        recent.forEach((pull, i) => {
          events.push(...mapRestPull(repo, pull, args.ctx));
          for (const review of reviews[i]!.items) events.push(...mapRestReview(repo, pull, review, args.ctx));
        });
        return { events, units: pulls.length };
      },
    ),
});

const deploymentsStream = (repo: string): SyncStream<GithubMapping> => ({
  name: 'deployments',
  unit: 'deployments',
  pages: (args) =>
    pagesOf(args, withQuery(`/repos/${repo}/deployments`, { per_page: 100 }), async (body, url) => {
      const deployments = parseBody(z.array(githubDeploymentSchema), body, url);
      // A new status moves a deployment's updated_at, so this keeps the deployments with news.
      const recent = deployments.filter((d) => !isBefore(d.updated_at ?? d.created_at, args.since));
      const statuses = await mapWithConcurrency(recent, IN_FLIGHT, (deployment) =>
        fetchAll(
          args.http,
          `/repos/${repo}/deployments/${deployment.id}/statuses?per_page=100`,
          githubDeploymentStatusSchema,
          undefined,
        ),
      );
      const events: EventInput[] = [];
      recent.forEach((deployment, i) =>
        events.push(...mapRestDeployment(repo, deployment, statuses[i]!.items, args.ctx)),
      );
      // Deployments come newest first: once a whole page has nothing since `since`, older pages have not either.
      return { events, units: deployments.length, last: Boolean(args.since) && recent.length === 0 };
    }),
});

const runsStream = (repo: string): SyncStream<GithubMapping> => ({
  name: 'runs',
  unit: 'workflow runs',
  pages: (args) =>
    pagesOf(
      args,
      withQuery(`/repos/${repo}/actions/runs`, {
        per_page: 100,
        created: args.since ? `>=${instant(args.since)?.slice(0, 10) ?? args.since.slice(0, 10)}` : undefined,
      }),
      async (body, url) => {
        const page = parseBody(githubRunsPageSchema, body, url);
        const events = page.workflow_runs.flatMap((run) => mapRestWorkflowRun(repo, run, args.ctx));
        return { events, units: page.workflow_runs.length, total: page.total_count };
      },
    ),
});

/** The backfill plan of one repository (`owner/name`): issues, pulls, deployments and workflow runs. */
export const githubSyncPlan = (repo: string): SyncPlan<GithubMapping> => ({
  source: GITHUB_SOURCE,
  scope: repo,
  streams: [issuesStream(repo), pullsStream(repo), deploymentsStream(repo), runsStream(repo)],
});
