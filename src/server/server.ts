import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AppError, isAppError, type ErrorCode } from '../domain/errors.js';
import type { ServiceContext } from '../services/context.js';
import { HTTP_STATUS } from './error-status.js';
import { createLoginLimiter } from '../services/access.service.js';
import { authorize } from './auth.js';
import { buildOpenApi } from './openapi.js';
import { defineRoute, type RouteSpec } from './route.js';
import { accessRoutes } from './routes/access.routes.js';
import { workspaceRoutes } from './routes/workspace.routes.js';
import { registerWebApp } from './web.js';
import { itemRoutes } from './routes/items.routes.js';
import { systemRoutes } from './routes/system.routes.js';
import { sourceRoutes } from './routes/sources.routes.js';
import { boundaryRoutes } from './routes/boundaries.routes.js';
import { sloRoutes } from './routes/slo.routes.js';
import { portalRoutes } from './routes/portal.routes.js';
import { qualityRoutes } from './routes/quality.routes.js';
import { acceptUnsubscribeForms, subscriptionRoutes } from './routes/subscriptions.routes.js';
import { registerWebhookRoutes } from './hooks.js';
import { registerCoverageRoutes } from './routes/coverage.routes.js';
import { registerSlackRoutes } from './slack.js';
import type { WebhookIntake } from '../services/webhooks.service.js';

export interface ServerOptions {
  bodyLimit: number;
  version: string;
  /** The built web app (web/dist); when set, served at / with a single-page-app fallback. */
  webRoot?: string | undefined;
  /** Re-reads lanes.yaml; absent when the server runs without a charter file. */
  reloadCharter?: (() => Promise<{ issues: number }>) | undefined;
  /** Where people reach this server (share links); http://localhost by default. */
  publicUrl?: string | undefined;
  /** Slack's signing secret; when set, `/lanes status` is answered at `POST /slack/commands`. */
  slackSigningSecret?: string | undefined;
  /** Webhook intake for `/hooks/:provider`; absent, those routes are not registered. */
  webhooks?: { intake: WebhookIntake; bodyLimit: number; active: readonly string[] } | undefined;
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
    return reply.status(500).send(
      errorBody('LANES_INTERNAL', 'Something went wrong inside Lanes; the request id is in the logs.', {
        requestId: request.id,
      }),
    );
  });
  const notFound = (method: string, url: string) =>
    errorBody('LANES_NOT_FOUND', `no route ${method} ${url.split('?')[0]}`);
  if (options.webRoot) registerWebApp(app, options.webRoot, notFound);
  else app.setNotFoundHandler((request, reply) => reply.status(404).send(notFound(request.method, request.url)));

  const routes: RouteSpec[] = [
    ...systemRoutes(ctx, options),
    ...accessRoutes(ctx, createLoginLimiter()),
    ...itemRoutes(ctx),
    ...workspaceRoutes(ctx, options),
    ...sourceRoutes(ctx, options.webhooks?.active ?? []),
    ...boundaryRoutes(ctx),
    ...qualityRoutes(ctx),
    ...sloRoutes(ctx),
    ...portalRoutes(ctx, { publicUrl: options.publicUrl ?? 'http://localhost:5263' }),
    ...subscriptionRoutes(ctx, { publicUrl: options.publicUrl ?? 'http://localhost:5263' }),
  ];
  acceptUnsubscribeForms(app);
  if (options.webhooks) registerWebhookRoutes(app, options.webhooks.intake, options.webhooks.bodyLimit);
  registerCoverageRoutes(app, ctx);
  if (options.slackSigningSecret) {
    registerSlackRoutes(app, ctx, {
      signingSecret: options.slackSigningSecret,
      publicUrl: options.publicUrl ?? 'http://localhost:5263',
    });
  }
  let openApi: Record<string, unknown> | undefined;
  routes.push(
    defineRoute({
      method: 'GET',
      url: '/api/v1/openapi.json',
      summary: 'This OpenAPI 3.1 document',
      tag: 'system',
      access: 'stakeholder',
      responses: { 200: z.record(z.string(), z.unknown()) },
      handler: async () => (openApi ??= buildOpenApi(routes, options.version)),
    }),
  );
  for (const route of routes) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request, reply) => {
        const principal = await authorize(ctx, request, route.access);
        const input = {
          principal,
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
