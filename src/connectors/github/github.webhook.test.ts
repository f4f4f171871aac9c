import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import type { GithubMapping, UnmappedCategory } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import { validateEventBatch, type EventInput } from '../../domain/event.js';
import type { MapContext } from '../connector.types.js';
import { githubWebhooks } from './github.webhook.js';

interface Definition {
  name: string;
  examples: Record<string, unknown>[];
}

const require = createRequire(import.meta.url);
const definitions = require('@octokit/webhooks-examples') as Definition[];

const EVENT_NAMES = [
  'issues',
  'issue_comment',
  'label',
  'milestone',
  'pull_request',
  'pull_request_review',
  'deployment',
  'deployment_status',
  'workflow_run',
];

/** Actions that change nothing Lanes models: they map to one `activity` event (who worked on the item, when). */
const ACTIVITY_ONLY = new Set([
  'issues.locked',
  'issues.unlocked',
  'issues.pinned',
  'issues.unpinned',
  'issue_comment.edited',
  'issue_comment.deleted',
  'pull_request.converted_to_draft',
  'pull_request.locked',
  'pull_request.unlocked',
  'pull_request.review_requested',
  'pull_request.review_request_removed',
  'pull_request.synchronize',
  'pull_request_review.dismissed',
]);

/** Tracked actions whose examples may carry no change Lanes models (an `issues.edited` of the body only). */
const MAY_BE_ACTIVITY = new Set(['issues.edited']);

const SECRET = 'It’s a Secret to Everybody';
const MAPPING: GithubMapping = {
  repos: { 'Codertocat/Hello-World': { team: 'core', component: 'hello' }, 'octo-org/octo-repo': { team: 'platform' } },
};

const context = (mapping: GithubMapping | undefined = MAPPING) => {
  const unmapped: string[] = [];
  const ctx: MapContext<GithubMapping> = {
    mapping,
    unmapped: (category: UnmappedCategory, value: string) => void unmapped.push(`${category}:${value}`),
  };
  return { ctx, unmapped };
};

const examplesOf = (name: string): Record<string, unknown>[] => {
  const found = definitions.find((d) => d.name === name);
  if (!found) throw new Error(`no examples for ${name}`);
  return found.examples;
};

const exampleOf = (name: string, action: string): Record<string, unknown> => {
  const found = examplesOf(name).find((e) => e['action'] === action);
  if (!found) throw new Error(`no ${name}.${action} example`);
  return structuredClone(found);
};

const headersFor = (name: string, signature: string | undefined, delivery = 'd-1') => ({
  'x-github-event': name,
  'x-github-delivery': delivery,
  ...(signature ? { 'x-hub-signature-256': signature } : {}),
});

const mapValid = (eventType: string, payload: unknown, mapping?: GithubMapping): EventInput[] => {
  const { ctx } = context(mapping);
  const events = githubWebhooks.map(eventType, payload, ctx);
  expect(events).not.toBeNull();
  const checked = validateEventBatch(events);
  if (!checked.ok) throw new Error(JSON.stringify(checked.rejections));
  return checked.events;
};

const signatureError = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe('LANES_WEBHOOK_SIGNATURE');
};

const cases = EVENT_NAMES.flatMap((name) =>
  examplesOf(name).map((payload, index) => ({ name, index, payload, action: payload['action'] as string | undefined })),
);

describe('githubWebhooks with every @octokit/webhooks-examples payload of the mapped events', () => {
  it('covers all nine event types', () => {
    expect(new Set(cases.map((c) => c.name))).toEqual(new Set(EVENT_NAMES));
    expect(cases.length).toBeGreaterThan(80);
  });

  it.each(cases)('$name.$action #$index: verifies, describes and maps', async ({ name, payload, action }) => {
    const body = JSON.stringify(payload);
    const raw = Buffer.from(body);
    const signature = await sign(SECRET, body);
    await githubWebhooks.verify(SECRET, raw, headersFor(name, signature));
    const description = githubWebhooks.describe(
      payload,
      raw,
      headersFor(name, signature, `delivery-${name}`),
      new Date(),
    );
    expect(description.deliveryId).toBe(`delivery-${name}`);
    const eventType = action ? `${name}.${action}` : name;
    expect(description.eventType).toBe(eventType);

    const { ctx } = context();
    const mapped = githubWebhooks.map(description.eventType, payload, ctx);
    expect(mapped).not.toBeNull();
    const checked = validateEventBatch(mapped);
    expect(checked.ok ? [] : checked.rejections).toEqual([]);
    expect(mapped!.length).toBeGreaterThan(0);
    if (ACTIVITY_ONLY.has(eventType)) {
      expect(mapped!.map((e) => [e.change.kind, e.change.data?.['action']])).toEqual([['activity', eventType]]);
    } else if (!MAY_BE_ACTIVITY.has(eventType)) {
      expect(mapped!.every((e) => e.change.kind !== 'activity')).toBe(true);
    }
    const sender = payload['sender'] as { login: string; type: string };
    const expected = sender.type === 'Bot' ? { kind: 'bot', id: sender.login } : { kind: 'github', id: sender.login };
    for (const event of mapped!) {
      expect(event.source).toBe('github');
      expect(event.actor).toEqual(expected);
    }
    // Mapping is pure: the same delivery maps to the same events.
    expect(githubWebhooks.map(description.eventType, payload, context().ctx)).toEqual(mapped);
  });

  it.each(cases.filter((_, i) => i % 7 === 0))(
    '$name.$action #$index: a wrong, missing or stale signature is refused',
    async ({ name, payload }) => {
      const body = JSON.stringify(payload);
      const signature = await sign(SECRET, body);
      await signatureError(
        githubWebhooks.verify(SECRET, Buffer.from(body), headersFor(name, await sign('wrong', body))),
      );
      await signatureError(githubWebhooks.verify(SECRET, Buffer.from(body), headersFor(name, undefined)));
      const altered = body.replace('"sender"', '"sendr"');
      expect(altered).not.toBe(body);
      await signatureError(githubWebhooks.verify(SECRET, Buffer.from(altered), headersFor(name, signature)));
      await signatureError(githubWebhooks.verify(SECRET, Buffer.from(body), headersFor(name, 'sha1=abc')));
    },
  );
});

describe('githubWebhooks.describe and verify edges', () => {
  it('names events without an action by the event alone, and needs a delivery id', async () => {
    const ping = { zen: 'Keep it logically awesome.', hook_id: 1 };
    const raw = Buffer.from(JSON.stringify(ping));
    expect(githubWebhooks.describe(ping, raw, headersFor('ping', undefined, 'p-1'), new Date())).toEqual({
      deliveryId: 'p-1',
      eventType: 'ping',
    });
    expect(() => githubWebhooks.describe(ping, raw, { 'x-github-event': 'ping' }, new Date())).toThrow(
      expect.objectContaining({ code: 'LANES_VALIDATION' }),
    );
    expect(githubWebhooks.map('ping', ping, context().ctx)).toBeNull();
    expect(githubWebhooks.map('star.created', {}, context().ctx)).toBeNull();
    await signatureError(githubWebhooks.verify(SECRET, Buffer.alloc(0), headersFor('ping', await sign(SECRET, 'x'))));
  });

  it('refuses a tracked payload that lacks what it needs', () => {
    expect(() =>
      githubWebhooks.map('issues.opened', { sender: null, repository: { full_name: 'a/b' } }, context().ctx),
    ).toThrow(expect.objectContaining({ code: 'LANES_VALIDATION' }));
  });
});

describe('githubWebhooks.map values', () => {
  it('issues.opened: created with the item as GitHub shows it', () => {
    const payload = exampleOf('issues', 'opened');
    const [created] = mapValid('issues.opened', payload);
    expect(created).toMatchObject({
      sourceEventId: 'Codertocat/Hello-World#1/created',
      actor: { kind: 'github', id: 'Codertocat' },
      item: {
        key: 'Codertocat/Hello-World#1',
        title: 'Spelling error in the README file',
        url: 'https://github.com/Codertocat/Hello-World/issues/1',
        state: 'new',
        team: 'core',
        component: 'hello',
      },
      change: { kind: 'created' },
    });
  });

  it('issues.labeled: label_added with the label as target, and the kind it means', () => {
    const payload = exampleOf('issues', 'labeled');
    const events = mapValid('issues.labeled', payload);
    expect(events.map((e) => e.change)).toEqual([
      { kind: 'label_added', target: 'bug' },
      { kind: 'field_changed', field: 'kind', from: null, to: 'bug' },
    ]);
    expect(events[0]!.sourceEventId).toBe('Codertocat/Hello-World#1/labeled/bug/2019-05-15T15:20:18Z');
    expect(events[1]!.sourceEventId).toBe('Codertocat/Hello-World#1/labeled/bug/2019-05-15T15:20:18Z/kind');
    expect(events[0]!.item?.kind).toBe('bug');
  });

  it('issues.labeled with a label nobody mapped: label_added only, and the label is reported', () => {
    const payload = exampleOf('issues', 'labeled');
    (payload['label'] as { name: string }).name = 'needs-triage';
    const { ctx, unmapped } = context();
    const events = githubWebhooks.map('issues.labeled', payload, ctx)!;
    expect(events.map((e) => e.change)).toEqual([{ kind: 'label_added', target: 'needs-triage' }]);
    expect(unmapped).toContain('label:needs-triage');
  });

  it('issues.unassigned and assigned: the assignee field', () => {
    const [unassigned] = mapValid('issues.unassigned', exampleOf('issues', 'unassigned'));
    expect(unassigned!.change).toEqual({ kind: 'field_changed', field: 'assignee', from: 'Codertocat', to: null });
    const [assigned] = mapValid('issues.assigned', exampleOf('issues', 'assigned'));
    expect(assigned!.change).toMatchObject({ kind: 'field_changed', field: 'assignee', to: 'Codertocat' });
  });

  it('issues.closed: closed with the state its reason means', () => {
    const payload = exampleOf('issues', 'reopened');
    const issue = payload['issue'] as Record<string, unknown>;
    Object.assign(issue, { state: 'closed', state_reason: 'not_planned', closed_at: '2021-10-12T08:00:00Z' });
    const [closed] = mapValid('issues.closed', { ...payload, action: 'closed' });
    expect(closed).toMatchObject({
      occurredAt: '2021-10-12T08:00:00.000Z',
      sourceEventId: 'Codertocat/Hello-World#1/closed/2021-10-12T08:00:00Z',
      item: { state: 'wont_fix' },
      change: { kind: 'closed', to: 'wont_fix', data: { resolution: 'not_planned', sourceState: 'closed' } },
    });
  });

  it('issues.transferred: a link to the new issue and the old one closed', () => {
    const events = mapValid('issues.transferred', exampleOf('issues', 'transferred'));
    expect(events.map((e) => [e.change.kind, e.change.target ?? e.change.to])).toEqual([
      ['linked', 'Codertocat/Hello-World#1'],
      ['closed', 'duplicate'],
    ]);
  });

  it('issue_comment.created: commented with the body as text', () => {
    const payload = exampleOf('issue_comment', 'created');
    const [comment] = mapValid('issue_comment.created', payload);
    const body = (payload['comment'] as { body: string }).body;
    expect(comment).toMatchObject({
      change: { kind: 'commented', text: body },
      item: { key: 'Codertocat/Hello-World#1' },
    });
    expect(comment!.sourceEventId).toBe('Codertocat/Hello-World#1/comment/492700400');
  });

  it('pull_request.closed unmerged: the PR closed as won’t fix', () => {
    const [closed] = mapValid('pull_request.closed', exampleOf('pull_request', 'closed'));
    expect(closed!.change).toMatchObject({ kind: 'closed', to: 'wont_fix', data: { resolution: 'unmerged' } });
  });

  it('pull_request.closed merged: pr_merged on the PR and on the issue it fixes, with a link', () => {
    const payload = exampleOf('pull_request', 'closed');
    const pull = payload['pull_request'] as Record<string, unknown>;
    Object.assign(pull, {
      merged: true,
      merged_at: '2019-05-15T15:21:10Z',
      merge_commit_sha: 'c4295bd74fb0f4fda03689c3df3f2803b658fd85',
      additions: 12,
      deletions: 3,
      changed_files: 2,
      title: 'PAY-7 Update the README with new information',
      body: 'This fixes #1 and closes octo-org/octo-repo#9.',
    });
    const events = mapValid('pull_request.closed', payload);
    const byId = new Map(events.map((e) => [e.sourceEventId, e]));
    expect(byId.get('Codertocat/Hello-World#2/pr_merged')?.change).toEqual({
      kind: 'pr_merged',
      data: {
        pr: 2,
        repo: 'Codertocat/Hello-World',
        baseRef: 'master',
        mergeCommitSha: 'c4295bd74fb0f4fda03689c3df3f2803b658fd85',
        additions: 12,
        deletions: 3,
        changedFiles: 2,
      },
    });
    expect(byId.get('Codertocat/Hello-World#2/closed/2019-05-15T15:21:18Z')?.change.to).toBe('done');
    const onIssue = byId.get('Codertocat/Hello-World#2/pr_merged/for/Codertocat/Hello-World#1');
    expect(onIssue).toMatchObject({
      item: { key: 'Codertocat/Hello-World#1', team: 'core' },
      change: { kind: 'pr_merged' },
    });
    expect(byId.get('Codertocat/Hello-World#2/pr_merged/for/PAY-7')?.item).toEqual({ key: 'PAY-7' });
    expect(byId.get('Codertocat/Hello-World#2/pr_merged/for/octo-org/octo-repo#9')?.item?.key).toBe(
      'octo-org/octo-repo#9',
    );
    const links = events
      .filter((e) => e.change.kind === 'linked')
      .map((e) => [e.change.target, e.change.data?.['relation']]);
    expect(links).toEqual([
      ['Codertocat/Hello-World#1', 'fixes'],
      ['octo-org/octo-repo#9', 'fixes'],
      ['PAY-7', 'references'],
    ]);
    expect(events.every((e) => e.occurredAt <= '2019-05-15T15:21:18.000Z')).toBe(true);
  });

  it('pull_request.opened: pr_opened, the PR item under review', () => {
    const [opened] = mapValid('pull_request.opened', exampleOf('pull_request', 'opened'));
    expect(opened).toMatchObject({
      sourceEventId: 'Codertocat/Hello-World#2/pr_opened',
      item: { key: 'Codertocat/Hello-World#2', state: 'in_review' },
      change: { kind: 'pr_opened', data: { pr: 2, repo: 'Codertocat/Hello-World', headRef: 'changes' } },
    });
  });

  it('pull_request_review.submitted: review_submitted with its verdict', () => {
    const payload = exampleOf('pull_request_review', 'submitted');
    const [review] = mapValid('pull_request_review.submitted', payload);
    const state = (payload['review'] as { state: string }).state.toLowerCase();
    expect(review!.change).toMatchObject({ kind: 'review_submitted', data: { state, pr: 2, reviewId: 237895671 } });
    expect(typeof review!.change.data?.['bodyLength']).toBe('number');
  });

  it('deployment and deployment_status: deployed, itemless, with the state', () => {
    const [deployment] = mapValid('deployment.created', exampleOf('deployment', 'created'));
    expect(deployment!.item).toBeUndefined();
    expect(deployment!.change.data).toMatchObject({
      repo: 'Codertocat/Hello-World',
      environment: 'production',
      production: true,
      deploymentId: 145988746,
      state: 'created',
      sha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e',
      ref: 'master',
    });
    const [status] = mapValid('deployment_status.created', exampleOf('deployment_status', 'created'));
    expect(status!.change).toMatchObject({ kind: 'deployed', data: { state: 'success', statusId: 209916254 } });
    expect(status!.occurredAt).toBe('2019-05-15T15:20:55.000Z');
    const staging = mapValid('deployment_status.created', exampleOf('deployment_status', 'created'), {
      repos: {},
      production_environments: ['live'],
    });
    expect(staging[0]!.change.data?.['production']).toBe(false);
  });

  it('workflow_run.completed: ci_run with conclusion and duration', () => {
    const run = examplesOf('workflow_run').find(
      (e) => e['action'] === 'completed' && (e['workflow_run'] as { conclusion: unknown }).conclusion,
    )!;
    const [ci] = mapValid('workflow_run.completed', run);
    const wr = run['workflow_run'] as { id: number; conclusion: string; head_sha: string };
    expect(ci!.sourceEventId).toBe(`octo-org/octo-repo/run/${wr.id}/1/completed`);
    expect(ci!.change).toMatchObject({
      kind: 'ci_run',
      data: { runId: wr.id, runAttempt: 1, status: 'completed', conclusion: wr.conclusion, headSha: wr.head_sha },
    });
    expect(typeof ci!.change.data?.['durationMs']).toBe('number');
  });

  it('label and milestone: definition_changed', () => {
    const [label] = mapValid('label.edited', exampleOf('label', 'edited'));
    expect(label!.change).toMatchObject({
      kind: 'definition_changed',
      data: { type: 'label', action: 'edited', name: ':bug: Bugfix', changes: { color: { from: 'cb1f00' } } },
    });
    const [milestone] = mapValid('milestone.closed', exampleOf('milestone', 'closed'));
    expect(milestone!.change.data).toMatchObject({ type: 'milestone', action: 'closed', name: 'v1.0' });
    expect(milestone!.occurredAt).toBe('2019-05-15T15:20:18.000Z');
  });

  it('a bot sender is a bot, and an unknown repository is reported as unmapped scope', () => {
    const payload = exampleOf('issue_comment', 'created');
    Object.assign(payload['sender'] as object, { login: 'renovate[bot]', type: 'Bot' });
    const { ctx, unmapped } = context({ repos: {} });
    const [comment] = githubWebhooks.map('issue_comment.created', payload, ctx)!;
    expect(comment!.actor).toEqual({ kind: 'bot', id: 'renovate[bot]' });
    expect(comment!.item?.team).toBeUndefined();
    expect(unmapped).toEqual(['scope:Codertocat/Hello-World']);
  });
});
