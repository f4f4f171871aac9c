import { z } from 'zod';
import { healthSchema, errorBodySchema } from '../../api/items.contract.js';
import { audienceOf, charterForStakeholders } from '../../domain/audience.js';
import { AppError } from '../../domain/errors.js';
import type { ServiceContext } from '../../services/context.js';
import { defineRoute, type RouteSpec } from '../route.js';

export const systemRoutes = (ctx: ServiceContext, options: { version: string }): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/healthz',
    summary: 'Liveness: the process is up and the database answers',
    tag: 'system',
    access: 'public',
    responses: { 200: healthSchema, 503: errorBodySchema },
    handler: async () => {
      try {
        await ctx.database.db.selectFrom('meta').select('key').limit(1).execute();
      } catch {
        throw new AppError('LANES_DATABASE_UNREACHABLE', 'the database does not answer');
      }
      return { status: 'ok' as const, version: options.version, database: ctx.database.engine };
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
