import { createHash } from 'node:crypto';
import { verify as verifySignature } from '@octokit/webhooks-methods';
import { z } from 'zod';
import type { GithubMapping } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import type { EventInput, ItemRef } from '../../domain/event.js';
import type { DeliveryDescription, WebhookHeaders, WebhookProvider } from '../connector.types.js';
import {
  assigneeEvent,
  clampId,
  closedEvent,
  closedState,
  commentEvent,
  createdEvent,
  definitionEvent,
  deploymentEvent,
  deploymentStatusEvent,
  duplicateCommentEvents,
  checkedItemKey,
  githubActor,
  httpUrl,
  instant,
  isItemKey,
  itemKey,
  itemSnapshot,
  labelEvents,
  labelNames,
  linkedEvent,
  milestoneEvent,
  milestoneMeaningEvents,
  openRepo,
  pullMergedEvents,
  pullOpenedEvents,
  pullTargets,
  renamedEvent,
  reopenedEvent,
  reviewEvent,
  workflowRunEvent,
  type GithubContext,
  type Occasion,
  type RepoScope,
} from './github.mapper.js';
import { closingResolution } from './github.closing.js';
import {
  githubCommentSchema,
  githubDeploymentSchema,
  githubDeploymentStatusSchema,
  githubIssueSchema,
  githubLabelSchema,
  githubMilestoneSchema,
  githubPullSchema,
  githubReviewSchema,
  githubUserSchema,
  githubWebhookBaseSchema,
  githubWorkflowRunSchema,
  type GithubIssue,
  type GithubPull,
} from './github.schema.js';

/**
 * GitHub webhooks (repository or organisation hooks, or a GitHub App):
 * `X-Hub-Signature-256` is checked against `LANES_GITHUB_WEBHOOK_SECRET`, the
 * delivery is named by `X-GitHub-Delivery`, and `issues`, `issue_comment`,
 * `label`, `milestone`, `pull_request`, `pull_request_review`, `deployment`,
 * `deployment_status` and `workflow_run` are mapped with the same builders as
 * the backfill (see `github.mapper.ts` for how their ids meet).
 */

const changesSchema = z
  .looseObject({
    title: z.looseObject({ from: z.string() }).optional(),
    new_issue: githubIssueSchema.optional(),
    new_repository: z.looseObject({ full_name: z.string() }).optional(),
  })
  .nullish();

const issuesPayload = githubWebhookBaseSchema.extend({
  issue: githubIssueSchema,
  label: githubLabelSchema.nullish(),
  assignee: githubUserSchema.nullish(),
  milestone: githubMilestoneSchema.nullish(),
  changes: changesSchema,
});
type IssuesPayload = z.infer<typeof issuesPayload>;

const pullPayload = githubWebhookBaseSchema.extend({
  pull_request: githubPullSchema,
  label: githubLabelSchema.nullish(),
  assignee: githubUserSchema.nullish(),
  milestone: githubMilestoneSchema.nullish(),
  changes: changesSchema,
});

const commentPayload = githubWebhookBaseSchema.extend({ issue: githubIssueSchema, comment: githubCommentSchema });
const reviewPayload = githubWebhookBaseSchema.extend({ pull_request: githubPullSchema, review: githubReviewSchema });
const deploymentPayload = githubWebhookBaseSchema.extend({ deployment: githubDeploymentSchema });
const deploymentStatusPayload = deploymentPayload.extend({ deployment_status: githubDeploymentStatusSchema });
const runPayload = githubWebhookBaseSchema.extend({
  workflow_run: githubWorkflowRunSchema,
  workflow: z.looseObject({ name: z.string().nullish() }).nullish(),
});
const labelPayload = githubWebhookBaseSchema.extend({
  label: githubLabelSchema,
  changes: z.record(z.string(), z.unknown()).nullish(),
});
const milestonePayload = githubWebhookBaseSchema.extend({
  milestone: githubMilestoneSchema,
  changes: z.record(z.string(), z.unknown()).nullish(),
});

const parse = <T>(schema: z.ZodType<T>, payload: unknown, eventType: string): T => {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new AppError(
    'LANES_VALIDATION',
    `not a GitHub ${eventType} payload: ${issue.path.join('.')}: ${issue.message}`,
  );
};

/** Changes shared by issues and pull requests: assignees, labels, milestones. */
const itemFieldChange = (
  scope: RepoScope,
  item: ItemRef,
  on: Occasion,
  action: string | undefined,
  payload: Pick<IssuesPayload, 'label' | 'assignee' | 'milestone'>,
  issue: GithubIssue,
): EventInput[] | null => {
  switch (action) {
    case 'assigned':
    case 'unassigned': {
      if (!payload.assignee) return [];
      const others = (issue.assignees ?? []).map((u) => u.login).filter((l) => l !== payload.assignee!.login);
      return [assigneeEvent(item, on, payload.assignee.login, action === 'assigned', others)];
    }
    case 'labeled':
    case 'unlabeled': {
      // GitHub sends `unlabeled` without a label when the label itself was deleted.
      if (!payload.label) return [];
      const name = payload.label.name;
      const others = labelNames(issue.labels).filter((l) => l !== name);
      return labelEvents(scope, item, on, name, action === 'labeled', others);
    }
    case 'milestoned':
    case 'demilestoned': {
      const title = (action === 'milestoned' ? (issue.milestone ?? payload.milestone) : payload.milestone)?.title;
      if (!title) return [];
      const added = action === 'milestoned';
      return [milestoneEvent(item, on, title, added), ...milestoneMeaningEvents(scope, item, on, title, added)];
    }
    default:
      return null;
  }
};

/** When the change happened: webhooks name no time for it, but the object's `updated_at` moves with it. */
const updatedAt = (issue: GithubIssue): string => {
  const at = instant(issue.updated_at) ?? instant(issue.created_at);
  if (!at) throw new AppError('LANES_VALIDATION', `#${issue.number} has no readable created_at or updated_at`);
  return at;
};

const FIELD_ACTIONS = ['assigned', 'unassigned', 'labeled', 'unlabeled', 'milestoned', 'demilestoned'];
const ISSUE_ACTIONS = new Set([...FIELD_ACTIONS, 'opened', 'edited', 'closed', 'reopened', 'transferred', 'deleted']);
const PULL_ACTIONS = new Set([...FIELD_ACTIONS, 'opened', 'reopened', 'ready_for_review', 'closed', 'edited']);

const mapIssues = (action: string | undefined, payload: unknown, ctx: GithubContext): EventInput[] | null => {
  if (!action || !ISSUE_ACTIONS.has(action)) return null;
  const p = parse(issuesPayload, payload, 'issues');
  const scope = openRepo(p.repository.full_name, ctx);
  const { issue } = p;
  const item = itemSnapshot(scope, issue);
  const actor = githubActor(p.sender, scope.mapping);
  const on: Occasion = { at: updatedAt(issue), actor };
  switch (action) {
    case 'opened':
      return [createdEvent(item, { at: instant(issue.created_at) ?? on.at, actor }, { number: issue.number })];
    case 'edited':
      return p.changes?.title ? [renamedEvent(item, on, p.changes.title.from, issue.title)] : [];
    case 'closed': {
      const at = instant(issue.closed_at) ?? on.at;
      const reason = closingResolution(
        scope.mapping,
        issue.state_reason,
        labelNames(issue.labels),
        issue.milestone?.title,
      );
      const data = { stateReason: issue.state_reason };
      return [closedEvent(item, { at, actor }, closedState(scope, issue.state_reason), reason, data)];
    }
    case 'reopened':
      return [reopenedEvent(scope, item, on)];
    case 'transferred': {
      const target = p.changes?.new_issue;
      const repo = p.changes?.new_repository?.full_name;
      const events: EventInput[] = [];
      const moved = target && repo ? itemKey(repo, target.number) : undefined;
      if (moved && isItemKey(moved)) events.push(linkedEvent(item, on, moved, 'transferred_to'));
      events.push(closedEvent(item, on, 'duplicate', 'transferred'));
      return events;
    }
    case 'deleted':
      return [closedEvent(item, on, 'wont_fix', 'deleted')];
    default:
      return itemFieldChange(scope, item, on, action, p, issue);
  }
};

const mapPullRequest = (action: string | undefined, payload: unknown, ctx: GithubContext): EventInput[] | null => {
  if (!action || !PULL_ACTIONS.has(action)) return null;
  const p = parse(pullPayload, payload, 'pull_request');
  const scope = openRepo(p.repository.full_name, ctx);
  const pull: GithubPull = p.pull_request;
  const prItem = itemSnapshot(scope, pull, true);
  const actor = githubActor(p.sender, scope.mapping);
  const on: Occasion = { at: updatedAt(pull), actor };
  switch (action) {
    case 'opened':
      return pullOpenedEvents(scope, pull, { at: instant(pull.created_at) ?? on.at, actor }, 'opened', prItem);
    case 'reopened':
      return pullOpenedEvents(scope, pull, on, 'reopened', prItem);
    case 'ready_for_review':
      return pullOpenedEvents(scope, pull, on, 'ready', prItem);
    case 'closed': {
      const closedAt = instant(pull.closed_at) ?? on.at;
      const mergedAt = instant(pull.merged_at);
      if (pull.merged || mergedAt)
        return pullMergedEvents(scope, pull, { at: mergedAt ?? closedAt, actor }, closedAt, prItem);
      return [closedEvent(prItem, { at: closedAt, actor }, 'wont_fix', 'unmerged')];
    }
    case 'edited': {
      const events: EventInput[] = [];
      if (p.changes?.title) events.push(renamedEvent(prItem, on, p.changes.title.from, pull.title));
      for (const target of pullTargets(scope.repo, pull))
        events.push(linkedEvent(prItem, on, target.key, target.relation));
      return events;
    }
    default:
      return itemFieldChange(scope, prItem, on, action, p, pull);
  }
};

const mapIssueComment = (action: string | undefined, payload: unknown, ctx: GithubContext): EventInput[] | null => {
  if (action !== 'created') return null;
  const p = parse(commentPayload, payload, 'issue_comment');
  const scope = openRepo(p.repository.full_name, ctx);
  const at = instant(p.comment.created_at) ?? updatedAt(p.issue);
  const on = { at, actor: githubActor(p.sender, scope.mapping) };
  const item = itemSnapshot(scope, p.issue);
  const association = (p.comment as { author_association?: unknown }).author_association;
  const marks = p.issue.pull_request ? [] : duplicateCommentEvents(scope, item, on, p.comment.body, association);
  return [commentEvent(item, on, p.comment.id, p.comment.body), ...marks];
};

const mapReview = (action: string | undefined, payload: unknown, ctx: GithubContext): EventInput[] | null => {
  if (action !== 'submitted') return null;
  const p = parse(reviewPayload, payload, 'pull_request_review');
  const scope = openRepo(p.repository.full_name, ctx);
  const at = instant(p.review.submitted_at) ?? updatedAt(p.pull_request);
  const prItem = itemSnapshot(scope, p.pull_request, true);
  const event = reviewEvent(scope.repo, prItem, p.pull_request.number, p.review, {
    at,
    actor: githubActor(p.sender, scope.mapping),
  });
  return event ? [event] : [];
};

const mapDeployment = (action: string | undefined, payload: unknown, ctx: GithubContext): EventInput[] | null => {
  if (action !== 'created') return null;
  const p = parse(deploymentPayload, payload, 'deployment');
  const scope = openRepo(p.repository.full_name, ctx);
  const event = deploymentEvent(scope, p.deployment, githubActor(p.sender, scope.mapping));
  return event ? [event] : [];
};

const mapDeploymentStatus = (action: string | undefined, payload: unknown, ctx: GithubContext) => {
  if (action !== 'created') return null;
  const p = parse(deploymentStatusPayload, payload, 'deployment_status');
  const scope = openRepo(p.repository.full_name, ctx);
  const event = deploymentStatusEvent(scope, p.deployment, p.deployment_status, githubActor(p.sender, scope.mapping));
  return event ? [event] : [];
};

const mapWorkflowRun = (action: string | undefined, payload: unknown, ctx: GithubContext): EventInput[] | null => {
  const p = parse(runPayload, payload, 'workflow_run');
  const scope = openRepo(p.repository.full_name, ctx);
  // The action is the status the delivery announces; the embedded run can lag behind it.
  const status = action === 'completed' || action === 'in_progress' ? action : p.workflow_run.status;
  const run = { ...p.workflow_run, status, name: p.workflow_run.name ?? p.workflow?.name };
  const event = workflowRunEvent(scope, run, githubActor(p.sender, scope.mapping));
  return event ? [event] : [];
};

const LABEL_ACTIONS = new Set(['created', 'edited', 'deleted']);
const MILESTONE_ACTIONS = new Set(['created', 'opened', 'closed', 'edited', 'deleted']);

const digest = (value: unknown): string =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

const mapLabel = (action: string | undefined, payload: unknown, ctx: GithubContext): EventInput[] | null => {
  if (!action || !LABEL_ACTIONS.has(action)) return null;
  const p = parse(labelPayload, payload, 'label');
  const scope = openRepo(p.repository.full_name, ctx);
  // A label carries no timestamp: use when the delivery arrived, else the repository's last change.
  const at = instant(ctx.receivedAt) ?? instant(p.repository.updated_at) ?? instant(p.repository.pushed_at);
  if (!at) return [];
  const { label } = p;
  const id = `label/${label.id ?? label.name}/${action}${action === 'edited' ? `/${digest([label, p.changes])}` : ''}`;
  return [
    definitionEvent(
      scope,
      id,
      { at, actor: githubActor(p.sender, scope.mapping) },
      {
        type: 'label',
        action,
        name: label.name,
        color: label.color ?? undefined,
        description: label.description ?? undefined,
        changes: p.changes ?? undefined,
      },
    ),
  ];
};

const mapMilestone = (action: string | undefined, payload: unknown, ctx: GithubContext): EventInput[] | null => {
  if (!action || !MILESTONE_ACTIONS.has(action)) return null;
  const p = parse(milestonePayload, payload, 'milestone');
  const scope = openRepo(p.repository.full_name, ctx);
  const { milestone } = p;
  const at =
    (action === 'created' ? instant(milestone.created_at) : undefined) ??
    (action === 'closed' ? instant(milestone.closed_at) : undefined) ??
    instant(milestone.updated_at) ??
    instant(milestone.created_at);
  if (!at) return [];
  const id = `milestone/${milestone.id ?? milestone.number ?? milestone.title}/${action}/${at.slice(0, 19)}Z`;
  return [
    definitionEvent(
      scope,
      id,
      { at, actor: githubActor(p.sender, scope.mapping) },
      {
        type: 'milestone',
        action,
        name: milestone.title,
        number: milestone.number,
        state: milestone.state,
        dueOn: milestone.due_on ?? undefined,
        changes: p.changes ?? undefined,
      },
    ),
  ];
};

const itemOfPayload = z.looseObject({
  repository: z.looseObject({ full_name: z.string() }),
  sender: z.looseObject({ login: z.string(), type: z.string().optional() }).nullish(),
  issue: z
    .looseObject({ number: z.number(), html_url: z.string().optional(), updated_at: z.string().nullish() })
    .optional(),
  pull_request: z
    .looseObject({ number: z.number(), html_url: z.string().optional(), updated_at: z.string().nullish() })
    .optional(),
  comment: z.looseObject({ id: z.number(), updated_at: z.string().nullish() }).optional(),
  review: z.looseObject({ id: z.number(), submitted_at: z.string().nullish() }).optional(),
});

/**
 * Actions on an issue or pull request that change nothing Lanes models
 * (locked, pinned, a body or comment edited, commits pushed, a review
 * requested or dismissed) still say who worked on the item and when: they
 * become an `activity` event rather than being dropped.
 */
const activityOnItem = (
  name: string,
  action: string | undefined,
  payload: unknown,
  ctx: GithubContext,
): EventInput[] | null => {
  const parsed = itemOfPayload.safeParse(payload);
  if (!parsed.success) return null;
  const p = parsed.data;
  const target = p.pull_request ?? p.issue;
  if (!target) return null;
  const scope = openRepo(p.repository.full_name, ctx);
  const at =
    instant(p.comment?.updated_at) ??
    instant(p.review?.submitted_at) ??
    instant(target.updated_at) ??
    instant(ctx.receivedAt);
  if (!at) return null;
  const key = checkedItemKey(p.repository.full_name, target.number);
  const what = action ? `${name}.${action}` : name;
  const detail = p.comment ? `/comment/${p.comment.id}` : p.review ? `/review/${p.review.id}` : '';
  const url = httpUrl(target.html_url);
  return [
    {
      source: 'github',
      sourceEventId: clampId(`${key}/activity/${what}${detail}/${at}`),
      occurredAt: at,
      actor: p.sender ? githubActor(p.sender as never, scope.mapping) : null,
      item: { key, ...(url ? { url } : {}) },
      change: { kind: 'activity', data: { action: what } },
    },
  ];
};

type HookMapper = (action: string | undefined, payload: unknown, ctx: GithubContext) => EventInput[] | null;

const MAPPERS: Record<string, HookMapper> = {
  issues: mapIssues,
  issue_comment: mapIssueComment,
  label: mapLabel,
  milestone: mapMilestone,
  pull_request: mapPullRequest,
  pull_request_review: mapReview,
  deployment: mapDeployment,
  deployment_status: mapDeploymentStatus,
  workflow_run: mapWorkflowRun,
};

/** `issues` + a payload whose action is `opened` → `issues.opened`; a type that has its action already stays. */
const refineEventType = (eventType: string, payload: unknown): string => {
  if (eventType.includes('.')) return eventType;
  const action = (payload as { action?: unknown } | null)?.action;
  return typeof action === 'string' && action ? `${eventType}.${action}` : eventType;
};

const header = (headers: WebhookHeaders, name: string): string | undefined => {
  const value = headers[name]?.trim();
  return value ? value : undefined;
};

const fromHeaders = (headers: WebhookHeaders): DeliveryDescription => {
  const deliveryId = header(headers, 'x-github-delivery');
  if (!deliveryId) throw new AppError('LANES_VALIDATION', 'the X-GitHub-Delivery header is missing');
  const event = header(headers, 'x-github-event');
  if (!event) throw new AppError('LANES_VALIDATION', 'the X-GitHub-Event header is missing');
  return { deliveryId, eventType: event };
};

/** The GitHub webhook provider. */
export const githubWebhooks: WebhookProvider<GithubMapping> = {
  name: 'github',
  secretName: 'LANES_GITHUB_WEBHOOK_SECRET',

  async verify(secret: string, rawBody: Buffer, headers: WebhookHeaders): Promise<void> {
    const signature = header(headers, 'x-hub-signature-256');
    if (!signature) throw new AppError('LANES_WEBHOOK_SIGNATURE', 'the X-Hub-Signature-256 header is missing');
    // An empty body or secret makes the library throw rather than compute an HMAC: nothing can match then.
    const valid = await verifySignature(secret, rawBody.toString('utf8'), signature).catch(() => false);
    if (!valid) {
      throw new AppError(
        'LANES_WEBHOOK_SIGNATURE',
        'X-Hub-Signature-256 does not match the body and the configured secret',
      );
    }
  },

  describe(payload: unknown, _rawBody: Buffer, headers: WebhookHeaders): DeliveryDescription {
    const { deliveryId, eventType } = fromHeaders(headers);
    return { deliveryId, eventType: refineEventType(eventType, payload) };
  },

  describeFromHeaders: (_rawBody: Buffer, headers: WebhookHeaders): DeliveryDescription => fromHeaders(headers),

  refineEventType: (eventType: string, payload: unknown): string => refineEventType(eventType, payload),

  map(rawEventType: string, payload: unknown, ctx: GithubContext): EventInput[] | null {
    const eventType = refineEventType(rawEventType, payload);
    const dot = eventType.indexOf('.');
    const name = dot < 0 ? eventType : eventType.slice(0, dot);
    const action = dot < 0 ? undefined : eventType.slice(dot + 1);
    const mapper = Object.hasOwn(MAPPERS, name) ? MAPPERS[name] : undefined;
    if (!mapper) return null;
    const mapped = mapper(action, payload, ctx);
    return mapped && mapped.length > 0 ? mapped : (activityOnItem(name, action, payload, ctx) ?? mapped);
  },
};
