import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GithubMapping } from '../../domain/connector.mapping.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import { devlakeRaw, devlakeRows, DEVLAKE_REPO, recordingContext } from './github.fixtures.test-helper.js';
import {
  labelEvents,
  mapRestDeployment,
  mapRestIssue,
  mapRestPull,
  mapRestReview,
  mapRestWorkflowRun,
  mapTimelineEvent,
  openRepo,
  pullTargets,
} from './github.mapper.js';
import {
  githubIssueSchema,
  githubPullSchema,
  githubReviewSchema,
  githubTimelineEventSchema,
  githubWorkflowRunSchema,
  type GithubIssue,
  type GithubTimelineEvent,
} from './github.schema.js';
import { githubWebhooks } from './github.webhook.js';

const MAPPING: GithubMapping = { repos: { [DEVLAKE_REPO]: { team: 'runtime', component: 'pool' } } };

const valid = (events: EventInput[]): EventInput[] => {
  const checked = validateEventBatch(events);
  if (!checked.ok) throw new Error(JSON.stringify(checked.rejections));
  return checked.events;
};

type RawEvent = GithubTimelineEvent & { issue: GithubIssue };
const rawEvents: RawEvent[] = devlakeRaw('_raw_github_api_events').map(
  (d) => githubTimelineEventSchema.parse(d) as RawEvent,
);
const rawIssues = devlakeRaw('_raw_github_api_issues').map((d) => githubIssueSchema.parse(d));

/** The GitHub event type a user would read off our events. */
const typeOf = (events: EventInput[]): string | null => {
  const first = events[0];
  if (!first) return null;
  const { change } = first;
  if (change.kind === 'label_added') return 'labeled';
  if (change.kind === 'label_removed') return 'unlabeled';
  if (change.kind === 'field_changed' && change.field === 'assignee') return change.to ? 'assigned' : 'unassigned';
  if (change.kind === 'field_changed' && change.field === 'title') return 'renamed';
  if (change.kind === 'pr_opened') return 'ready_for_review';
  return change.kind;
};

describe('timeline events: DevLake’s panjf2000/ants issue events', () => {
  const expected = devlakeRows('snapshot_tables/_tool_github_issue_events.csv');
  const byId = new Map(rawEvents.map((e) => [String(e.id), e]));

  /** Event types Lanes records nothing for (documented in QUIET_TIMELINE_EVENTS). */
  const NOT_MAPPED = new Set(['head_ref_force_pushed', 'mentioned', 'subscribed']);

  it('has the same 49 events as DevLake (the raw table holds one of them twice)', () => {
    expect(rawEvents).toHaveLength(49);
    expect(new Set(expected.map((r) => r['github_id']))).toEqual(new Set(byId.keys()));
  });

  it.each(expected)('event $github_id ($type by $author_username)', (row) => {
    const ev = byId.get(row['github_id']!)!;
    const { ctx } = recordingContext(MAPPING);
    const events = valid(mapTimelineEvent(DEVLAKE_REPO, ev.issue, ev, ctx));
    const type = row['type']!;
    if (NOT_MAPPED.has(type)) {
      expect(events).toEqual([]);
      return;
    }
    expect(typeOf(events)).toBe(type);
    const first = events[0]!;
    expect(first.occurredAt).toBe(new Date(row['github_created_at']!).toISOString());
    expect(first.item?.key).toBe(`${DEVLAKE_REPO}#${ev.issue.number}`);
    expect(first.item?.team).toBe('runtime');
    if (type === 'assigned') {
      // Difference from DevLake, on purpose: the legacy events API puts the *assignee* in `actor`
      // (DevLake records it as the author); Lanes credits `assigner`, the person who assigned.
      expect(row['author_username']).toBe(ev.assignee!.login);
      expect(first.actor).toEqual({ kind: 'github', id: ev.assigner!.login });
      expect(first.change).toMatchObject({ field: 'assignee', to: ev.assignee!.login });
    } else {
      expect(first.actor).toEqual({ kind: 'github', id: row['author_username'] });
    }
    if (type === 'labeled') expect(first.change.target).toBe(ev.label!.name);
  });

  it('labels: `bug` also sets the kind; the others are reported as unmapped, once each', () => {
    const { ctx, unmapped } = recordingContext(MAPPING);
    const labeled = rawEvents.filter((e) => e.event === 'labeled');
    const events = labeled.flatMap((e) => mapTimelineEvent(DEVLAKE_REPO, e.issue, e, ctx));
    const kinds = events.filter((e) => e.change.field === 'kind');
    expect(kinds.map((e) => [e.item?.key, e.change.to])).toEqual([['panjf2000/ants#212', 'bug']]);
    expect(kinds[0]!.sourceEventId).toBe('panjf2000/ants#212/labeled/bug/2022-02-08T22:16:27Z/kind');
    expect(new Set(unmapped)).toEqual(
      new Set([
        'label:help wanted',
        'label:question',
        'label:pending development',
        'label:waiting for response',
        'label:proposal',
      ]),
    );
  });

  it('closed: `not_planned` is won’t fix, a merged PR’s close is done', () => {
    const { ctx } = recordingContext(MAPPING);
    const closed = (id: number) =>
      mapTimelineEvent(DEVLAKE_REPO, byId.get(String(id))!.issue, byId.get(String(id))!, ctx)[0]!;
    expect(closed(6655982786).change).toMatchObject({ to: 'wont_fix', data: { resolution: 'not_planned' } });
    expect(closed(6774117135).change).toMatchObject({ to: 'done', data: { resolution: 'completed' } });
    expect(closed(5977768239).change).toMatchObject({ to: 'done', data: { resolution: 'merged' } });
  });

  it('an issue with its whole timeline: created as it was, then each change with before and after', () => {
    const timeline = rawEvents
      .filter((e) => e.issue.number === 228)
      .sort((a, b) => (a.created_at! < b.created_at! ? -1 : a.created_at! > b.created_at! ? 1 : a.id! - b.id!));
    const issue = timeline[0]!.issue;
    const { ctx } = recordingContext(MAPPING);
    const events = valid(mapRestIssue(DEVLAKE_REPO, issue, ctx, timeline));
    expect(events.map((e) => e.change.kind)).toEqual([
      'created',
      'label_added',
      'label_added',
      'field_changed',
      'field_changed',
      'closed',
    ]);
    const [created, , , assigned, renamed, closed] = events;
    // The title and labels at creation, rolled back through the timeline.
    expect(created!.item).toEqual({
      key: 'panjf2000/ants#228',
      url: 'https://github.com/panjf2000/ants/issues/228',
      team: 'runtime',
      component: 'pool',
      title: 'golang 1.17x  chinese ？',
      state: 'new',
    });
    expect(created!.actor).toEqual({ kind: 'github', id: 'ZhMaio' });
    expect(assigned!.change).toEqual({ kind: 'field_changed', field: 'assignee', from: null, to: 'panjf2000' });
    expect(renamed!.change).toMatchObject({ field: 'title', to: 'golang 1.17.x  chinese ？' });
    // The issue's own closed_at gives the same id as the timeline's close, so it appears once.
    expect(closed!.sourceEventId).toBe('panjf2000/ants#228/closed/2022-06-09T01:42:11Z');
    expect(closed!.actor).toEqual({ kind: 'github', id: 'ZhMaio' });
  });
});

describe('REST issues: DevLake’s panjf2000/ants issues', () => {
  const issues = rawIssues.filter((i) => !i.pull_request);
  const labelRows = devlakeRows('snapshot_tables/issue_labels.csv');
  const labelsById = new Map<string, string[]>();
  for (const row of labelRows) {
    const id = row['issue_id']!.split(':').pop()!;
    labelsById.set(id, [...(labelsById.get(id) ?? []), row['label_name']!]);
  }
  const KIND_OF: Record<string, string | undefined> = { bug: 'bug', enhancement: 'feature', question: undefined };

  it('maps every issue to created and closed, with title, state and the kind its labels mean', () => {
    const { ctx, unmapped } = recordingContext(MAPPING);
    for (const issue of issues) {
      const events = valid(mapRestIssue(DEVLAKE_REPO, issue, ctx));
      const [created, closed] = events;
      expect(events).toHaveLength(2);
      expect(created!.item?.title).toBe(issue.title);
      expect(created!.item?.state).toBe('new');
      expect(created!.occurredAt).toBe(new Date(issue.created_at).toISOString());
      expect(closed!.change).toMatchObject({ kind: 'closed', to: 'done', data: { resolution: 'completed' } });
      expect(closed!.occurredAt).toBe(new Date(issue.closed_at!).toISOString());
      const labels = labelsById.get(String(issue.id)) ?? [];
      expect(created!.item?.kind).toBe(labels.map((l) => KIND_OF[l]).find(Boolean));
      // No raw issue has an assignee. (DevLake's issue_assignees.csv is a hand-made table for an
      // issue id 1 that is not among these raw issues, so it has nothing to compare with.)
      expect(created!.item?.assignee).toBeUndefined();
    }
    expect(labelsById.size).toBe(11);
    // Reported once per issue that carries it (each mapping call reports a value once).
    expect(unmapped.filter((u) => u.startsWith('label:'))).toEqual([
      'label:question',
      'label:question',
      'label:question',
    ]);
  });

  it('puts issues of an unmapped repository in no team and says so', () => {
    const { ctx, unmapped } = recordingContext({ repos: {} });
    const [created] = mapRestIssue(DEVLAKE_REPO, issues[0]!, ctx);
    expect(created!.item?.team).toBeUndefined();
    expect(unmapped).toContain(`scope:${DEVLAKE_REPO}`);
  });
});

describe('REST pull requests, reviews and runs', () => {
  const pulls = devlakeRaw('_raw_github_api_pull_requests').map((d) => githubPullSchema.parse(d));

  it('a merged PR: pr_opened, pr_merged and closed on the PR, the same on the issue it fixes', () => {
    const pull = pulls.find((p) => p.number === 23)!;
    const { ctx } = recordingContext(MAPPING);
    const events = valid(mapRestPull(DEVLAKE_REPO, pull, ctx));
    expect(events.map((e) => [e.item?.key, e.change.kind])).toEqual([
      ['panjf2000/ants#23', 'pr_opened'],
      ['panjf2000/ants#23', 'linked'],
      ['panjf2000/ants#22', 'pr_opened'],
      ['panjf2000/ants#23', 'pr_merged'],
      ['panjf2000/ants#23', 'closed'],
      ['panjf2000/ants#23', 'linked'],
      ['panjf2000/ants#22', 'pr_merged'],
    ]);
    const merged = events[3]!;
    expect(merged.occurredAt).toBe('2019-01-22T05:41:34.000Z');
    expect(merged.change.data).toMatchObject({ pr: 23, repo: DEVLAKE_REPO, mergeCommitSha: pull.merge_commit_sha });
    expect(merged.actor).toBeNull(); // the list API does not say who merged
    expect(events[0]!.actor).toEqual({ kind: 'github', id: 'choleraehyq' });
    expect(events[2]!.sourceEventId).toBe('panjf2000/ants#23/pr_opened/for/panjf2000/ants#22');
    expect(events[0]!.item?.state).toBe('done');
  });

  it('finds what PRs fix: `fix #3`, `Fixes #113`, an issue URL', () => {
    const targets = (n: number) =>
      pullTargets(
        DEVLAKE_REPO,
        pulls.find((p) => p.number === n)!,
      ).map((t) => t.key);
    expect(targets(4)).toEqual(['panjf2000/ants#3']);
    expect(targets(114)).toEqual(['panjf2000/ants#113']);
    expect(targets(189)).toEqual(['panjf2000/ants#188']);
    expect(targets(14)).toEqual([]);
    expect(
      pullTargets('a/b', {
        number: 1,
        title: 'PAY-12: UTF-8 names',
        body: 'resolves #1',
        head: { ref: 'feat/OPS-7-x' },
      }),
    ).toEqual([
      { key: 'PAY-12', relation: 'references', sameRepo: false },
      { key: 'OPS-7', relation: 'references', sameRepo: false },
    ]);
  });

  it('a PR closed unmerged is closed as won’t fix; an open one is only opened', () => {
    const { ctx } = recordingContext(MAPPING);
    const unmerged = valid(
      mapRestPull(
        DEVLAKE_REPO,
        pulls.find((p) => p.number === 8)!,
        ctx,
      ),
    );
    expect(unmerged.map((e) => [e.change.kind, e.change.to])).toEqual([
      ['pr_opened', undefined],
      ['closed', 'wont_fix'],
    ]);
    const open = valid(
      mapRestPull(
        DEVLAKE_REPO,
        pulls.find((p) => p.number === 211)!,
        ctx,
      ),
    );
    expect(open.map((e) => e.change.kind)).toEqual(['pr_opened']);
    expect(open[0]!.item?.state).toBe('in_review');
  });

  it('reviews keep their verdict and reviewer', () => {
    const reviews = devlakeRaw('_raw_github_api_pull_request_reviews').map((d) => githubReviewSchema.parse(d));
    const { ctx } = recordingContext(MAPPING);
    const events = valid(reviews.flatMap((r) => mapRestReview(DEVLAKE_REPO, { number: 41 }, r, ctx)));
    expect(events.length).toBe(reviews.filter((r) => r.state !== 'PENDING').length);
    const first = events[0]!;
    expect(first.actor).toEqual({ kind: 'github', id: 'choleraehyq' });
    expect(first.change).toMatchObject({ kind: 'review_submitted', data: { state: 'commented', reviewId: 277027723 } });
    const verdicts = events.map((e) => e.change.data?.['state']);
    // 30 distinct reviews (the raw table holds one twice): 27 comments, 3 changes requested.
    expect(verdicts.filter((v) => v === 'commented')).toHaveLength(27);
    expect(verdicts.filter((v) => v === 'changes_requested')).toHaveLength(3);
  });

  it('workflow runs: ci_run with conclusion and duration', () => {
    const runs = devlakeRaw('_raw_github_api_runs').map((d) => githubWorkflowRunSchema.parse(d));
    const { ctx } = recordingContext(MAPPING);
    const events = valid(runs.flatMap((r) => mapRestWorkflowRun(DEVLAKE_REPO, r, ctx)));
    expect(events).toHaveLength(runs.length);
    expect(events[0]).toMatchObject({
      sourceEventId: 'panjf2000/ants/run/2983238245/1/completed',
      occurredAt: '2022-09-03T05:16:16.000Z',
      actor: { kind: 'github', id: 'panjf2000' },
      change: {
        kind: 'ci_run',
        data: {
          workflow: 'CodeQL',
          status: 'completed',
          conclusion: 'success',
          headBranch: 'master',
          event: 'schedule',
        },
      },
    });
    expect(events[0]!.item).toBeUndefined();
    expect(events[0]!.change.data?.['durationMs']).toBe(67_000);
  });

  it('deployments and statuses: deployed with production and state', () => {
    const { ctx } = recordingContext({ repos: {}, production_environments: ['live'] });
    const deployment = {
      id: 7,
      sha: 'abc',
      ref: 'main',
      environment: 'live',
      creator: { login: 'deploy-bot', type: 'User' },
      created_at: '2024-03-01T10:00:00Z',
    };
    const status = { id: 70, state: 'failure', creator: null, created_at: '2024-03-01T10:05:00Z' };
    const events = valid(mapRestDeployment('acme/pay', deployment, [status], ctx));
    expect(events.map((e) => [e.sourceEventId, e.change.data?.['state'], e.change.data?.['production']])).toEqual([
      ['acme/pay/deployment/7', 'created', true],
      ['acme/pay/deployment/7/status/70', 'failure', true],
    ]);
    expect(events[1]!.actor).toBeNull();
  });
});

describe('webhook and backfill meet on the same ids', () => {
  const require = createRequire(import.meta.url);
  const definitions = require('@octokit/webhooks-examples') as { name: string; examples: Record<string, unknown>[] }[];
  const example = (name: string, action: string) =>
    structuredClone(definitions.find((d) => d.name === name)!.examples.find((e) => e['action'] === action)!);

  it('labeled, assigned, closed and commented give the ids the timeline gives', () => {
    const { ctx } = recordingContext(undefined);
    const labeled = example('issues', 'labeled');
    const issue = githubIssueSchema.parse(labeled['issue']);
    const sender = labeled['sender'] as { login: string; type: string };
    const at = issue.updated_at!;
    const closedAt = '2019-05-16T09:00:00Z';
    const comment = example('issue_comment', 'created')['comment'] as { id: number; body: string; created_at: string };
    const timeline: GithubTimelineEvent[] = [
      { event: 'labeled', id: 1, label: { name: 'bug' }, actor: sender, created_at: at },
      { event: 'assigned', id: 2, assignee: sender, actor: sender, created_at: at },
      { event: 'commented', id: comment.id, body: comment.body, user: sender, created_at: comment.created_at },
      { event: 'closed', id: 3, actor: sender, created_at: closedAt, state_reason: 'completed' },
    ];
    const backfill = mapRestIssue(
      'Codertocat/Hello-World',
      { ...issue, state: 'closed', closed_at: closedAt },
      ctx,
      timeline,
    );
    const webhookIds = [
      ...githubWebhooks.map('issues.labeled', labeled, ctx)!,
      ...githubWebhooks.map('issues.assigned', { ...labeled, action: 'assigned', assignee: sender }, ctx)!,
      ...githubWebhooks.map('issue_comment.created', example('issue_comment', 'created'), ctx)!,
      ...githubWebhooks.map(
        'issues.closed',
        { ...labeled, action: 'closed', issue: { ...issue, state: 'closed', closed_at: closedAt } },
        ctx,
      )!,
    ].map((e) => e.sourceEventId);
    expect(webhookIds).toHaveLength(5);
    expect(backfill.map((e) => e.sourceEventId)).toEqual(expect.arrayContaining(webhookIds));
  });
});

describe('properties', () => {
  it('any label on any repository maps to valid events with bounded, deterministic ids', () => {
    const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/);
    fc.assert(
      fc.property(
        name,
        name,
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.string({ minLength: 1, maxLength: 50 }),
        fc.boolean(),
        fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
        (owner, repo, number, label, added, date) => {
          const key = `${owner.slice(0, 39)}/${repo.slice(0, 40)}`;
          const { ctx } = recordingContext(undefined);
          const run = () =>
            labelEvents(
              openRepo(key, ctx),
              { key: `${key}#${number}` },
              { at: date.toISOString(), actor: null },
              label,
              added,
              [],
            );
          const events = run();
          expect(validateEventBatch(events).ok).toBe(true);
          for (const e of events) expect(e.sourceEventId.length).toBeLessThanOrEqual(200);
          expect(run()).toEqual(events);
        },
      ),
      { numRuns: 300 },
    );
  });
});
