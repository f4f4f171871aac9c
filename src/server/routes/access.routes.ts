import type { FastifyReply } from 'fastify';
import {
  auditSchema,
  emailParamsSchema,
  emptySchema,
  loginBodySchema,
  newTokenBodySchema,
  newTokenSchema,
  newUserBodySchema,
  sessionSchema,
  setRoleBodySchema,
  tokenParamsSchema,
  tokensSchema,
  userSchema,
  usersSchema,
} from '../../api/access.contract.js';
import { errorBodySchema } from '../../api/items.contract.js';
import { logoutSchema } from '../../api/oidc.contract.js';
import type { AttemptLimit } from '../../domain/access.js';
import { AppError, isAppError } from '../../domain/errors.js';
import * as access from '../../services/access.service.js';
import type { ServiceContext } from '../../services/context.js';
import { readCookie, SESSION_COOKIE, SESSION_MAX_AGE, setSessionCookie } from '../auth.js';
import { defineRoute, type RouteSpec } from '../route.js';

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema };

/** Which sign-in methods are on, and the identity provider's logout (see `oidc.routes.ts`). */
export interface SignInOptions {
  /** False turns off POST /api/v1/session (403 LANES_PASSWORD_LOGIN_DISABLED); API tokens keep working. */
  passwordLogin: boolean;
  /** The identity provider's logout URL for a session opened with this ID token, when it has one. */
  endSessionUrl?: ((idToken: string) => Promise<string | undefined>) | undefined;
}

/** A 429 tells the client when to try again. */
const withRetryAfter = async <T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> => {
  try {
    return await work();
  } catch (error) {
    const seconds = isAppError(error) ? (error.details as { retryAfterSeconds?: number } | undefined) : undefined;
    if (isAppError(error) && error.code === 'LANES_RATE_LIMITED' && seconds?.retryAfterSeconds) {
      reply.header('retry-after', String(seconds.retryAfterSeconds));
    }
    throw error;
  }
};

export const accessRoutes = (
  ctx: ServiceContext,
  limiter: AttemptLimit,
  signIn: SignInOptions = { passwordLogin: true },
): RouteSpec[] => [
  defineRoute({
    method: 'POST',
    url: '/api/v1/session',
    summary: 'Sign in with e-mail and password; sets an HttpOnly session cookie',
    tag: 'access',
    access: 'public',
    body: loginBodySchema,
    responses: { 200: sessionSchema, ...errors, 429: errorBodySchema },
    handler: async ({ body }, request, reply) => {
      if (!signIn.passwordLogin) {
        throw new AppError(
          'LANES_PASSWORD_LOGIN_DISABLED',
          'password sign-in is turned off on this server; sign in with your identity provider',
        );
      }
      const grant = await withRetryAfter(reply, () => access.login(ctx, limiter, body, request.ip));
      setSessionCookie(request, reply, grant.sessionId, SESSION_MAX_AGE);
      return { user: grant.user, csrfToken: grant.csrfToken };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/session',
    summary: 'Who is signed in, with the CSRF token for writes',
    tag: 'access',
    access: 'stakeholder',
    responses: { 200: sessionSchema, 401: errorBodySchema },
    handler: async ({ principal }) => {
      if (principal?.via !== 'session') throw new AppError('LANES_UNAUTHENTICATED', 'no browser session');
      return { user: principal.user, csrfToken: principal.csrfToken! };
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/v1/session',
    summary: "Sign out; a session from the identity provider answers with the provider's logout URL to visit",
    tag: 'access',
    access: 'stakeholder',
    responses: { 200: logoutSchema, 204: emptySchema, ...errors },
    handler: async (_input, request, reply) => {
      const sessionId = readCookie(request, SESSION_COOKIE);
      const ended = sessionId ? await access.logout(ctx, sessionId) : {};
      setSessionCookie(request, reply, '', 0);
      const endSessionUrl = ended.oidcIdToken ? await signIn.endSessionUrl?.(ended.oidcIdToken) : undefined;
      return endSessionUrl ? { endSessionUrl } : reply.status(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/users',
    summary: 'List users',
    tag: 'admin',
    access: 'admin',
    responses: { 200: usersSchema, ...errors },
    handler: async () => ({ users: await access.listUsers(ctx) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/users',
    summary: 'Add a user',
    tag: 'admin',
    access: 'admin',
    body: newUserBodySchema,
    responses: { 201: userSchema, ...errors, 409: errorBodySchema },
    handler: async ({ body, principal }, _request, reply) =>
      reply.status(201).send(await access.addUser(ctx, { kind: 'user', user: principal!.user }, body)),
  }),
  defineRoute({
    method: 'PATCH',
    url: '/api/v1/users/:email',
    summary: "Change a user's role",
    tag: 'admin',
    access: 'admin',
    params: emailParamsSchema,
    body: setRoleBodySchema,
    responses: { 200: userSchema, ...errors, 404: errorBodySchema },
    handler: async ({ params, body, principal }) =>
      access.setUserRole(ctx, { kind: 'user', user: principal!.user }, params.email, body.role),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/v1/users/:email',
    summary: 'Remove a user with their sessions and tokens',
    tag: 'admin',
    access: 'admin',
    params: emailParamsSchema,
    responses: { 204: emptySchema, ...errors, 404: errorBodySchema },
    handler: async ({ params, principal }, _request, reply) => {
      await access.removeUser(ctx, { kind: 'user', user: principal!.user }, params.email);
      return reply.status(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/tokens',
    summary: 'Your API tokens (all tokens for admins)',
    tag: 'access',
    access: 'stakeholder',
    responses: { 200: tokensSchema, ...errors },
    handler: async ({ principal }) => ({
      tokens: await access.listTokens(ctx, principal!.user.role === 'admin' ? undefined : principal!.user),
    }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/tokens',
    summary: 'Create an API token for yourself, with scopes within your role; the secret is shown once',
    tag: 'access',
    access: 'stakeholder',
    body: newTokenBodySchema,
    responses: { 201: newTokenSchema, ...errors },
    handler: async ({ body, principal }, _request, reply) => {
      const user = principal!.user;
      const created = await access.createToken(ctx, { kind: 'user', user }, user, body.name, {
        scopes: body.scopes,
        within: principal!.via === 'token' ? (principal!.scopes ?? []) : undefined,
      });
      return reply.status(201).send(created);
    },
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/v1/tokens/:id',
    summary: "Revoke one of your API tokens (any token for admins); someone else's answers 404",
    tag: 'access',
    access: 'stakeholder',
    params: tokenParamsSchema,
    responses: { 204: emptySchema, ...errors, 404: errorBodySchema },
    handler: async ({ params, principal }, _request, reply) => {
      await access.revokeToken(ctx, { kind: 'user', user: principal!.user }, params.id);
      return reply.status(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/audit',
    summary: 'The audit log of admin actions, newest first',
    tag: 'admin',
    access: 'admin',
    responses: { 200: auditSchema, ...errors },
    handler: async () => ({ entries: await access.listAuditEntries(ctx) }),
  }),
];
