import { z } from 'zod';
import { CHANGE_KINDS, ITEM_KEY_MAX, ITEM_KINDS } from '../domain/event.js';
import { STAGES } from '../domain/stage.js';

/** The HTTP contract for items and events, shared by the server, the web app and the CLI. */

const filterText = z.string().min(1).max(200);

export const itemsQuerySchema = z.strictObject({
  team: filterText.optional(),
  kind: z.enum(ITEM_KINDS).optional(),
  stage: z.enum(STAGES).optional(),
  component: filterText.optional(),
  severity: filterText.optional(),
  assignee: filterText.optional(),
  q: z.string().max(200).optional().describe('Words to find in the item key or title.'),
  cursor: z.string().max(500).optional().describe('The nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type ItemsQuery = z.infer<typeof itemsQuerySchema>;

export const itemSchema = z.object({
  key: z.string(),
  kind: z.enum(ITEM_KINDS),
  title: z.string(),
  team: z.string().nullable(),
  component: z.string().nullable(),
  severity: z.string().nullable(),
  priority: z.string().nullable(),
  assignee: z.string().nullable(),
  reporter: z.string().nullable(),
  customer: z.string().nullable(),
  state: z.string(),
  resolution: z.string().nullable(),
  stage: z.enum(STAGES),
  stageLabel: z.string(),
  url: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  closedAt: z.string().nullable(),
  reopenCount: z.number().int(),
  commentCount: z.number().int(),
  eventCount: z.number().int(),
  mergedAt: z.string().nullable(),
  deployedAt: z.string().nullable(),
  verifiedAt: z.string().nullable(),
  labels: z.array(z.string()).describe('Labels as the source set them.'),
});
export type ItemDto = z.infer<typeof itemSchema>;

export const itemSummarySchema = itemSchema
  .pick({
    key: true,
    kind: true,
    title: true,
    team: true,
    component: true,
    severity: true,
    priority: true,
    assignee: true,
    state: true,
    stage: true,
    stageLabel: true,
    url: true,
    createdAt: true,
    updatedAt: true,
  })
  .describe('An item as lists show it; GET /api/v1/items/:key has every field and the history.');
export type ItemSummaryDto = z.infer<typeof itemSummarySchema>;

export const itemPageSchema = z.object({
  items: z.array(itemSummarySchema),
  nextCursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page.'),
});
export type ItemPage = z.infer<typeof itemPageSchema>;

export const eventSchema = z.object({
  id: z.string(),
  source: z.string(),
  sourceEventId: z.string(),
  occurredAt: z.string(),
  receivedAt: z.string(),
  actor: z
    .object({
      identity: z.string().nullable().describe('kind:id of the external identity, e.g. github:octocat.'),
      personId: z.string().nullable().describe('The charter person it resolved to; null when unknown.'),
    })
    .describe('Who did it.'),
  kind: z.enum(CHANGE_KINDS),
  field: z.string().nullable(),
  from: z.string().nullable(),
  to: z.string().nullable(),
  text: z.string().nullable(),
  target: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
  payloadRef: z.string().nullable(),
  reportedBy: z
    .object({
      user: z.string().describe('E-mail of the user who posted it.'),
      token: z.string().nullable().describe('Id of the API token used; null for a browser session.'),
    })
    .nullable()
    .describe('Who posted the event through POST /api/v1/events; null for connectors, syncs and Lanes itself.'),
});
export type EventDto = z.infer<typeof eventSchema>;

export const itemDetailSchema = z.object({
  item: itemSchema,
  events: z.array(eventSchema).describe('The item history in log order (time, source, source event id).'),
});
export type ItemDetail = z.infer<typeof itemDetailSchema>;

export const itemParamsSchema = z.strictObject({ key: z.string().min(1).max(ITEM_KEY_MAX) });

export const appendResultSchema = z.object({
  received: z.number().int(),
  stored: z.number().int(),
  duplicates: z
    .number()
    .int()
    .describe('Events already in the log (same id, or the same fact reported again): counted, not stored again.'),
  unchanged: z.number().int().describe('Changes whose from equals their to: nothing changed, nothing stored.'),
  itemsUpdated: z.number().int(),
  itemsReplayed: z.number().int(),
});

export const eventBatchSchema = z.strictObject({
  events: z.array(z.unknown()).describe('Native events; see the EventInput schema. At most 10,000 per request.'),
});

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('A stable code, e.g. LANES_EVENT_INVALID.'),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Why health is degraded or the server not ready: a stable code (LANES_DATABASE_UNREACHABLE, LANES_STORAGE_FULL, …). */
export const healthProblemSchema = z.object({
  code: z.string(),
  message: z.string(),
  since: z
    .string()
    .optional()
    .describe('When the problem was first seen (ISO-8601), if it was seen before this check.'),
});

export const healthSchema = z.object({
  status: z
    .enum(['ok', 'degraded'])
    .describe('Always answered with 200 while the process runs; degraded when the database is away or out of room.'),
  version: z.string(),
  database: z.enum(['sqlite', 'postgres']),
  problem: healthProblemSchema.optional(),
});

export const readySchema = z.object({
  status: z.literal('ready'),
  database: z.enum(['sqlite', 'postgres']),
});
