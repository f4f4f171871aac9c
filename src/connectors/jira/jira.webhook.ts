import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { JiraMapping } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import type { EventInput, ItemRef } from '../../domain/event.js';
import type { MapContext, WebhookHeaders, WebhookProvider } from '../connector.types.js';
import {
  JIRA_SOURCE,
  jiraActor,
  jiraSnapshot,
  jiraTime,
  mapJiraComment,
  mapJiraHistories,
  readJiraIssue,
  type JiraComment,
  type JiraHistory,
  type JiraIssue,
  type JiraUser,
} from './jira.mapper.js';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The payload's issue (its key checked, see `readJiraIssue`), or undefined when there is none. */
const asIssue = (value: unknown): JiraIssue | undefined =>
  isRecord(value) && value['key'] !== undefined && isRecord(value['fields']) ? readJiraIssue(value) : undefined;

/** The instants the event schema accepts (four-digit years). */
const MAX_MS = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * When the delivery happened. Jira sends `timestamp` as epoch milliseconds;
 * without it, the issue's `updated` time is the moment of the change.
 */
const deliveryTime = (payload: Record<string, unknown>, fallback: string | undefined): string => {
  const stamp = payload['timestamp'];
  if (typeof stamp === 'number' && Number.isFinite(stamp) && stamp >= 0 && stamp <= MAX_MS) {
    return new Date(stamp).toISOString();
  }
  if (fallback) return jiraTime(fallback);
  throw new AppError(
    'LANES_VALIDATION',
    'The Jira webhook carries no usable time (timestamp or issue.fields.updated).',
  );
};

const commentedOn = (issue: JiraIssue, snapshot: ItemRef, comment: unknown): EventInput | undefined => {
  const id = isRecord(comment) ? comment['id'] : undefined;
  if (
    !isRecord(comment) ||
    !(typeof id === 'string' || typeof id === 'number') ||
    typeof comment['created'] !== 'string'
  ) {
    return undefined;
  }
  return mapJiraComment(issue.key, snapshot, comment as unknown as JiraComment);
};

const mapIssueUpdated = (payload: Record<string, unknown>, ctx: MapContext<JiraMapping>): EventInput[] => {
  const issue = asIssue(payload['issue']);
  if (!issue) throw new AppError('LANES_VALIDATION', 'jira:issue_updated without an issue.');
  const events: EventInput[] = [];
  const snapshot = jiraSnapshot(issue, ctx);
  const changelog = payload['changelog'];
  const historyId = isRecord(changelog) ? changelog['id'] : undefined;
  if (
    isRecord(changelog) &&
    (typeof historyId === 'string' || typeof historyId === 'number') &&
    Array.isArray(changelog['items'])
  ) {
    const history: JiraHistory = {
      id: String(historyId),
      author: isRecord(payload['user']) ? (payload['user'] as JiraUser) : null,
      created: deliveryTime(payload, typeof issue.fields['updated'] === 'string' ? issue.fields['updated'] : undefined),
      items: changelog['items'] as JiraHistory['items'],
    };
    events.push(...mapJiraHistories(issue, [history], ctx, { eventRef: snapshot }));
  }
  const comment = commentedOn(issue, snapshot, payload['comment']);
  if (comment) events.push(comment);
  return events;
};

const mapIssueCreated = (payload: Record<string, unknown>, ctx: MapContext<JiraMapping>): EventInput[] => {
  const issue = asIssue(payload['issue']);
  if (!issue) throw new AppError('LANES_VALIDATION', 'jira:issue_created without an issue.');
  const creator = [issue.fields['creator'], issue.fields['reporter'], payload['user']].find(isRecord);
  return [
    {
      source: JIRA_SOURCE,
      sourceEventId: `${issue.key}/created`,
      occurredAt: jiraTime(issue.fields['created']),
      actor: jiraActor(creator as JiraUser | undefined),
      item: jiraSnapshot(issue, ctx),
      change: { kind: 'created' },
    },
  ];
};

/**
 * Jira webhooks (Cloud and Data Center). Signed deliveries carry
 * `X-Hub-Signature: sha256=<hex HMAC of the body>`; issue events become the
 * same events the backfill produces for the same facts (see `jira.mapper.ts`),
 * so a re-sync never duplicates what a webhook delivered.
 *
 * `issuelink_created`/`issuelink_deleted` name issues by numeric id only, so
 * they are not mapped: the same link arrives as a `Link` changelog item of
 * `jira:issue_updated` (and in the backfill's changelog), which names the key.
 */
export const jiraWebhooks: WebhookProvider<JiraMapping> = {
  name: 'jira',
  secretName: 'LANES_JIRA_WEBHOOK_SECRET',

  verify(secret: string, rawBody: Buffer, headers: WebhookHeaders): Promise<void> {
    const header = headers['x-hub-signature'];
    const match = header ? /^sha256=([0-9a-fA-F]+)$/.exec(header.trim()) : null;
    if (!match) {
      return Promise.reject(new AppError('LANES_WEBHOOK_SIGNATURE', 'X-Hub-Signature (sha256=...) is missing.'));
    }
    const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return Promise.reject(new AppError('LANES_WEBHOOK_SIGNATURE'));
    }
    return Promise.resolve();
  },

  describe(payload: unknown, rawBody: Buffer, headers: WebhookHeaders) {
    if (!isRecord(payload) || typeof payload['webhookEvent'] !== 'string' || payload['webhookEvent'] === '') {
      throw new AppError('LANES_VALIDATION', 'Not a Jira webhook payload (no webhookEvent).');
    }
    const deliveryId =
      headers['x-atlassian-webhook-identifier'] ?? `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
    return { deliveryId, eventType: payload['webhookEvent'] };
  },

  map(eventType: string, payload: unknown, ctx: MapContext<JiraMapping>): EventInput[] | null {
    if (!isRecord(payload)) throw new AppError('LANES_VALIDATION', 'A Jira webhook payload is a JSON object.');
    switch (eventType) {
      case 'jira:issue_created':
        return mapIssueCreated(payload, ctx);
      case 'jira:issue_updated':
        return mapIssueUpdated(payload, ctx);
      case 'comment_created': {
        const issue = asIssue(payload['issue']);
        if (!issue) {
          // Old Jira versions send comment events without the issue; the comment
          // arrives again with the issue in the backfill.
          ctx.unmapped('event_type', 'comment_created without issue');
          return [];
        }
        const event = commentedOn(issue, jiraSnapshot(issue, ctx), payload['comment']);
        if (!event) throw new AppError('LANES_VALIDATION', 'comment_created without a comment.');
        return [event];
      }
      default:
        return null;
    }
  },
};
