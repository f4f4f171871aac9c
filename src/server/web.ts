import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * Serves the built single-page app from `root`. Any GET that is not an API
 * route and not a file answers with index.html so client-side routes work on
 * reload; API paths keep their JSON 404. Security headers come from
 * `addSecurityHeaders`, for static files as for every other response.
 */
export const registerWebApp = (
  app: FastifyInstance,
  root: string,
  notFound: (method: string, url: string) => unknown,
): void => {
  const hasIndex = existsSync(join(root, 'index.html'));
  void app.register(fastifyStatic, {
    root,
    wildcard: false,
    index: false,
    setHeaders: (res, path) => {
      // Hashed assets never change; index.html must always be revalidated.
      res.header(
        'cache-control',
        path.includes(`${join(root, 'assets')}`) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    if (request.method !== 'GET' || path.startsWith('/api/') || path === '/healthz' || !hasIndex) {
      return reply.status(404).send(notFound(request.method, request.url));
    }
    return reply.header('cache-control', 'no-cache').type('text/html').sendFile('index.html');
  });
};
