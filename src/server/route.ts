import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Principal } from '../domain/access.js';

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
  query?: Q;
  params?: P;
  body?: B;
  /** Response schemas by status (the success one at least). */
  responses: Record<number, z.ZodType>;
  handler: (
    input: { query: z.output<Q>; params: z.output<P>; body: z.output<B>; principal: Principal | undefined },
    request: FastifyRequest,
    reply: FastifyReply,
  ) => Promise<unknown>;
}

/** Keeps the schema generics of one route together (the array of routes is heterogeneous). */
export const defineRoute = <Q extends z.ZodType, P extends z.ZodType, B extends z.ZodType>(
  spec: RouteSpec<Q, P, B>,
): RouteSpec => spec as unknown as RouteSpec;
