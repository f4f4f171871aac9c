import type { FastifyReply, FastifyRequest } from 'fastify';
import { roleAllows, type Principal } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import { scopesMeet, type RouteScope } from '../domain/token.scopes.js';
import { principalFromSession, principalFromToken, SESSION_HOURS } from '../services/access.service.js';
import type { ServiceContext } from '../services/context.js';
import type { Access } from './route.js';

export const SESSION_COOKIE = 'lanes_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const readCookie = (request: FastifyRequest, name: string): string | undefined => {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
};

/** HttpOnly, SameSite=Lax, Secure when the request came over TLS. */
export const setSessionCookie = (
  request: FastifyRequest,
  reply: FastifyReply,
  value: string,
  maxAgeSeconds: number,
): void => {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header(
    'set-cookie',
    `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure}`,
  );
};

export const SESSION_MAX_AGE = SESSION_HOURS * 3600;

/**
 * Finds who is calling (API token first, then the session cookie) and checks
 * the route's access level, and for API tokens the route's scope (`scopeOf`);
 * cookie-authenticated writes must echo the session's CSRF token in `x-csrf-token`.
 */
export const authorize = async (
  ctx: ServiceContext,
  request: FastifyRequest,
  access: Access,
  scope: RouteScope,
): Promise<Principal | undefined> => {
  let principal: Principal | undefined;
  const authorization = request.headers.authorization;
  if (authorization) {
    const [scheme, value] = authorization.split(' ', 2);
    principal = scheme?.toLowerCase() === 'bearer' && value ? await principalFromToken(ctx, value.trim()) : undefined;
    if (!principal) throw new AppError('LANES_UNAUTHENTICATED', 'the API token is not valid or was revoked');
  } else {
    const sessionId = readCookie(request, SESSION_COOKIE);
    if (sessionId) principal = await principalFromSession(ctx, sessionId);
  }
  if (access === 'public') return principal;
  if (!principal)
    throw new AppError('LANES_UNAUTHENTICATED', 'sign in, or send an API token as Authorization: Bearer …');
  if (!roleAllows(principal.user.role, access)) {
    throw new AppError('LANES_FORBIDDEN', `this needs the ${access} role; you are ${principal.user.role}`);
  }
  if (principal.via === 'token' && !scopesMeet(principal.scopes ?? [], scope)) {
    throw new AppError('LANES_FORBIDDEN', `this API token lacks the ${scope} scope`, {
      missingScope: scope,
      scopes: principal.scopes ?? [],
    });
  }
  if (principal.via === 'session' && !SAFE_METHODS.has(request.method)) {
    if (request.headers['x-csrf-token'] !== principal.csrfToken) {
      throw new AppError('LANES_CSRF', 'send the x-csrf-token header you received when you signed in');
    }
  }
  return principal;
};
