import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { AppError, isAppError, type ErrorCode } from '../domain/errors.js';
import type { ServiceContext } from '../services/context.js';
import { HTTP_STATUS } from './error-status.js';
import type { RouteSpec } from './route.js';
import { itemRoutes } from './routes/items.routes.js';
import { systemRoutes } from './routes/system.routes.js';

export interface ServerOptions {
  bodyLimit: number;
  version: string;
}

export interface LanesServer {
  app: FastifyInstance;
  /** Every route this server registered, for the OpenAPI document and access tests. */
  routes: readonly RouteSpec[];
}

const errorBody = (code: ErrorCode, message: string, details?: unknown) => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

/** Maps Fastify's own errors (body parsing, limits) onto our stable codes. */
const fromFastifyError = (error: FastifyError): AppError | undefined => {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('LANES_BODY_TOO_LARGE', 'the request body is larger than this server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('LANES_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('LANES_BODY_MALFORMED', 'the request body is not valid JSON');
    default:
      if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message))) {
        return new AppError('LANES_BODY_MALFORMED', 'the request body is not valid JSON');
      }
      return undefined;
  }
};

const parseOr400 = <T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.output<T> => {
  if (!schema) return undefined as z.output<T>;
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new AppError(
    'LANES_VALIDATION',
    `${where}${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`,
    {
      issues: parsed.error.issues.map((i) => ({ path: [where, ...i.path.map(String)], message: i.message })),
    },
  );
};

/**
 * Builds the HTTP server. It never listens by itself: `lanes serve` does, and
 * tests use `app.inject`.
 */
export const createServer = (ctx: ServiceContext & { logger: Logger }, options: ServerOptions): LanesServer => {
  const app = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    bodyLimit: options.bodyLimit,
    genReqId: (req) => (req.headers['x-request-id'] as string | undefined)?.slice(0, 64) ?? randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const known = isAppError(error) ? error : fromFastifyError(error);
    if (known) {
      const status = HTTP_STATUS[known.code];
      if (status >= 500) request.log.error({ err: error }, known.message);
      return reply.status(status).send(errorBody(known.code, known.message, known.details));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .status(500)
      .send(
        errorBody('LANES_INTERNAL', 'Something went wrong inside Lanes; the request id is in the logs.', {
          requestId: request.id,
        }),
      );
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('LANES_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  const routes: RouteSpec[] = [...systemRoutes(ctx, options), ...itemRoutes(ctx)];
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request, reply) => {
        const input = {
          query: parseOr400(route.query, request.query, 'query'),
          params: parseOr400(route.params, request.params, 'params'),
          body: parseOr400(route.body, request.body, 'body'),
        };
        const result = await route.handler(input, request, reply);
        return reply.sent ? reply : result;
      },
    });
  }
  return { app, routes };
};
