import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBodySchema } from '../../api/items.contract.js';
import {
  authMethodsSchema,
  oidcCallbackQuerySchema,
  oidcStartQuerySchema,
  redirectSchema,
} from '../../api/oidc.contract.js';
import { AppError, isAppError } from '../../domain/errors.js';
import { OIDC_CALLBACK_PATH, OIDC_FLOW_MINUTES } from '../../domain/oidc.js';
import type { OidcService } from '../../services/oidc.service.js';
import { readCookie, SESSION_MAX_AGE, setSessionCookie } from '../auth.js';
import { defineRoute, type RouteSpec } from '../route.js';

/** Ties a started sign-in to the browser that started it (against login CSRF); read only by the callback. */
const FLOW_COOKIE = 'lanes_oidc';
const FLOW_COOKIE_PATH = '/api/v1/auth/oidc';
const START_PATH = '/api/v1/auth/oidc/start';

const setFlowCookie = (request: FastifyRequest, reply: FastifyReply, value: string, maxAgeSeconds: number): void => {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header(
    'set-cookie',
    `${FLOW_COOKIE}=${encodeURIComponent(value)}; Path=${FLOW_COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`,
  );
};

/**
 * A failed sign-in lands on the login page, which turns the code into a
 * sentence; the reason goes to the log, not to the browser.
 */
const toLoginPage = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
  const known = isAppError(error) ? error : undefined;
  if (known)
    request.log.warn({ code: known.code, reason: known.message }, 'sign-in with the identity provider refused');
  else request.log.error({ err: error }, 'sign-in with the identity provider failed');
  const code = known?.code ?? 'LANES_INTERNAL';
  return reply.redirect(`/login?sso_error=${encodeURIComponent(code)}`, 302);
};

/** The options these routes need: whether passwords are on, and the identity provider when configured. */
export interface OidcRouteOptions {
  passwordLogin: boolean;
  oidc?: OidcService | undefined;
}

/** Which sign-in methods the login page offers, and the two legs of the identity provider's sign-in. */
export const oidcRoutes = (options: OidcRouteOptions): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/api/v1/auth/methods',
    summary: 'Which sign-in methods are on (for the login page)',
    tag: 'access',
    access: 'public',
    responses: { 200: authMethodsSchema },
    handler: async () => ({
      password: options.passwordLogin,
      oidc: options.oidc ? { name: options.oidc.settings.name, startUrl: START_PATH } : null,
    }),
  }),
  defineRoute({
    method: 'GET',
    url: START_PATH,
    summary: 'Sign in with the identity provider: redirects to its sign-in page (PKCE, state and nonce)',
    tag: 'access',
    access: 'public',
    query: oidcStartQuerySchema,
    responses: { 302: redirectSchema, 404: errorBodySchema },
    handler: async ({ query }, request, reply) => {
      const oidc = options.oidc;
      if (!oidc)
        throw new AppError('LANES_OIDC_NOT_CONFIGURED', 'sign-in with an identity provider is not set up here');
      try {
        const { url, browser } = await oidc.start(query.returnTo, request.ip);
        setFlowCookie(request, reply, browser, OIDC_FLOW_MINUTES * 60);
        return reply.redirect(url, 302);
      } catch (error) {
        return toLoginPage(request, reply, error);
      }
    },
  }),
  defineRoute({
    method: 'GET',
    url: OIDC_CALLBACK_PATH,
    summary: 'Where the identity provider sends the browser back: opens a session and redirects into the app',
    tag: 'access',
    access: 'public',
    query: oidcCallbackQuerySchema,
    responses: { 302: redirectSchema, 404: errorBodySchema },
    handler: async (_input, request, reply) => {
      const oidc = options.oidc;
      if (!oidc)
        throw new AppError('LANES_OIDC_NOT_CONFIGURED', 'sign-in with an identity provider is not set up here');
      const browser = readCookie(request, FLOW_COOKIE);
      setFlowCookie(request, reply, '', 0);
      try {
        const search = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
        const { grant, returnTo } = await oidc.finish(search, browser);
        setSessionCookie(request, reply, grant.sessionId, SESSION_MAX_AGE);
        return reply.redirect(returnTo, 302);
      } catch (error) {
        return toLoginPage(request, reply, error);
      }
    },
  }),
];
