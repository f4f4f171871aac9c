import { z } from 'zod';
import { findingSchema, qualityQuerySchema, signalRowSchema } from '../../api/quality.contract.js';
import { errorBodySchema } from '../../api/items.contract.js';
import type { ServiceContext } from '../../services/context.js';
import {
  escalationBrief,
  escalationListQuerySchema,
  evaluateFindings,
  listEscalations,
  qualityOverview,
  transitionEscalation,
  transitionInputSchema,
} from '../../services/findings.service.js';
import { defineRoute, type RouteSpec } from '../route.js';

/** Response shapes, for the OpenAPI document (the services' types are the source). */
const escalationSchema = z.object({
  id: z.string(),
  finding: findingSchema,
  active: z.boolean(),
  state: findingSchema.shape.state,
  addressedTo: z.object({ id: z.string(), name: z.string(), role: z.string() }).nullable(),
  planUrl: z.string().nullable(),
  reason: z.string().nullable(),
  history: z.array(z.record(z.string(), z.unknown())),
  updatedAt: z.string(),
  reopenedCount: z.number(),
});
const briefSchema = escalationSchema.extend({
  crossings: z.array(z.record(z.string(), z.unknown())),
  crossingCount: z.number(),
  transitions: z.array(findingSchema.shape.state),
});
const overviewSchema = z.object({
  team: z.object({ id: z.string(), name: z.string(), components: z.array(z.string()) }),
  component: z.string().nullable(),
  weeks: z.number(),
  doraYear: z.enum(['2023', '2024']),
  currentWeek: z.string(),
  signals: z.array(signalRowSchema),
  current: z.array(z.record(z.string(), z.unknown())),
  slo: z.array(z.record(z.string(), z.unknown())),
  findings: z.array(escalationSchema),
});
const idParams = z.strictObject({ id: z.string().min(1).max(300) });

/** Quality guardrails and escalations (PRODUCT.md C6): per team and component, never per person. */
export const qualityRoutes = (ctx: ServiceContext): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/api/v1/quality',
    summary: 'Quality signals of a team (and component): weekly rows, current figures with DORA bands, SLOs, findings',
    tag: 'quality',
    access: 'member',
    query: qualityQuerySchema,
    responses: { 200: overviewSchema, 400: errorBodySchema, 404: errorBodySchema },
    handler: async ({ query }) => qualityOverview(ctx, query),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/escalations',
    summary: 'Systemic findings escalated to engineering leadership: the inbox',
    tag: 'quality',
    access: 'member',
    query: escalationListQuerySchema,
    responses: { 200: z.object({ escalations: z.array(escalationSchema) }), 400: errorBodySchema },
    handler: async ({ query }) => ({ escalations: await listEscalations(ctx, query) }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/escalations/:id',
    summary: 'The brief of one escalation: the finding, its lifecycle, and the boundary crossings that bear on it',
    tag: 'quality',
    access: 'member',
    params: idParams,
    responses: { 200: briefSchema, 404: errorBodySchema },
    handler: async ({ params }) => escalationBrief(ctx, params.id),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/escalations/:id/transition',
    summary: 'Move an escalation: acknowledged, action_planned (planUrl), resolved, dismissed (reason), or open again',
    tag: 'quality',
    access: 'member',
    params: idParams,
    body: transitionInputSchema,
    responses: { 200: briefSchema, 400: errorBodySchema, 404: errorBodySchema, 409: errorBodySchema },
    handler: async ({ params, body, principal }) => {
      const user = principal!.user;
      // Who moved it is kept in the escalation's own history and in the audit log (escalation.* actions).
      return transitionEscalation(ctx, params.id, body, { id: user.id, name: user.name, email: user.email });
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/quality/findings/evaluate',
    summary: 'Run the findings catalog over the current signals now (new findings are escalated)',
    tag: 'admin',
    access: 'admin',
    responses: { 200: z.record(z.string(), z.unknown()), 403: errorBodySchema },
    handler: async () => evaluateFindings(ctx),
  }),
];
