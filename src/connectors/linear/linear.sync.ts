import { z } from 'zod';
import type { LinearMapping } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import type { EventInput, ItemRef } from '../../domain/event.js';
import type { SyncHttp, SyncPlan, SyncStream } from '../connector.types.js';
import {
  createdEvents,
  estimateText,
  fieldEvent,
  issueKey,
  labelEvents,
  httpUrl,
  LINEAR_SOURCE,
  linearActor,
  linearTime,
  scopeOfTeam,
  priorityOfNumber,
  sprintName,
  stateOf,
  type LinearContext,
} from './linear.mapper.js';

/**
 * Backfill and incremental sync of one Linear team through the GraphQL API
 * (`POST /graphql`): issues by `updatedAt`, each with its history, mapped to
 * the same events (and ids, see `linear.mapper.ts`) the webhooks give.
 */

const PAGE_SIZE = 50;

const HISTORY_SELECTION = `nodes {
      id createdAt
      actor { id name }
      fromState { name type } toState { name type }
      fromAssignee { id name } toAssignee { id name }
      fromPriority toPriority fromEstimate toEstimate fromTitle toTitle
      fromCycle { name number } toCycle { name number }
      addedLabels { name } removedLabels { name }
    }
    pageInfo { hasNextPage endCursor }`;

export const LINEAR_ISSUES_QUERY = `query LanesIssues($filter: IssueFilter, $cursor: String) {
  issues(first: ${PAGE_SIZE}, after: $cursor, orderBy: updatedAt, filter: $filter) {
    nodes {
      id identifier number title createdAt updatedAt url priority estimate
      team { key }
      state { name type }
      assignee { id name }
      creator { id name }
      labels { nodes { name } }
      cycle { name number }
      history(first: ${PAGE_SIZE}) {
    ${HISTORY_SELECTION}
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const LINEAR_HISTORY_QUERY = `query LanesIssueHistory($id: String!, $cursor: String) {
  issue(id: $id) {
    history(first: ${PAGE_SIZE}, after: $cursor) {
    ${HISTORY_SELECTION}
    }
  }
}`;

const isoTime = z.iso.datetime({ offset: true });
const person = z.looseObject({ id: z.string(), name: z.string().nullish() }).nullish();
const state = z.looseObject({ name: z.string().nullish(), type: z.string().nullish() }).nullish();
const cycle = z.looseObject({ name: z.string().nullish(), number: z.number().nullish() }).nullish();
const labelList = z.array(z.looseObject({ name: z.string() })).nullish();
const pageInfo = z.looseObject({ hasNextPage: z.boolean(), endCursor: z.string().nullish() });

const historySchema = z.looseObject({
  id: z.string(),
  createdAt: isoTime,
  actor: person,
  fromState: state,
  toState: state,
  fromAssignee: person,
  toAssignee: person,
  fromPriority: z.number().nullish(),
  toPriority: z.number().nullish(),
  fromEstimate: z.number().nullish(),
  toEstimate: z.number().nullish(),
  fromTitle: z.string().nullish(),
  toTitle: z.string().nullish(),
  fromCycle: cycle,
  toCycle: cycle,
  addedLabels: labelList,
  removedLabels: labelList,
});
export type LinearHistoryEntry = z.infer<typeof historySchema>;

const historyConnection = z.looseObject({ nodes: z.array(historySchema), pageInfo });

/** An issue of the `issues` query, as the sync reads it. */
export const linearIssueSchema = z.looseObject({
  id: z.string(),
  identifier: z.string().nullish(),
  number: z.number().nullish(),
  title: z.string().nullish(),
  createdAt: isoTime,
  updatedAt: isoTime,
  url: z.string().nullish(),
  priority: z.number().nullish(),
  estimate: z.number().nullish(),
  team: z.looseObject({ key: z.string().nullish() }).nullish(),
  state,
  assignee: person,
  creator: person,
  labels: z.looseObject({ nodes: z.array(z.looseObject({ name: z.string() })) }).nullish(),
  cycle,
  history: historyConnection,
});
export type LinearIssue = z.infer<typeof linearIssueSchema>;

const issuesDataSchema = z.looseObject({
  issues: z.looseObject({ nodes: z.array(linearIssueSchema), pageInfo }),
});
const historyDataSchema = z.looseObject({
  issue: z.looseObject({ history: historyConnection }).nullable(),
});

const graphqlErrorSchema = z.looseObject({
  message: z.string().optional(),
  extensions: z.looseObject({ code: z.string().optional() }).nullish(),
});
const graphqlBodySchema = z.looseObject({
  data: z.unknown().optional(),
  errors: z.array(graphqlErrorSchema).nullish(),
});

/** One GraphQL request; GraphQL errors in a 200 become AppErrors. */
const graphql = async <T>(
  http: SyncHttp,
  query: string,
  variables: Record<string, unknown>,
  schema: z.ZodType<T>,
): Promise<T> => {
  const res = await http.request({ method: 'POST', url: '/graphql', body: { query, variables } });
  const body = graphqlBodySchema.safeParse(res.body);
  if (!body.success) throw new AppError('LANES_UPSTREAM_FAILED', 'Linear answered with something that is not GraphQL');
  const errors = body.data.errors ?? [];
  if (errors.some((e) => e.extensions?.code === 'RATELIMITED')) {
    const reset = Number(res.headers.get('x-ratelimit-requests-reset'));
    const details = Number.isFinite(reset) && reset > 0 ? { retryAfterMs: Math.max(0, reset - Date.now()) } : {};
    throw new AppError('LANES_RATE_LIMITED', 'Linear rate limit reached (RATELIMITED)', details);
  }
  if (errors.length > 0) {
    const messages = errors.map((e) => e.message ?? e.extensions?.code ?? 'unknown error').join('; ');
    throw new AppError('LANES_UPSTREAM_FAILED', `Linear GraphQL error: ${messages}`.slice(0, 1000));
  }
  const data = schema.safeParse(body.data.data);
  if (!data.success) {
    const issue = data.error.issues[0]!;
    throw new AppError(
      'LANES_UPSTREAM_FAILED',
      `Linear answered with data Lanes cannot read: ${issue.path.join('.') || 'data'}: ${issue.message}`,
    );
  }
  return data.data;
};

const byTime = (a: LinearHistoryEntry, b: LinearHistoryEntry): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

const touchesState = (h: LinearHistoryEntry) => Boolean(h.fromState || h.toState);
const touchesAssignee = (h: LinearHistoryEntry) => Boolean(h.fromAssignee || h.toAssignee);
const touchesPriority = (h: LinearHistoryEntry) =>
  (h.fromPriority ?? null) !== (h.toPriority ?? null) && (h.fromPriority != null || h.toPriority != null);
const touchesEstimate = (h: LinearHistoryEntry) =>
  (h.fromEstimate ?? null) !== (h.toEstimate ?? null) && (h.fromEstimate != null || h.toEstimate != null);
const touchesTitle = (h: LinearHistoryEntry) => h.toTitle != null && h.fromTitle !== h.toTitle;

/**
 * Maps one issue and its full history: `created` with the issue as it was
 * when created (the history rolled back from today's values), then one event
 * per changed attribute of each history entry. Pure.
 */
export const mapLinearIssue = (
  issue: LinearIssue,
  history: readonly LinearHistoryEntry[],
  ctx: LinearContext,
): EventInput[] => {
  const entries = [...history].sort(byTime);
  const first = <T>(touches: (h: LinearHistoryEntry) => boolean, pick: (h: LinearHistoryEntry) => T, now: T): T => {
    const entry = entries.find(touches);
    return entry ? pick(entry) : now;
  };
  const labels = new Set((issue.labels?.nodes ?? []).map((l) => l.name));
  for (const entry of [...entries].reverse()) {
    for (const l of entry.addedLabels ?? []) labels.delete(l.name);
    for (const l of entry.removedLabels ?? []) labels.add(l.name);
  }
  const teamKey = issue.team?.key;
  const events = createdEvents(
    {
      id: issue.id,
      identifier: issue.identifier,
      number: issue.number,
      teamKey,
      title: first(touchesTitle, (h) => h.fromTitle, issue.title),
      state: first(touchesState, (h) => h.fromState, issue.state),
      priority: first(touchesPriority, (h) => h.fromPriority, issue.priority),
      assigneeId: first(touchesAssignee, (h) => h.fromAssignee?.id, issue.assignee?.id),
      labels: [...labels],
      url: issue.url,
    },
    issue.createdAt,
    linearActor(issue.creator, ctx),
    ctx,
  );

  // History events carry a light reference; the created event holds the snapshot.
  const scope = scopeOfTeam(ctx, teamKey);
  const item: ItemRef = {
    key: issueKey({ id: issue.id, identifier: issue.identifier, number: issue.number, teamKey }),
    ...(scope ? { team: scope.team, ...(scope.component ? { component: scope.component } : {}) } : {}),
    ...(httpUrl(issue.url) ? { url: httpUrl(issue.url)! } : {}),
  };
  for (const h of entries) {
    const at = h.createdAt;
    const base = { source: LINEAR_SOURCE, occurredAt: linearTime(at), actor: linearActor(h.actor, ctx), item };
    const historyId = { historyId: h.id };
    if (touchesState(h)) {
      const to = stateOf(h.toState, ctx);
      const from = h.fromState ? (stateOf(h.fromState, ctx) ?? null) : null;
      const sourceState = h.toState?.name;
      if (to && (to !== from || h.fromState?.name !== sourceState)) {
        events.push(
          fieldEvent(base, issue.id, at, 'state', from, to, {
            ...(sourceState && sourceState.toLowerCase() !== to ? { sourceState } : {}),
            ...historyId,
          }),
        );
      }
    }
    if (touchesAssignee(h) && h.fromAssignee?.id !== h.toAssignee?.id) {
      events.push(
        fieldEvent(base, issue.id, at, 'assignee', h.fromAssignee?.id ?? null, h.toAssignee?.id ?? null, historyId),
      );
    }
    if (touchesPriority(h)) {
      events.push(
        fieldEvent(
          base,
          issue.id,
          at,
          'priority',
          priorityOfNumber(h.fromPriority),
          priorityOfNumber(h.toPriority),
          historyId,
        ),
      );
    }
    if (touchesEstimate(h)) {
      events.push(
        fieldEvent(base, issue.id, at, 'estimate', estimateText(h.fromEstimate), estimateText(h.toEstimate), historyId),
      );
    }
    if (touchesTitle(h)) {
      events.push(
        fieldEvent(base, issue.id, at, 'title', h.fromTitle ?? null, (h.toTitle ?? '').slice(0, 500), historyId),
      );
    }
    if (h.fromCycle || h.toCycle) {
      const from = sprintName(h.fromCycle);
      const to = sprintName(h.toCycle);
      if (from !== to) events.push(fieldEvent(base, issue.id, at, 'sprint', from, to, historyId));
    }
    for (const l of h.addedLabels ?? []) events.push(...labelEvents(base, issue.id, at, true, l, ctx, historyId));
    for (const l of h.removedLabels ?? []) events.push(...labelEvents(base, issue.id, at, false, l, ctx, historyId));
  }
  return events;
};

/** The rest of an issue's history, when the first page of it did not hold it all. */
const fullHistory = async (http: SyncHttp, issue: LinearIssue): Promise<LinearHistoryEntry[]> => {
  const entries = [...issue.history.nodes];
  let page = issue.history.pageInfo;
  while (page.hasNextPage && page.endCursor) {
    const data = await graphql(http, LINEAR_HISTORY_QUERY, { id: issue.id, cursor: page.endCursor }, historyDataSchema);
    if (!data.issue) break; // deleted while we were reading it
    entries.push(...data.issue.history.nodes);
    page = data.issue.history.pageInfo;
  }
  return entries;
};

const issuesStream = (teamKey: string): SyncStream<LinearMapping> => ({
  name: 'issues',
  unit: 'issues',
  async *pages({ http, cursor, since, ctx }) {
    const filter = { team: { key: { eq: teamKey } }, ...(since ? { updatedAt: { gte: since } } : {}) };
    let after = cursor;
    for (;;) {
      const { issues } = await graphql(http, LINEAR_ISSUES_QUERY, { filter, cursor: after }, issuesDataSchema);
      const events: EventInput[] = [];
      for (const issue of issues.nodes) events.push(...mapLinearIssue(issue, await fullHistory(http, issue), ctx));
      const next = issues.pageInfo.hasNextPage ? (issues.pageInfo.endCursor ?? null) : null;
      yield { events, cursor: next, units: issues.nodes.length };
      if (!next) return;
      after = next;
    }
  },
});

/** The sync plan of one Linear team (by key, e.g. `ENG`), against base URL `https://api.linear.app`. */
export const linearSyncPlan = (teamKey: string): SyncPlan<LinearMapping> => ({
  source: LINEAR_SOURCE,
  scope: teamKey,
  streams: [issuesStream(teamKey)],
});
