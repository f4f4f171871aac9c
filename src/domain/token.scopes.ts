import { roleAllows, type UserRole } from './access.js';

/**
 * What an API token may do, beside its user's role (issue 13). A token's
 * scopes narrow its user's role and never widen it: they are held against the
 * role at each use, so a demoted user's tokens lose power at once. Browser
 * sessions have no scopes; their role alone decides.
 *
 * - `read`: GET routes open to the user's role;
 * - `write`: other routes open to the role (every write but events and admin);
 * - `events:write`: `POST /api/v1/events` for any native source, or
 *   `events:write:<source>` for that source only (members and admins);
 * - `admin`: admin routes, GET included (admins only).
 */
export type TokenScope = string;

/** The scope a route needs of a token. `events:write` is met by any `events:write:<source>`. */
export type RouteScope = 'read' | 'write' | 'events:write' | 'admin';

export const ROUTE_SCOPES: readonly RouteScope[] = ['read', 'write', 'events:write', 'admin'];

/** The same syntax as an event's `source`. */
const SOURCE_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const EVENTS_WRITE = 'events:write';
const EVENTS_WRITE_PREFIX = `${EVENTS_WRITE}:`;

/** The source an `events:write:<source>` scope names; undefined for any other scope. */
export const scopeSource = (scope: TokenScope): string | undefined =>
  scope.startsWith(EVENTS_WRITE_PREFIX) ? scope.slice(EVENTS_WRITE_PREFIX.length) : undefined;

/** Whether a string is a scope Lanes knows (`events:write:<source>` with a well-formed source). */
export const isTokenScope = (scope: string): boolean => {
  if ((ROUTE_SCOPES as readonly string[]).includes(scope)) return true;
  const source = scopeSource(scope);
  return source !== undefined && SOURCE_PATTERN.test(source);
};

/** The least role that may hold a scope. */
export const roleNeededFor = (scope: TokenScope): UserRole =>
  scope === 'admin' ? 'admin' : scope === 'read' || scope === 'write' ? 'stakeholder' : 'member';

/** Whether a user of `role` may hold `scope`. */
export const roleMayHold = (role: UserRole, scope: TokenScope): boolean => roleAllows(role, roleNeededFor(scope));

/**
 * What a token could do before scopes existed, and what a new token gets when
 * its creator names none: every scope the role may hold.
 */
export const defaultScopesFor = (role: UserRole): TokenScope[] =>
  ROUTE_SCOPES.filter((scope) => roleMayHold(role, scope));

/** The scopes a token may use now: those it was given that its user's role still allows. */
export const effectiveScopes = (granted: readonly TokenScope[], role: UserRole): TokenScope[] =>
  granted.filter((scope) => isTokenScope(scope) && roleMayHold(role, scope));

/** Whether scopes in force meet what a route needs. */
export const scopesMeet = (scopes: readonly TokenScope[], needed: RouteScope): boolean =>
  scopes.includes(needed) || (needed === EVENTS_WRITE && scopes.some((s) => scopeSource(s) !== undefined));

/** Whether scopes in force let a token append events of `source`. */
export const scopesAllowSource = (scopes: readonly TokenScope[], source: string): boolean =>
  scopes.includes(EVENTS_WRITE) || scopes.includes(`${EVENTS_WRITE_PREFIX}${source}`);

/** Scopes in their stored form: sorted, unique, space-separated (as OAuth writes them). */
export const formatScopes = (scopes: readonly TokenScope[]): string => [...new Set(scopes)].sort().join(' ');

/** The stored form read back; unknown words are kept (and ignored by `effectiveScopes`). */
export const parseScopes = (stored: string): TokenScope[] => stored.split(' ').filter((s) => s !== '');

/** Whether `wanted` asks for nothing beyond `held` (a token creating a token cannot widen itself). */
export const scopesWithin = (wanted: readonly TokenScope[], held: readonly TokenScope[]): boolean =>
  wanted.every((scope) => held.includes(scope) || (scopeSource(scope) !== undefined && held.includes(EVENTS_WRITE)));
