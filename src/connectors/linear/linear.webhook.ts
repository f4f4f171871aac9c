import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { LinearMapping } from '../../domain/connector.mapping.js';
import { AppError } from '../../domain/errors.js';
import type { EventInput, ItemRef } from '../../domain/event.js';
import type { DeliveryDescription, WebhookHeaders, WebhookProvider } from '../connector.types.js';
import {
  boundedId,
  createdEvents,
  estimateText,
  fieldEvent,
  issueKey,
  issueSnapshot,
  labelEvents,
  LINEAR_SOURCE,
  linearActor,
  linearTime,
  scopeOfTeam,
  priorityOfNumber,
  sprintName,
  stateOf,
  type LinearContext,
  type LinearIssueView,
} from './linear.mapper.js';

/** How far a delivery's `webhookTimestamp` may be from our clock. */
export const LINEAR_TIMESTAMP_WINDOW_MS = 60_000;

const isoTime = z.iso.datetime({ offset: true });

const envelopeSchema = z.looseObject({
  type: z.string().min(1),
  action: z.string().min(1),
  createdAt: isoTime.optional(),
  url: z.string().nullish(),
  actor: z.looseObject({ id: z.string(), name: z.string().nullish(), type: z.string().nullish() }).nullish(),
  data: z.record(z.string(), z.unknown()),
  updatedFrom: z.record(z.string(), z.unknown()).nullish(),
});
type Envelope = z.infer<typeof envelopeSchema>;

const issueDataSchema = z.looseObject({
  id: z.string().min(1),
  identifier: z.string().nullish(),
  number: z.number().nullish(),
  title: z.string().nullish(),
  url: z.string().nullish(),
  createdAt: isoTime.optional(),
  updatedAt: isoTime.optional(),
  archivedAt: isoTime.nullish(),
  priority: z.number().nullish(),
  estimate: z.number().nullish(),
  assigneeId: z.string().nullish(),
  creatorId: z.string().nullish(),
  cycleId: z.string().nullish(),
  labelIds: z.array(z.string()).nullish(),
  state: z.looseObject({ name: z.string().nullish(), type: z.string().nullish() }).nullish(),
  team: z.looseObject({ key: z.string().nullish() }).nullish(),
  labels: z.array(z.looseObject({ id: z.string(), name: z.string() })).nullish(),
  cycle: z.looseObject({ name: z.string().nullish(), number: z.number().nullish() }).nullish(),
  projectMilestone: z.looseObject({ name: z.string().nullish() }).nullish(),
});
type IssueData = z.infer<typeof issueDataSchema>;

const commentDataSchema = z.looseObject({
  id: z.string().min(1),
  body: z.string(),
  createdAt: isoTime,
  issueId: z.string().nullish(),
  userId: z.string().nullish(),
  user: z.looseObject({ id: z.string(), name: z.string().nullish() }).nullish(),
  issue: z
    .looseObject({
      id: z.string(),
      identifier: z.string().nullish(),
      number: z.number().nullish(),
      title: z.string().nullish(),
      team: z.looseObject({ key: z.string().nullish() }).nullish(),
    })
    .nullish(),
});

const definitionDataSchema = z.looseObject({
  id: z.string().min(1),
  name: z.string().nullish(),
  updatedAt: isoTime.optional(),
});

/** Keys of `updatedFrom` that are bookkeeping, or follow from a change mapped elsewhere (the state). */
const IGNORED_UPDATE_KEYS = new Set([
  'updatedAt',
  'sortOrder',
  'boardOrder',
  'subIssueSortOrder',
  'prioritySortOrder',
  'subscriberIds',
  'previousIdentifiers',
  'startedAt',
  'completedAt',
  'canceledAt',
  'autoClosedAt',
  'autoArchivedAt',
  'priorityLabel',
]);

const parse = <T>(schema: z.ZodType<T>, value: unknown, what: string): T => {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new AppError(
    'LANES_VALIDATION',
    `not a Linear ${what}: ${issue.path.join('.') || 'payload'}: ${issue.message}`,
  );
};

/** Counts each unmapped value once per delivery, however many events mention it. */
const oncePerDelivery = (ctx: LinearContext): LinearContext => {
  const seen = new Set<string>();
  return {
    mapping: ctx.mapping,
    unmapped: (category, value) => {
      const key = `${category}\u0001${value}`;
      if (seen.has(key)) return;
      seen.add(key);
      ctx.unmapped(category, value);
    },
  };
};

const viewOf = (data: IssueData, url: string | null | undefined): LinearIssueView => {
  // Only `labels` carries names; `labelIds` alone says nothing a rule could use.
  const labels = (data.labels ?? []).map((l) => l.name);
  return {
    id: data.id,
    identifier: data.identifier,
    number: data.number,
    teamKey: data.team?.key,
    title: data.title,
    state: data.state,
    priority: data.priority,
    assigneeId: data.assigneeId,
    labels,
    url: data.url ?? url,
  };
};

const sameValue = (a: unknown, b: unknown): boolean => {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
};

const asString = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

const mapIssueUpdate = (envelope: Envelope, data: IssueData, ctx: LinearContext): EventInput[] => {
  const at = data.updatedAt ?? envelope.createdAt;
  if (!at) throw new AppError('LANES_VALIDATION', 'not a Linear issue update: no data.updatedAt');
  const item = issueSnapshot(viewOf(data, envelope.url), ctx);
  const base = { source: LINEAR_SOURCE, occurredAt: linearTime(at), actor: linearActor(envelope.actor, ctx), item };
  const events: EventInput[] = [];
  const raw = data as Record<string, unknown>;
  for (const [key, before] of Object.entries(envelope.updatedFrom ?? {})) {
    if (IGNORED_UPDATE_KEYS.has(key) || sameValue(before, raw[key])) continue;
    switch (key) {
      case 'stateId': {
        const state = stateOf(data.state, ctx);
        if (state) {
          events.push(
            fieldEvent(base, data.id, at, 'state', undefined, state, {
              ...(data.state?.name && data.state.name.toLowerCase() !== state ? { sourceState: data.state.name } : {}),
              ...(asString(before) ? { fromStateId: before } : {}),
            }),
          );
        }
        break;
      }
      case 'assigneeId':
        events.push(fieldEvent(base, data.id, at, 'assignee', asString(before), data.assigneeId ?? null));
        break;
      case 'priority':
        events.push(
          fieldEvent(base, data.id, at, 'priority', priorityOfNumber(before), priorityOfNumber(data.priority)),
        );
        break;
      case 'estimate':
        events.push(fieldEvent(base, data.id, at, 'estimate', estimateText(before), estimateText(data.estimate)));
        break;
      case 'title':
        events.push(fieldEvent(base, data.id, at, 'title', asString(before), data.title ?? null));
        break;
      case 'cycleId':
        // Only the old cycle's id is known, not its name: keep it in data rather than in `from`.
        events.push(
          fieldEvent(base, data.id, at, 'sprint', undefined, sprintName(data.cycle, data.cycleId), {
            ...(asString(before) ? { fromCycleId: before } : {}),
          }),
        );
        break;
      case 'projectMilestoneId':
        events.push(
          fieldEvent(base, data.id, at, 'milestone', undefined, data.projectMilestone?.name ?? asString(raw[key])),
        );
        break;
      case 'teamId': {
        const teamKey = data.team?.key;
        const scope = scopeOfTeam(ctx, teamKey);
        if (!scope) break; // the snapshot already counted the team as an unmapped scope
        events.push(fieldEvent(base, data.id, at, 'team', undefined, scope.team, { linearTeam: teamKey }));
        if (scope.component) events.push(fieldEvent(base, data.id, at, 'component', undefined, scope.component));
        break;
      }
      case 'labelIds': {
        const previous = new Set(Array.isArray(before) ? before.filter((v): v is string => typeof v === 'string') : []);
        const current = new Set(data.labelIds ?? []);
        const names = new Map((data.labels ?? []).map((l) => [l.id, l.name]));
        for (const id of current) {
          if (!previous.has(id)) events.push(...labelEvents(base, data.id, at, true, { id, name: names.get(id) }, ctx));
        }
        for (const id of previous) {
          if (!current.has(id)) events.push(...labelEvents(base, data.id, at, false, { id, name: names.get(id) }, ctx));
        }
        break;
      }
      default:
        ctx.unmapped('field', key);
    }
  }
  return events;
};

const mapIssue = (envelope: Envelope, ctx: LinearContext): EventInput[] | null => {
  const data = parse(issueDataSchema, envelope.data, 'issue');
  switch (envelope.action) {
    case 'create': {
      const at = data.createdAt ?? envelope.createdAt;
      if (!at) throw new AppError('LANES_VALIDATION', 'not a Linear issue: no data.createdAt');
      return createdEvents(
        viewOf(data, envelope.url),
        at,
        linearActor(envelope.actor, ctx),
        ctx,
        data.creatorId ? { creatorId: data.creatorId } : {},
      );
    }
    case 'update':
      return mapIssueUpdate(envelope, data, ctx);
    case 'remove': {
      const at = envelope.createdAt ?? data.archivedAt ?? data.updatedAt;
      if (!at) throw new AppError('LANES_VALIDATION', 'not a Linear issue removal: no createdAt');
      const item = issueSnapshot(viewOf(data, envelope.url), ctx);
      return [
        {
          source: LINEAR_SOURCE,
          sourceEventId: boundedId(`${data.id}/removed@${linearTime(at)}`),
          occurredAt: linearTime(at),
          actor: linearActor(envelope.actor, ctx),
          item,
          change: {
            kind: 'closed',
            to: 'wont_fix',
            data: { resolution: 'deleted', ...(data.state?.name ? { sourceState: data.state.name } : {}) },
          },
        },
      ];
    }
    default:
      return null;
  }
};

const mapComment = (envelope: Envelope, ctx: LinearContext): EventInput[] | null => {
  if (envelope.action !== 'create') return null;
  const data = parse(commentDataSchema, envelope.data, 'comment');
  const issueId = data.issue?.id ?? data.issueId;
  if (!issueId) throw new AppError('LANES_VALIDATION', 'not a Linear comment: no issueId');
  const item: ItemRef = {
    key: issueKey({
      id: issueId,
      identifier: data.issue?.identifier,
      number: data.issue?.number,
      teamKey: data.issue?.team?.key,
    }),
    ...(data.issue?.title ? { title: data.issue.title.slice(0, 500) } : {}),
  };
  // The comment's author is the actor even when the envelope names none (older payloads).
  const actor = linearActor(envelope.actor ?? data.user ?? (data.userId ? { id: data.userId } : null), ctx);
  return [
    {
      source: LINEAR_SOURCE,
      sourceEventId: boundedId(`comment/${data.id}`),
      occurredAt: linearTime(data.createdAt),
      actor,
      item,
      change: { kind: 'commented', text: data.body.slice(0, 65_536), data: { commentId: data.id } },
    },
  ];
};

const mapDefinition = (envelope: Envelope, ctx: LinearContext): EventInput[] => {
  const data = parse(definitionDataSchema, envelope.data, envelope.type);
  const at = envelope.createdAt ?? data.updatedAt;
  if (!at) throw new AppError('LANES_VALIDATION', `not a Linear ${envelope.type}: no createdAt`);
  const previousName = asString(envelope.updatedFrom?.['name']);
  return [
    {
      source: LINEAR_SOURCE,
      sourceEventId: boundedId(`${envelope.type}/${data.id}/${envelope.action}@${linearTime(at)}`),
      occurredAt: linearTime(at),
      actor: linearActor(envelope.actor, ctx),
      change: {
        kind: 'definition_changed',
        data: {
          type: envelope.type,
          action: envelope.action,
          id: data.id,
          ...(data.name ? { name: data.name } : {}),
          ...(previousName && previousName !== data.name ? { previousName } : {}),
        },
      },
    },
  ];
};

const signatureMismatch = (): AppError =>
  new AppError(
    'LANES_WEBHOOK_SIGNATURE',
    'the linear-signature header is missing or does not match LANES_LINEAR_WEBHOOK_SECRET',
  );

/**
 * Linear webhooks: HMAC-SHA256 signatures in `linear-signature`, a 60-second
 * window on `webhookTimestamp`, and issues, comments, labels and projects
 * mapped to events. Payloads without an `actor` (before Linear added it) map
 * to events with `actor: null`.
 */
export const linearWebhooks: WebhookProvider<LinearMapping> = {
  name: 'linear',
  secretName: 'LANES_LINEAR_WEBHOOK_SECRET',

  async verify(secret: string, rawBody: Buffer, headers: WebhookHeaders): Promise<void> {
    const header = headers['linear-signature']?.trim();
    if (!header || !/^[0-9a-fA-F]+$/.test(header)) throw signatureMismatch();
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    const given = Buffer.from(header, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw signatureMismatch();
  },

  describe(payload: unknown, rawBody: Buffer, headers: WebhookHeaders, now: Date): DeliveryDescription {
    const body = payload as { type?: unknown; action?: unknown; webhookTimestamp?: unknown } | null;
    if (!body || typeof body !== 'object' || typeof body.type !== 'string' || typeof body.action !== 'string') {
      throw new AppError('LANES_VALIDATION', 'not a Linear webhook payload: "type" and "action" are required');
    }
    const timestamp = body.webhookTimestamp;
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
      throw new AppError(
        'LANES_WEBHOOK_STALE',
        'the Linear delivery has no webhookTimestamp, so it cannot be told from a replay',
      );
    }
    const skew = Math.abs(now.getTime() - timestamp);
    if (skew > LINEAR_TIMESTAMP_WINDOW_MS) {
      throw new AppError(
        'LANES_WEBHOOK_STALE',
        `the Linear delivery's webhookTimestamp is ${Math.round(skew / 1000)} s from this server's clock (at most ${LINEAR_TIMESTAMP_WINDOW_MS / 1000} s allowed)`,
      );
    }
    const deliveryId = headers['linear-delivery'] || `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
    return { deliveryId, eventType: `${body.type}.${body.action}` };
  },

  map(eventType: string, payload: unknown, mapContext): EventInput[] | null {
    const type = eventType.split('.')[0];
    if (!['Issue', 'Comment', 'IssueLabel', 'Project'].includes(type ?? '')) return null;
    const envelope = parse(envelopeSchema, payload, 'webhook payload');
    const ctx = oncePerDelivery(mapContext);
    switch (envelope.type) {
      case 'Issue':
        return mapIssue(envelope, ctx);
      case 'Comment':
        return mapComment(envelope, ctx);
      case 'IssueLabel':
      case 'Project':
        return mapDefinition(envelope, ctx);
      default:
        return null;
    }
  },
};
