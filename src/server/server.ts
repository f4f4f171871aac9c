import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { AppError, isAppError, type ErrorCode } from '../domain/errors.js';
import type { ServiceContext } from '../services/context.js';
import { HTTP_STATUS } from './error-status.js';
import { isDatabaseTrouble, RETRY_AFTER_SECONDS } from '../store/database.errors.js';
import type { DatabaseHealth } from '../store/database.health.js';
import { fromFastifyError, PATH_PARAM_MAX } from './fastify-errors.js';
import { registerInputLimits } from './body.parse.js';
import { createLoginLimiter } from '../services/access.service.js';
import { authorize } from './auth.js';
import { buildOpenApi } from './openapi.js';
import { defineRoute, scopeOf, type RouteSpec } from './route.js';
import { accessRoutes } from './routes/access.routes.js';
import { oidcRoutes } from './routes/oidc.routes.js';
import type { OidcService } from '../services/oidc.service.js';
import { workspaceRoutes } from './routes/workspace.routes.js';
import { registerWebApp } from './web.js';
import { addSecurityHeaders } from './security.headers.js';
import { itemRoutes } from './routes/items.routes.js';
import { systemRoutes } from './routes/system.routes.js';
import { sourceRoutes } from './routes/sources.routes.js';
import { boundaryRoutes } from './routes/boundaries.routes.js';
import { sloRoutes } from './routes/slo.routes.js';
import { portalRoutes } from './routes/portal.routes.js';
import { qualityRoutes } from './routes/quality.routes.js';
import { acceptUnsubscribeForms, subscriptionRoutes } from './routes/subscriptions.routes.js';
import { webhookRoutes } from './hooks.js';
import { coverageRoutes } from './routes/coverage.routes.js';
import { slackRoutes } from './slack.js';
import type { WebhookIntake } from '../services/webhooks.service.js';
import type { OutboundAllow } from '../connectors/outbound.address.js';

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
  /** `LANES_OUTBOUND_ALLOW`: internal hosts and ranges webhook subscriptions may name. */
  outboundAllow?: OutboundAllow | undefined;
  /** `LANES_TRUST_PROXY` (Fastify's `trustProxy`): whose X-Forwarded-* to believe for protocol and client address. */
  trustProxy?: boolean | string[] | undefined;
  /** How people sign in: passwords on or off (on by default) and the identity provider, if any (docs/sso.md). */
  signIn?: { passwordLogin: boolean; oidc?: OidcService | undefined } | undefined;
  /** Webhook intake for `/hooks/:provider`; absent, those routes are not registered. */
  webhooks?:
    | {
        intake: WebhookIntake;
        bodyLimit: number;
        active: readonly string[];
        /** Bytes of unverified webhook bodies read at once (`LANES_WEBHOOK_PENDING_BYTES`). */
        pendingBytes?: number | undefined;
      }
    | undefined;
}

export interface LanesServer {
  app: FastifyInstance;
  /** Every route of the route table, for the OpenAPI document and access tests. */
  routes: readonly RouteSpec[];
  /**
   * Every route Fastify registered, however it was registered (the route table,
   * static files, plugins), so a test can prove that nothing answers outside the
   * route table's access and audience rules. Complete once the app is ready.
   */
  registered: ReadonlyArray<{ method: string; url: string; lanesRoute: boolean }>;
}

const errorBody = (code: ErrorCode, message: string, details?: unknown) => ({
  error: details === undefined ? { code, message } : { code, message, details },
});

const retryAfterOf = (error: AppError): number => {
  const given = (error.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (typeof given === 'number') return given;
  return isDatabaseTrouble(error.code) ? RETRY_AFTER_SECONDS[error.code] : 5;
};

/**
 * The one error handler: stable codes with their statuses; the database away
 * or out of room (recognised by its health, which logs it once per burst)
 * 503 or 507 with Retry-After; anything else a 500 that leaks nothing.
 */
const replyWithError = (error: FastifyError, request: FastifyRequest, reply: FastifyReply, health?: DatabaseHealth) => {
  const known = isAppError(error) ? error : (fromFastifyError(error) ?? health?.recognise(error, request.log));
  if (known) {
    const status = HTTP_STATUS[known.code];
    if ((status === 503 || status === 507) && !reply.hasHeader('retry-after')) {
      reply.header('retry-after', String(retryAfterOf(known)));
    }
    if (status >= 500 && !isDatabaseTrouble(known.code)) request.log.error({ err: error }, known.message);
    return reply.status(status).send(errorBody(known.code, known.message, known.details));
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.status(500).send(
    errorBody('LANES_INTERNAL', 'Something went wrong inside Lanes; the request id is in the logs.', {
      requestId: request.id,
    }),
  );
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

/** Registers one route of the table: who may call it, then its validated input, then its handler. */
const registerRoute = (scope: FastifyInstance, ctx: ServiceContext, route: RouteSpec): void => {
  scope.route({
    method: route.method,
    url: route.url,
    config: { lanesRoute: true },
    ...(route.onRequest ? { onRequest: route.onRequest } : {}),
    handler: async (request, reply) => {
      const principal = await authorize(ctx, request, route.access, scopeOf(route));
      const input = {
        principal,
        query: parseOr400(route.query, request.query, 'query'),
        params: parseOr400(route.params, request.params, 'params'),
        body: route.rawBody ? request.body : parseOr400(route.body, request.body, 'body'),
      };
      const result = await route.handler(input, request, reply);
      return reply.sent ? reply : result;
    },
  });
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
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: PATH_PARAM_MAX },
    // Bad percent-encoding and over-long parameters go through the error handler too.
    frameworkErrors: replyWithError,
    trustProxy: options.trustProxy ?? false,
  });

  app.setErrorHandler((error: FastifyError, request, reply) =>
    replyWithError(error, request, reply, ctx.database.health),
  );
  registerInputLimits(app);
  addSecurityHeaders(app);
  const registered: Array<{ method: string; url: string; lanesRoute: boolean }> = [];
  app.addHook('onRoute', (route) => {
    const lanesRoute = (route.config as { lanesRoute?: boolean } | undefined)?.lanesRoute === true;
    for (const method of [route.method].flat()) registered.push({ method, url: route.url, lanesRoute });
  });
  const notFound = (method: string, url: string) =>
    errorBody('LANES_NOT_FOUND', `no route ${method} ${url.split('?')[0]}`);
  if (options.webRoot) registerWebApp(app, options.webRoot, notFound);
  else app.setNotFoundHandler((request, reply) => reply.status(404).send(notFound(request.method, request.url)));

  const routes: RouteSpec[] = [
    ...systemRoutes(ctx, options),
    ...accessRoutes(ctx, createLoginLimiter(), {
      passwordLogin: options.signIn?.passwordLogin ?? true,
      endSessionUrl: options.signIn?.oidc?.endSessionUrl,
    }),
    ...oidcRoutes({ passwordLogin: options.signIn?.passwordLogin ?? true, oidc: options.signIn?.oidc }),
    ...itemRoutes(ctx),
    ...workspaceRoutes(ctx, options),
    ...sourceRoutes(ctx, options.webhooks?.active ?? []),
    ...boundaryRoutes(ctx),
    ...qualityRoutes(ctx),
    ...sloRoutes(ctx),
    ...portalRoutes(ctx, { publicUrl: options.publicUrl ?? 'http://localhost:5263' }),
    ...subscriptionRoutes(ctx, {
      publicUrl: options.publicUrl ?? 'http://localhost:5263',
      outboundAllow: options.outboundAllow,
    }),
  ];
  acceptUnsubscribeForms(app);
  routes.push(...coverageRoutes(ctx));
  if (options.webhooks) routes.push(...webhookRoutes(options.webhooks));
  if (options.slackSigningSecret) {
    routes.push(
      ...slackRoutes(ctx, {
        signingSecret: options.slackSigningSecret,
        publicUrl: options.publicUrl ?? 'http://localhost:5263',
      }),
    );
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
    if (route.rawBody) {
      const raw = route.rawBody;
      void app.register(async (scope) => {
        scope.removeAllContentTypeParsers();
        scope.addContentTypeParser(
          [...raw.contentTypes],
          { parseAs: raw.parseAs, bodyLimit: raw.limit },
          (_r, body, done) => done(null, body),
        );
        if (!raw.contentTypes.includes('*')) {
          scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: raw.limit }, (_r, _body, done) =>
            done(new AppError('LANES_UNSUPPORTED_MEDIA_TYPE', raw.unsupported), undefined),
          );
        }
        registerRoute(scope, ctx, route);
      });
    } else registerRoute(app, ctx, route);
  }
  return { app, routes, registered };
};
