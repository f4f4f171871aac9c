import { z } from 'zod';
import { healthSchema, errorBodySchema, readySchema } from '../../api/items.contract.js';
import { audienceOf, charterForStakeholders } from '../../domain/audience.js';
import { AppError } from '../../domain/errors.js';
import type { ServiceContext } from '../../services/context.js';
import { readinessProblem, reportHealth } from '../../services/health.service.js';
import { RETRY_AFTER_SECONDS, isDatabaseTrouble } from '../../store/database.errors.js';
import { defineRoute, type RouteSpec } from '../route.js';

export const systemRoutes = (ctx: ServiceContext, options: { version: string }): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/healthz',
    summary:
      'Liveness: 200 while the process runs (restarting it would not help); status degraded, with the reason, when the database is away or out of room',
    tag: 'system',
    access: 'public',
    responses: { 200: healthSchema },
    handler: async () => ({ version: options.version, ...(await reportHealth(ctx)) }),
  }),
  defineRoute({
    method: 'GET',
    url: '/readyz',
    summary:
      'Readiness for a load balancer: 200 when the database answers, has room and takes a write; else 503 with the reason and Retry-After',
    tag: 'system',
    access: 'public',
    responses: { 200: readySchema, 503: errorBodySchema },
    handler: async (_input, _request, reply) => {
      const problem = await readinessProblem(ctx);
      if (!problem) return { status: 'ready' as const, database: ctx.database.engine };
      const retryAfter = isDatabaseTrouble(problem.code) ? RETRY_AFTER_SECONDS[problem.code] : 5;
      return reply
        .status(503)
        .header('retry-after', String(retryAfter))
        .send({ error: { code: problem.code, message: problem.message, details: problem.details } });
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/charter',
    summary:
      'The charter in force: workspace, people, teams, decision rights and delegations (stakeholders: without identities or connector settings)',
    tag: 'charter',
    access: 'stakeholder',
    responses: { 200: z.record(z.string(), z.unknown()), 404: errorBodySchema },
    handler: async ({ principal }) => {
      const loaded = ctx.charter();
      if (!loaded) throw new AppError('LANES_CHARTER_NOT_FOUND', 'no charter is loaded; run `lanes init` and restart');
      const charter =
        audienceOf(principal?.user.role) === 'internal' ? loaded.charter : charterForStakeholders(loaded.charter);
      return { ...charter, loadedAt: loaded.loadedAt };
    },
  }),
];
