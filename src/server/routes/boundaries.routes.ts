import {
  boundaryQuerySchema,
  boundaryReportSchema,
  middlemanReportSchema,
  recomputeResultSchema,
} from '../../api/boundaries.contract.js';
import { errorBodySchema } from '../../api/items.contract.js';
import { recordAudit } from '../../services/access.service.js';
import { boundaryReport, middlemanReport, recomputeBoundaries } from '../../services/boundaries.service.js';
import type { ServiceContext } from '../../services/context.js';
import { defineRoute, type RouteSpec } from '../route.js';

/** The boundary monitor (PRODUCT.md C3): reports for the team, never per person. */
export const boundaryRoutes = (ctx: ServiceContext): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/api/v1/boundaries',
    summary:
      'Decisions held against the charter per team: share in lane per domain, weekly trend, directions, examples',
    tag: 'boundaries',
    access: 'member',
    query: boundaryQuerySchema,
    responses: { 200: boundaryReportSchema, 400: errorBodySchema, 404: errorBodySchema },
    handler: async ({ query }) => boundaryReport(ctx, query),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/middleman',
    summary: 'Middleman load: status pings, PM status relays and portal lookups per team and product manager, per week',
    tag: 'boundaries',
    access: 'member',
    query: boundaryQuerySchema,
    responses: { 200: middlemanReportSchema, 400: errorBodySchema, 404: errorBodySchema },
    handler: async ({ query }) => middlemanReport(ctx, query),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/boundaries/recompute',
    summary: 'Judge the whole event log again against the charter in force',
    tag: 'admin',
    access: 'admin',
    responses: { 200: recomputeResultSchema, 403: errorBodySchema, 404: errorBodySchema },
    handler: async ({ principal }) => {
      const result = await recomputeBoundaries(ctx);
      await recordAudit(ctx, { kind: 'user', user: principal!.user }, 'boundaries.recompute', null, result);
      return result;
    },
  }),
];
