import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stage } from '../../domain/stage.js';
import type { GithubIssue, GithubPull, GithubTimelineEvent } from './github.schema.js';

/**
 * Real closed GitHub issues from the InEx-Bug data set (STASER-Lab, MIT; see
 * test/fixtures/external/README.md), turned back into the REST objects Lanes'
 * backfill reads, and the stage the tracker's own record calls for.
 */

export interface InexIssue {
  owner: string;
  repo: string;
  number: number;
  html_url: string;
  title: string;
  state: string;
  state_reason: string | null;
  created_at: string;
  closed_at: string;
  author: { username: string; author_association: string | null };
  closed_by: { username: string | null } | null;
  is_bot_close: boolean | null;
  labels: string[];
  milestone: { title: string } | null;
  reopen_timestamps: string[];
  closing_pr: {
    number: number;
    title: string;
    html_url: string;
    merged: boolean;
    merged_at: string | null;
    created_at: string;
    closed_at: string | null;
    state: string;
    merge_commit_sha: string | null;
    body: string;
  } | null;
  closing_commit: { sha: string } | null;
  comments: {
    id: number;
    created_at: string;
    author: { username: string; author_association: string };
    body: string;
  }[];
  final_classification: string;
}

const FIXTURE = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'external', 'github-inex-bug');

/** The 40 issues of the sample (`issues.sample.jsonl`). */
export const inexSample = (): InexIssue[] =>
  readFileSync(join(FIXTURE, 'issues.sample.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as InexIssue);

/** `owner/name` as the data set names it (renamed repositories keep their old name there). */
export const repoOf = (r: InexIssue): string => `${r.owner}/${r.repo}`;

/** The issue as `GET /repos/{o}/{r}/issues/{n}` returns it (closed). */
export const restIssueOf = (r: InexIssue): GithubIssue => ({
  number: r.number,
  title: r.title,
  html_url: r.html_url,
  state: 'closed',
  state_reason: r.state_reason,
  user: { login: r.author.username },
  labels: r.labels.map((name) => ({ name })),
  milestone: r.milestone ? { title: r.milestone.title } : null,
  created_at: r.created_at,
  updated_at: r.closed_at,
  closed_at: r.closed_at,
  closed_by: r.closed_by?.username ? { login: r.closed_by.username } : null,
});

/** Its timeline as far as the record tells it: reopenings, "Duplicate of" comments, the closing. */
export const timelineOf = (r: InexIssue): GithubTimelineEvent[] => {
  const events: GithubTimelineEvent[] = [
    ...r.reopen_timestamps.map((at, i) => ({ id: 1_000 + i, event: 'reopened', created_at: at })),
    ...r.comments.map((c) => ({
      id: c.id,
      event: 'commented',
      created_at: c.created_at,
      body: c.body,
      user: { login: c.author.username },
      author_association: c.author.author_association,
    })),
    {
      id: 9_999,
      event: 'closed',
      created_at: r.closed_at,
      state_reason: r.state_reason,
      commit_id: r.closing_commit?.sha ?? null,
      actor: r.closed_by?.username ? { login: r.closed_by.username } : null,
    },
  ];
  return events.sort((a, b) => (a.created_at! < b.created_at! ? -1 : a.created_at! > b.created_at! ? 1 : 0));
};

/** The pull request that closed it, as `GET /repos/{o}/{r}/pulls/{n}` returns it. */
export const closingPullOf = (r: InexIssue): GithubPull | null => {
  const pr = r.closing_pr;
  if (!pr) return null;
  return {
    number: pr.number,
    title: pr.title,
    body: pr.body,
    html_url: pr.html_url,
    state: pr.state,
    merged: pr.merged,
    merged_at: pr.merged_at,
    merge_commit_sha: pr.merge_commit_sha,
    created_at: pr.created_at,
    closed_at: pr.closed_at,
    user: { login: 'author' },
  };
};

/** What the tracker's own record says: GitHub's reason, the closing-reason labels, a maintainer's "Duplicate of". */
export type TrackerReason = 'not_planned' | 'wontfix' | 'invalid' | 'stale' | 'duplicate' | 'completed';

export const trackerReasonOf = (r: InexIssue): TrackerReason => {
  if (r.state_reason === 'not_planned') return 'not_planned';
  const labels = r.labels.map((l) => l.toLowerCase());
  if (labels.includes('invalid')) return 'invalid';
  if (labels.includes('wontfix')) return 'wontfix';
  if (labels.includes('stale') || r.is_bot_close === true) return 'stale';
  if (labels.some((l) => /(^|:)duplicate$/.test(l))) return 'duplicate';
  const marked = r.comments.some(
    (c) =>
      /^\s*duplicate of/i.test(c.body) && ['OWNER', 'MEMBER', 'COLLABORATOR'].includes(c.author.author_association),
  );
  return marked ? 'duplicate' : 'completed';
};

/** The stages that agree with the tracker's reason (completed without deploy data is never Live). */
export const agreeingStages = (reason: TrackerReason): readonly Stage[] => {
  switch (reason) {
    case 'not_planned':
    case 'wontfix':
    case 'stale':
      return ['wont_fix'];
    case 'invalid':
      return ['invalid'];
    case 'duplicate':
      return ['duplicate'];
    case 'completed':
      return ['fixed', 'fix_ready'];
  }
};
