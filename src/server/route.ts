import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { z } from 'zod';
import type { Principal } from '../domain/access.js';
import type { RouteScope } from '../domain/token.scopes.js';

/**
 * Who may call a route. `public` is anonymous; the others need a session or an
 * API token whose role is at least this one (admin > member > stakeholder).
 */
export type Access = 'public' | 'stakeholder' | 'member' | 'admin';

/**
 * A route described once: the server registers it, validates with its schemas,
 * and the OpenAPI document is generated from the same schemas.
 */
export interface RouteSpec<
  Q extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  access: Access;
  /**
   * The scope an API token needs here (browser sessions have none); by
   * default `scopeOf` derives it from the method and the access level.
   */
  scope?: RouteScope;
  query?: Q;
  params?: P;
  body?: B;
  /**
   * The body is kept as raw bytes or text (a webhook signed over its bytes, a
   * coverage report, a Slack form) instead of parsed JSON: the route is
   * registered in a scope of its own with these content types and limit, and
   * `body` is not validated (its schema, if any, documents it).
   */
  rawBody?: RawBodySpec;
  /** Runs before the body is read (for example a budget on unsigned webhook bytes). */
  onRequest?: onRequestHookHandler;
  /** Response schemas by status (the success one at least). */
  responses: Record<number, z.ZodType>;
  handler: (
    input: { query: z.output<Q>; params: z.output<P>; body: z.output<B>; principal: Principal | undefined },
    request: FastifyRequest,
    reply: FastifyReply,
  ) => Promise<unknown>;
}

/** How a raw-body route reads its body. */
export interface RawBodySpec {
  /** Content types accepted (Fastify's content-type parser syntax); anything else is 415. */
  contentTypes: readonly string[];
  parseAs: 'buffer' | 'string';
  /** Largest body in bytes (larger → 413 LANES_BODY_TOO_LARGE). */
  limit: number;
  /** What a client sending another content type is told. */
  unsupported: string;
}

/**
 * The scope a token needs for a route: its own `scope`, else `admin` for
 * admin routes, `read` for GET and `write` for any other method.
 */
export const scopeOf = (route: Pick<RouteSpec, 'method' | 'access' | 'scope'>): RouteScope =>
  route.scope ?? (route.access === 'admin' ? 'admin' : route.method === 'GET' ? 'read' : 'write');

/** Keeps the schema generics of one route together (the array of routes is heterogeneous). */
export const defineRoute = <Q extends z.ZodType, P extends z.ZodType, B extends z.ZodType>(
  spec: RouteSpec<Q, P, B>,
): RouteSpec => spec as unknown as RouteSpec;
