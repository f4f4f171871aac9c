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
import type { AttemptLimiter } from '../../domain/access.js';
import { AppError } from '../../domain/errors.js';
import * as access from '../../services/access.service.js';
import type { ServiceContext } from '../../services/context.js';
import { readCookie, SESSION_COOKIE, SESSION_MAX_AGE, setSessionCookie } from '../auth.js';
import { defineRoute, type RouteSpec } from '../route.js';

const errors = { 400: errorBodySchema, 401: errorBodySchema, 403: errorBodySchema };

export const accessRoutes = (ctx: ServiceContext, limiter: AttemptLimiter): RouteSpec[] => [
  defineRoute({
    method: 'POST',
    url: '/api/v1/session',
    summary: 'Sign in with e-mail and password; sets an HttpOnly session cookie',
    tag: 'access',
    access: 'public',
    body: loginBodySchema,
    responses: { 200: sessionSchema, ...errors, 429: errorBodySchema },
    handler: async ({ body }, request, reply) => {
      const grant = await access.login(ctx, limiter, body, request.ip);
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
    summary: 'Sign out',
    tag: 'access',
    access: 'stakeholder',
    responses: { 204: emptySchema, ...errors },
    handler: async (_input, request, reply) => {
      const sessionId = readCookie(request, SESSION_COOKIE);
      if (sessionId) await access.logout(ctx, sessionId);
      setSessionCookie(request, reply, '', 0);
      return reply.status(204).send();
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
    summary: 'Create an API token for yourself; the secret is shown once',
    tag: 'access',
    access: 'member',
    body: newTokenBodySchema,
    responses: { 201: newTokenSchema, ...errors },
    handler: async ({ body, principal }, _request, reply) =>
      reply
        .status(201)
        .send(await access.createToken(ctx, { kind: 'user', user: principal!.user }, principal!.user, body.name)),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/v1/tokens/:id',
    summary: 'Revoke an API token',
    tag: 'access',
    access: 'member',
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
