import { z } from 'zod';
import { scopeOf, type RouteSpec } from './route.js';

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' });
  return rest;
};

const parameters = (schema: z.ZodType | undefined, where: 'query' | 'path') => {
  if (!schema) return [];
  const s = jsonSchema(schema, 'input') as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => ({
    name,
    in: where,
    required: where === 'path' || (s.required ?? []).includes(name),
    ...(typeof prop['description'] === 'string' ? { description: prop['description'] } : {}),
    schema: prop,
  }));
};

const requestBody = (r: RouteSpec): Record<string, unknown> => {
  if (r.rawBody) {
    const content = Object.fromEntries(
      r.rawBody.contentTypes.map((type) => [type === '*' ? 'text/plain' : type, { schema: { type: 'string' } }]),
    );
    return { requestBody: { required: true, content } };
  }
  if (!r.body) return {};
  return { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } };
};

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export const buildOpenApi = (routes: readonly RouteSpec[], version: string): Record<string, unknown> => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const [status, schema] of Object.entries(r.responses)) {
      responses[status] =
        status === '204'
          ? { description: 'No content' }
          : {
              description: schema.description ?? `HTTP ${status}`,
              content: { 'application/json': { schema: jsonSchema(schema, 'output') } },
            };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      'x-lanes-access': r.access,
      ...(r.access === 'public' ? {} : { 'x-lanes-token-scope': scopeOf(r) }),
      security: r.access === 'public' ? [] : [{ sessionCookie: [] }, { bearerToken: [] }],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      ...requestBody(r),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Lanes API',
      version,
      description:
        'Errors are always { "error": { "code", "message", "details" } } with a stable code. Request bodies are strict: unknown fields are rejected with 400 LANES_VALIDATION. Cookie-authenticated writes need the x-csrf-token header.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'lanes_session' },
        bearerToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API token from `lanes token create` or the API tokens page; it needs the scope named in x-lanes-token-scope.',
        },
      },
    },
    paths,
  };
};
