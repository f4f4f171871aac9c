import type { FastifyInstance } from 'fastify';

/** The web app's policy: its own scripts only, inline styles (uPlot and React set them), no framing. */
export const APP_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * Security headers on every response, whichever way it was produced (a route,
 * a static file such as `/index.html`, the single-page fallback, an error):
 * no MIME sniffing, no referrer beyond the origin, and for HTML a content
 * security policy that forbids framing. A route that sets its own stricter
 * policy (the unsubscribe pages) keeps it.
 */
export const addSecurityHeaders = (app: FastifyInstance): void => {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'strict-origin-when-cross-origin');
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html') || type.startsWith('image/svg+xml')) {
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', APP_CSP);
      reply.header('x-frame-options', 'DENY');
    }
    return payload;
  });
};
