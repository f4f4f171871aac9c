import { errorBodySchema } from '../../api/items.contract.js';
import { sourcesSchema } from '../../api/sources.contract.js';
import type { ServiceContext } from '../../services/context.js';
import { listSources } from '../../services/sources.service.js';
import { defineRoute, type RouteSpec } from '../route.js';

export const sourceRoutes = (ctx: ServiceContext, activeWebhooks: readonly string[] = []): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/api/v1/sources',
    summary: 'Each source: events, freshness, webhook deliveries, sync runs, unmapped values and errors',
    tag: 'sources',
    access: 'member',
    responses: { 200: sourcesSchema, 401: errorBodySchema },
    handler: async () => ({ sources: await listSources(ctx, activeWebhooks) }),
  }),
];
