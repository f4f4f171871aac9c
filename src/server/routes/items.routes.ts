import {
  appendResultSchema,
  errorBodySchema,
  eventBatchSchema,
  itemDetailSchema,
  itemPageSchema,
  itemParamsSchema,
  itemsQuerySchema,
} from '../../api/items.contract.js';
import { audienceOf } from '../../domain/audience.js';
import type { ServiceContext } from '../../services/context.js';
import { ingestEvents, reporterOf } from '../../services/events.service.js';
import { getItemWithHistory, listItemPage } from '../../services/items.service.js';
import { presentEvent, presentItem, presentItemSummary } from '../presenters.js';
import { defineRoute, type RouteSpec } from '../route.js';

export const itemRoutes = (ctx: ServiceContext): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/api/v1/items',
    summary: 'List items, newest first, with filters and cursor pagination',
    tag: 'items',
    access: 'stakeholder',
    query: itemsQuerySchema,
    responses: { 200: itemPageSchema, 400: errorBodySchema },
    handler: async ({ query, principal }) => {
      const { cursor, limit, ...filter } = query;
      const page = await listItemPage(ctx, filter, limit, cursor, audienceOf(principal?.user.role));
      return { items: page.items.map(presentItemSummary), nextCursor: page.nextCursor };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/items/:key',
    summary: 'One item with its event history in order',
    tag: 'items',
    access: 'stakeholder',
    params: itemParamsSchema,
    responses: { 200: itemDetailSchema, 404: errorBodySchema },
    handler: async ({ params, principal }) => {
      const { item, events } = await getItemWithHistory(ctx, params.key, audienceOf(principal?.user.role));
      return { item: presentItem(item), events: events.map(presentEvent) };
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/events',
    summary:
      'Append a batch of native events (atomic, idempotent on source + sourceEventId); connector sources are refused',
    tag: 'events',
    access: 'member',
    scope: 'events:write',
    body: eventBatchSchema,
    responses: { 200: appendResultSchema, 400: errorBodySchema, 403: errorBodySchema, 413: errorBodySchema },
    handler: async ({ body, principal }) => ingestEvents(ctx, body.events, reporterOf(principal!)),
  }),
];
