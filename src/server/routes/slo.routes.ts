import { recordAudit } from '../../services/access.service.js';
import { z } from 'zod';
import { errorBodySchema } from '../../api/items.contract.js';
import type { ServiceContext } from '../../services/context.js';
import { applySlos, pushSamplesBodySchema, pushSamples, sloStatus } from '../../services/slo.service.js';
import { defineRoute, type RouteSpec } from '../route.js';

/** SLOs (docs/slo.md): status for members, sample pushes, definitions by admins. */

const burnSchema = z.object({
  rule: z.string(),
  severity: z.enum(['page', 'ticket']),
  factor: z.number(),
  longWindowMinutes: z.number(),
  shortWindowMinutes: z.number(),
  burnLong: z.number(),
  burnShort: z.number(),
  firing: z.boolean(),
});
const sloStatusSchema = z.object({
  name: z.string(),
  displayName: z.string().nullable(),
  team: z.string(),
  component: z.string().nullable(),
  service: z.string(),
  source: z.string(),
  target: z.number(),
  windowDays: z.number(),
  budgetRemaining: z.number().nullable(),
  good: z.number(),
  total: z.number(),
  burn: z.array(burnSchema),
  alertsFiring: z.array(z.object({ rule: z.string(), severity: z.string(), firedAt: z.string() })),
});
const alertCountsSchema = z.object({ fired: z.number(), resolved: z.number() });

const applyBodySchema = z.union([
  z.strictObject({ yaml: z.string().min(1).max(1_000_000).describe('OpenSLO YAML text, one or more documents.') }),
  z.strictObject({ documents: z.array(z.record(z.string(), z.unknown())).min(1).max(1000) }),
]);

export const sloRoutes = (ctx: ServiceContext): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/api/v1/slos',
    summary: 'Each SLO with its target, window, error budget remaining, burn rate per alert window and firing alerts',
    tag: 'quality',
    access: 'member',
    query: z.strictObject({ team: z.string().min(1).max(64).optional() }),
    responses: { 200: z.object({ slos: z.array(sloStatusSchema) }), 400: errorBodySchema },
    handler: async ({ query }) => ({ slos: await sloStatus(ctx, query.team) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/slos/:name/samples',
    summary: 'Add good/total samples to an SLO (at most 10,000; an id is counted once), then evaluate its alerts',
    tag: 'quality',
    access: 'member',
    params: z.strictObject({ name: z.string().min(1).max(120) }),
    body: pushSamplesBodySchema,
    responses: {
      200: z.object({ received: z.number(), added: z.number(), duplicates: z.number(), alerts: alertCountsSchema }),
      400: errorBodySchema,
      404: errorBodySchema,
    },
    handler: async ({ params, body }) => pushSamples(ctx, params.name, body.samples),
  }),
  defineRoute({
    method: 'PUT',
    url: '/api/v1/slos',
    summary: 'Apply OpenSLO v1 SLO documents (YAML text in `yaml`, or parsed `documents`): add or update them',
    tag: 'admin',
    access: 'admin',
    body: applyBodySchema,
    responses: {
      200: z.object({ applied: z.array(z.string()), removed: z.array(z.string()), alerts: alertCountsSchema }),
      400: errorBodySchema,
      403: errorBodySchema,
    },
    handler: async ({ body, principal }) => {
      const result = await applySlos(ctx, {
        ...('yaml' in body ? { yaml: body.yaml } : { documents: body.documents }),
        file: 'request body',
        source: 'file',
      });
      await recordAudit(ctx, { kind: 'user', user: principal!.user }, 'slo.apply', null, {
        applied: result.applied,
        removed: result.removed,
      });
      return result;
    },
  }),
];
