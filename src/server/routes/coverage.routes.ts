import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { COVERAGE_FORMATS, MAX_COVERAGE_CHARS } from '../../domain/coverage.parse.js';
import { AppError } from '../../domain/errors.js';
import type { ServiceContext } from '../../services/context.js';
import { pushCoverage } from '../../services/coverage.service.js';
import { authorize } from '../auth.js';

const querySchema = z.strictObject({
  component: z.string().min(1).max(120),
  format: z.enum(COVERAGE_FORMATS).optional(),
  commit: z.string().min(1).max(100).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
});

/**
 * `POST /api/v1/coverage?component=C&format=lcov|cobertura|istanbul` (member):
 * the body is the report itself as text (lcov, XML or JSON), so this route has
 * its own content-type parsers and a body limit sized for reports, in a scope of its own.
 */
export const registerCoverageRoutes = (app: FastifyInstance, ctx: ServiceContext): void => {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_COVERAGE_CHARS }, (_request, body, done) =>
      done(null, body),
    );
    scope.post('/api/v1/coverage', async (request, reply) => {
      await authorize(ctx, request, 'member');
      const query = querySchema.safeParse(request.query);
      if (!query.success) throw new AppError('LANES_VALIDATION', `query: ${z.prettifyError(query.error)}`);
      const text = typeof request.body === 'string' ? request.body : '';
      if (text.trim() === '')
        throw new AppError('LANES_BODY_MALFORMED', 'send the coverage report as the request body');
      const { component, format, commit, at } = query.data;
      const result = await pushCoverage(ctx, {
        component,
        text,
        ...(format ? { format } : {}),
        ...(commit ? { commit } : {}),
        ...(at ? { at } : {}),
      });
      return reply.status(result.stored ? 201 : 200).send(result);
    });
  });
};
