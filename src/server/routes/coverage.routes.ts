import { z } from 'zod';
import { errorBodySchema } from '../../api/items.contract.js';
import { COVERAGE_FORMATS, MAX_COVERAGE_CHARS } from '../../domain/coverage.parse.js';
import { AppError } from '../../domain/errors.js';
import type { ServiceContext } from '../../services/context.js';
import { pushCoverage } from '../../services/coverage.service.js';
import { defineRoute, type RouteSpec } from '../route.js';

const querySchema = z.strictObject({
  component: z.string().min(1).max(120),
  format: z.enum(COVERAGE_FORMATS).optional(),
  commit: z.string().min(1).max(100).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
});

/**
 * `POST /api/v1/coverage?component=C&format=lcov|cobertura|istanbul` (member):
 * the body is the report itself as text (lcov, XML or JSON), read raw with a
 * limit sized for reports.
 */
export const coverageRoutes = (ctx: ServiceContext): RouteSpec[] => [
  defineRoute({
    method: 'POST',
    url: '/api/v1/coverage',
    summary: 'Push a coverage report (lcov, Cobertura XML or Istanbul JSON summary) for a component',
    tag: 'quality',
    access: 'member',
    query: querySchema,
    rawBody: {
      contentTypes: ['*'],
      parseAs: 'string',
      limit: MAX_COVERAGE_CHARS,
      unsupported: 'send the coverage report as text',
    },
    responses: { 201: z.record(z.string(), z.unknown()), 200: z.record(z.string(), z.unknown()), 400: errorBodySchema },
    handler: async ({ query, body }, _request, reply) => {
      const text = typeof body === 'string' ? body : '';
      if (text.trim() === '')
        throw new AppError('LANES_BODY_MALFORMED', 'send the coverage report as the request body');
      const { component, format, commit, at } = query;
      const result = await pushCoverage(ctx, {
        component,
        text,
        ...(format ? { format } : {}),
        ...(commit ? { commit } : {}),
        ...(at ? { at } : {}),
      });
      return reply.status(result.stored ? 201 : 200).send(result);
    },
  }),
];
