import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { errorBodySchema } from '../../api/items.contract.js';
import {
  deliveriesSchema,
  deliverySchema,
  subscriptionInputSchema,
  subscriptionSchema,
  subscriptionsSchema,
} from '../../api/subscriptions.contract.js';
import { AppError, isAppError } from '../../domain/errors.js';
import { escapeHtml } from '../../domain/notification.js';
import { recordAudit } from '../../services/access.service.js';
import type { ServiceContext } from '../../services/context.js';
import {
  describeUnsubscribeToken,
  listDeadLetters,
  listMySubscriptions,
  listSubscriptionDeliveries,
  renderFeed,
  retryDead,
  subscribe,
  unsubscribeById,
  unsubscribeByToken,
  type UnsubscribeView,
} from '../../services/notifications.service.js';
import { defineRoute, type RouteSpec } from '../route.js';

const idParamsSchema = z.strictObject({ id: z.string().min(1).max(100) });
const tokenQuerySchema = z.object({ token: z.string().min(10).max(400) });
const feedParamsSchema = z.strictObject({ file: z.string().min(1).max(200) });
const FEED_FILE = /^([A-Za-z0-9_-]{16,100})\.atom$/;

/** A page for people, not scripts: no scripts, nothing loaded from elsewhere, the token never sent on. */
const sendPage = (reply: FastifyReply, status: number, title: string, body: string): FastifyReply =>
  reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Lanes</title>` +
        '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}button{font:inherit;padding:.5rem 1rem;cursor:pointer}</style>' +
        `</head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`,
    );

const CHANNEL_WORDS: Record<string, string> = {
  email: 'e-mails',
  slack: 'Slack messages',
  webhook: 'webhook calls',
  feed: 'the feed',
};

const unsubscribedPage = (reply: FastifyReply, view: UnsubscribeView) =>
  sendPage(
    reply,
    200,
    'You are unsubscribed',
    `<p>You will get no more ${escapeHtml(CHANNEL_WORDS[view.channel] ?? 'messages')} because ${escapeHtml(view.reason)}.</p>`,
  );

const invalidLinkPage = (reply: FastifyReply) =>
  sendPage(
    reply,
    404,
    'This unsubscribe link is not valid',
    '<p>It may have been cut short. Copy the whole link from the message, or manage your subscriptions in Lanes.</p>',
  );

/**
 * Follows, their delivery logs, dead letters for admins, and the anonymous
 * surfaces: unsubscribe links (GET shows a confirmation page with one button,
 * so link scanners that fetch every URL in a message unsubscribe nobody;
 * POST unsubscribes, which is also RFC 8058's one-click POST from mail
 * clients) and Atom feeds at unguessable URLs.
 */
export const subscriptionRoutes = (ctx: ServiceContext, options: { publicUrl: string }): RouteSpec[] => [
  defineRoute({
    method: 'POST',
    url: '/api/v1/subscriptions',
    summary:
      'Follow an item, component, team or saved search by e-mail, Slack, signed webhook or Atom feed (stage changes only)',
    tag: 'subscriptions',
    access: 'stakeholder',
    body: subscriptionInputSchema,
    responses: { 201: subscriptionSchema, 200: subscriptionSchema, 400: errorBodySchema, 404: errorBodySchema },
    handler: async ({ body, principal }, _request, reply) => {
      const { subscription, created } = await subscribe(ctx, principal!.user, body, options);
      return reply.status(created ? 201 : 200).send(subscription);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/subscriptions',
    summary: 'My active subscriptions',
    tag: 'subscriptions',
    access: 'stakeholder',
    responses: { 200: subscriptionsSchema },
    handler: async ({ principal }) => ({ subscriptions: await listMySubscriptions(ctx, principal!.user) }),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/v1/subscriptions/:id',
    summary: 'Unsubscribe (mine; admins: anyone’s); what it had not sent yet is skipped',
    tag: 'subscriptions',
    access: 'stakeholder',
    params: idParamsSchema,
    responses: { 204: z.null(), 404: errorBodySchema },
    handler: async ({ params, principal }, _request, reply) => {
      await unsubscribeById(ctx, principal!.user, params.id);
      return reply.status(204).send();
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/subscriptions/:id/deliveries',
    summary: 'The delivery log of a subscription, newest first (its owner or an admin)',
    tag: 'subscriptions',
    access: 'stakeholder',
    params: idParamsSchema,
    responses: { 200: deliveriesSchema, 404: errorBodySchema },
    handler: async ({ params, principal }) => ({
      deliveries: await listSubscriptionDeliveries(ctx, principal!.user, params.id),
    }),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/notifications/dead',
    summary: 'Dead letters: deliveries that failed for good or ran out of attempts',
    tag: 'admin',
    access: 'admin',
    responses: { 200: deliveriesSchema, 403: errorBodySchema },
    handler: async () => ({ deliveries: await listDeadLetters(ctx) }),
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/notifications/deliveries/:id/retry',
    summary: 'Try a dead delivery again, with a fresh count of attempts',
    tag: 'admin',
    access: 'admin',
    params: idParamsSchema,
    responses: { 200: deliverySchema, 404: errorBodySchema, 409: errorBodySchema },
    handler: async ({ params, principal }) => {
      const delivery = await retryDead(ctx, params.id);
      await recordAudit(ctx, { kind: 'user', user: principal!.user }, 'notification.retry', params.id, {
        subscriptionId: delivery.subscriptionId,
        itemKey: delivery.itemKey,
      });
      return delivery;
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/unsubscribe',
    summary: 'The page an unsubscribe link opens (text/html): what it ends, and one button to confirm',
    tag: 'subscriptions',
    access: 'public',
    query: tokenQuerySchema,
    responses: { 200: z.string().describe('text/html'), 404: z.string().describe('text/html') },
    handler: async ({ query }, _request, reply) => {
      let view: UnsubscribeView;
      try {
        view = await describeUnsubscribeToken(ctx, query.token);
      } catch (error) {
        if (isAppError(error) && error.code === 'LANES_NOT_FOUND') return invalidLinkPage(reply);
        throw error;
      }
      if (!view.active) return unsubscribedPage(reply, view);
      return sendPage(
        reply,
        200,
        'Unsubscribe?',
        `<p>You get ${escapeHtml(CHANNEL_WORDS[view.channel] ?? 'messages')} because ${escapeHtml(view.reason)}.</p>` +
          `<form method="post" action="/unsubscribe?token=${escapeHtml(encodeURIComponent(query.token))}">` +
          '<button type="submit">Unsubscribe</button></form>',
      );
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/unsubscribe',
    summary: 'Unsubscribe by a signed link: the confirmation button, and RFC 8058 one-click POST from mail clients',
    tag: 'subscriptions',
    access: 'public',
    query: tokenQuerySchema,
    responses: { 200: z.string().describe('text/html'), 404: z.string().describe('text/html') },
    handler: async ({ query }, _request, reply) => {
      try {
        return unsubscribedPage(reply, await unsubscribeByToken(ctx, query.token));
      } catch (error) {
        if (isAppError(error) && error.code === 'LANES_NOT_FOUND') return invalidLinkPage(reply);
        throw error;
      }
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/feeds/:file',
    summary: 'The Atom feed of a feed subscription (application/atom+xml), at the secret URL it was given',
    tag: 'subscriptions',
    access: 'public',
    params: feedParamsSchema,
    responses: { 200: z.string().describe('application/atom+xml'), 404: errorBodySchema },
    handler: async ({ params }, _request, reply) => {
      const token = FEED_FILE.exec(params.file)?.[1];
      if (!token) throw new AppError('LANES_NOT_FOUND', 'no such feed');
      const xml = await renderFeed(ctx, token, options);
      return reply
        .header('content-type', 'application/atom+xml; charset=utf-8')
        .header('cache-control', 'private, max-age=60')
        .header('referrer-policy', 'no-referrer')
        .send(xml);
    },
  }),
];

/**
 * Mail clients send the RFC 8058 one-click unsubscribe as a form POST
 * (`application/x-www-form-urlencoded` or `multipart/form-data` with
 * `List-Unsubscribe=One-Click`); the token is in the URL, so the body is read
 * and dropped. Other routes keep refusing form bodies.
 */
export const acceptUnsubscribeForms = (app: FastifyInstance): void => {
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'multipart/form-data'],
    { parseAs: 'string', bodyLimit: 4096 },
    (request, _body, done) => {
      if (request.url.split('?')[0] === '/unsubscribe') done(null, {});
      else done(new AppError('LANES_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'), undefined);
    },
  );
};
