import type { JiraMapping } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import type { SyncHttp, SyncPage, SyncPlan, SyncStream, SyncStreamArgs } from '../connector.types.js';
import {
  isChangelogTruncated,
  mapJiraIssue,
  mergeJiraChangelog,
  type JiraHistory,
  type JiraIssue,
} from './jira.mapper.js';

export interface JiraSyncOptions {
  flavor: 'cloud' | 'datacenter';
}

const PAGE_SIZE = 100;
const DEFAULT_SPRINT_FIELD = 'customfield_10020';
const BASE_FIELDS = [
  'summary',
  'status',
  'issuetype',
  'priority',
  'assignee',
  'reporter',
  'creator',
  'created',
  'updated',
  'resolution',
  'labels',
  'components',
  'fixVersions',
  'project',
  'comment',
];

/** Where a stream stopped: the query it ran (so a resume asks the same) and the page after. */
type Cursor = { jql: string; nextPageToken: string } | { jql: string; startAt: number };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const readCursor = (cursor: string | null): Cursor | null => {
  if (cursor === null) return null;
  try {
    const parsed: unknown = JSON.parse(cursor);
    if (isRecord(parsed) && typeof parsed['jql'] === 'string') {
      if (typeof parsed['nextPageToken'] === 'string')
        return { jql: parsed['jql'], nextPageToken: parsed['nextPageToken'] };
      if (typeof parsed['startAt'] === 'number') return { jql: parsed['jql'], startAt: parsed['startAt'] };
    }
  } catch {
    // fall through
  }
  throw new AppError('LANES_VALIDATION', `Not a Jira sync cursor: ${cursor}`);
};

/** `yyyy-MM-dd HH:mm` in UTC, a day early: JQL reads dates in the Jira user's time zone, and re-reads dedupe. */
const jqlSince = (since: string): string => {
  const d = new Date(Date.parse(since) - 24 * 3600 * 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
};

/** The JQL of one project's issues, oldest update first, optionally only those updated since an instant. */
export const jiraIssuesJql = (projectKey: string, since: string | null): string =>
  `project = ${projectKey}${since ? ` AND updated >= "${jqlSince(since)}"` : ''} ORDER BY updated ASC, key ASC`;

const fieldsFor = (mapping: JiraMapping | undefined): string => {
  const custom = mapping?.fields;
  const extra = [custom?.sprint ?? DEFAULT_SPRINT_FIELD, custom?.severity, custom?.story_points, custom?.customer];
  return [...new Set([...BASE_FIELDS, ...extra.filter((f): f is string => Boolean(f))])].join(',');
};

const asIssues = (body: unknown): JiraIssue[] => {
  if (!isRecord(body) || !Array.isArray(body['issues'])) {
    throw new AppError('LANES_UPSTREAM_FAILED', 'Jira search answered without an "issues" list.');
  }
  return body['issues'] as JiraIssue[];
};

/** Status id → category key, so statuses named in the changelog normalise by category. */
const fetchStatusCategories = async (http: SyncHttp, api: string): Promise<Map<string, string>> => {
  const res = await http.request({ url: `${api}/status` });
  const categories = new Map<string, string>();
  if (Array.isArray(res.body)) {
    for (const s of res.body) {
      if (isRecord(s) && typeof s['id'] === 'string' && isRecord(s['statusCategory'])) {
        const key = s['statusCategory']['key'];
        if (typeof key === 'string') categories.set(s['id'], key);
      }
    }
  }
  return categories;
};

/** The whole changelog of an issue whose embedded changelog was cut short. */
const fetchFullChangelog = async (
  http: SyncHttp,
  api: string,
  flavor: JiraSyncOptions['flavor'],
  issue: JiraIssue,
): Promise<JiraHistory[]> => {
  if (flavor === 'datacenter') {
    const res = await http.request({
      url: `${api}/issue/${issue.key}`,
      query: { expand: 'changelog', fields: 'created' },
    });
    const log = isRecord(res.body) && isRecord(res.body['changelog']) ? res.body['changelog']['histories'] : undefined;
    return Array.isArray(log) ? (log as JiraHistory[]) : [];
  }
  const histories: JiraHistory[] = [];
  for (let startAt = 0; ;) {
    const res = await http.request({
      url: `${api}/issue/${issue.key}/changelog`,
      query: { startAt, maxResults: PAGE_SIZE },
    });
    const body = res.body;
    if (!isRecord(body) || !Array.isArray(body['values'])) {
      throw new AppError('LANES_UPSTREAM_FAILED', `Jira changelog of ${issue.key} answered without "values".`);
    }
    const values = body['values'] as JiraHistory[];
    histories.push(...values);
    startAt += values.length;
    const total = typeof body['total'] === 'number' ? body['total'] : undefined;
    if (values.length === 0 || body['isLast'] === true || (total !== undefined && startAt >= total)) break;
  }
  return histories;
};

const issuesStream = (projectKey: string, options: JiraSyncOptions): SyncStream<JiraMapping> => ({
  name: 'issues',
  unit: 'issues',
  async *pages({ http, cursor, since, ctx }: SyncStreamArgs<JiraMapping>): AsyncIterable<SyncPage> {
    const cloud = options.flavor === 'cloud';
    const api = cloud ? '/rest/api/3' : '/rest/api/2';
    const resume = readCursor(cursor);
    const jql = resume?.jql ?? jiraIssuesJql(projectKey, since);
    const fields = fieldsFor(ctx.mapping);
    const statusCategories = await fetchStatusCategories(http, api);
    let token = resume && 'nextPageToken' in resume ? resume.nextPageToken : undefined;
    let startAt = resume && 'startAt' in resume ? resume.startAt : 0;
    for (;;) {
      const res = await http.request({
        url: cloud ? `${api}/search/jql` : `${api}/search`,
        query: {
          jql,
          fields,
          expand: 'changelog',
          maxResults: PAGE_SIZE,
          ...(cloud ? { nextPageToken: token } : { startAt }),
        },
      });
      const issues = asIssues(res.body);
      const body = res.body as Record<string, unknown>;
      const events = [];
      for (const raw of issues) {
        const issue = isChangelogTruncated(raw)
          ? mergeJiraChangelog(raw, await fetchFullChangelog(http, api, options.flavor, raw))
          : raw;
        events.push(...mapJiraIssue(issue, ctx, { statusCategories }));
      }
      let next: Cursor | null;
      let total: number | undefined;
      if (cloud) {
        const nextToken = typeof body['nextPageToken'] === 'string' ? body['nextPageToken'] : undefined;
        next = nextToken && body['isLast'] !== true ? { jql, nextPageToken: nextToken } : null;
      } else {
        total = typeof body['total'] === 'number' ? body['total'] : undefined;
        startAt += issues.length;
        next = issues.length > 0 && total !== undefined && startAt < total ? { jql, startAt } : null;
      }
      yield { events, cursor: next ? JSON.stringify(next) : null, units: issues.length, total };
      if (!next) return;
      if ('nextPageToken' in next) token = next.nextPageToken;
    }
  },
});

/**
 * The sync of one Jira project: its issues with their full changelogs and
 * comments, oldest update first. Cloud pages with `nextPageToken`
 * (`/rest/api/3/search/jql`), Data Center with `startAt` (`/rest/api/2/search`).
 */
export const jiraSyncPlan = (projectKey: string, options: JiraSyncOptions): SyncPlan<JiraMapping> => ({
  source: 'jira',
  scope: projectKey,
  streams: [issuesStream(projectKey, options)],
});
