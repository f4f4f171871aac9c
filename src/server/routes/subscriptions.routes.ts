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
import type { OutboundAllow } from '../../connectors/outbound.address.js';
import type { ServiceContext } from '../../services/context.js';
import { answerConsent, describeConsent, type ConsentView } from '../../services/subscription.consent.js';
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
const CONSENT_PATH = '/confirm-subscription';
const consentQuerySchema = tokenQuerySchema.extend({ answer: z.enum(['confirm', 'decline']).default('confirm') });
const consentAnswerSchema = tokenQuerySchema.extend({ answer: z.enum(['confirm', 'decline']) });
/** Paths whose buttons post forms (the token is in the URL; the body is dropped). */
const FORM_PATHS = new Set(['/unsubscribe', CONSENT_PATH]);

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

const invalidLinkPage = (reply: FastifyReply, link: 'unsubscribe' | 'confirmation' = 'unsubscribe') =>
  sendPage(
    reply,
    404,
    `This ${link} link is not valid`,
    link === 'unsubscribe'
      ? '<p>It may have been cut short. Copy the whole link from the message, or manage your subscriptions in Lanes.</p>'
      : '<p>It may have been cut short. Copy the whole link from the message.</p>',
  );

/** Who asked for what, in the words the confirmation e-mail uses (nothing the subscriber typed). */
const consentAsked = (view: ConsentView) =>
  `<p>${escapeHtml(view.requestedBy)} asked Lanes to e-mail ${escapeHtml(view.address)} about ${escapeHtml(view.what)}.</p>`;

const CONSENT_OUTCOMES: Record<Exclude<ConsentView['state'], 'pending'>, [string, (view: ConsentView) => string]> = {
  confirmed: [
    'Subscription confirmed',
    (v) => `${v.address} will get e-mails about ${v.what}. Every e-mail has a link to unsubscribe.`,
  ],
  declined: ['Declined', (v) => `Lanes sends ${v.address} nothing about this, and no new request for 30 days.`],
  expired: [
    'This link has expired',
    (v) => `Nothing will be sent to ${v.address}. If you want these e-mails, ask for a new request.`,
  ],
  cancelled: ['Nothing to confirm', (v) => `The request was withdrawn; nothing will be sent to ${v.address}.`],
};

/**
 * The page a confirm or decline link opens: what was asked and two buttons
 * that POST (opening the link, as mail scanners do, answers nothing); or, once
 * answered, how it stands.
 */
const consentPage = (reply: FastifyReply, view: ConsentView, token: string, lead: 'confirm' | 'decline') => {
  if (view.state !== 'pending') {
    const [title, sentence] = CONSENT_OUTCOMES[view.state];
    return sendPage(reply, 200, title, `<p>${escapeHtml(sentence(view))}</p>`);
  }
  const button = (answer: 'confirm' | 'decline') =>
    `<form method="post" action="${escapeHtml(`${CONSENT_PATH}?token=${encodeURIComponent(token)}&answer=${answer}`)}" style="display:inline-block;margin-right:1rem">` +
    `<button type="submit">${answer === 'confirm' ? 'Confirm' : 'Decline'}</button></form>`;
  return sendPage(
    reply,
    200,
    lead === 'confirm' ? 'Confirm e-mails from Lanes?' : 'Decline e-mails from Lanes?',
    `${consentAsked(view)}<p>Nothing is sent to this address unless you confirm.</p>` +
      (lead === 'confirm' ? button('confirm') + button('decline') : button('decline') + button('confirm')),
  );
};

/**
 * Follows, their delivery logs, dead letters for admins, and the anonymous
 * surfaces: unsubscribe links (GET shows a confirmation page with one button,
 * so link scanners that fetch every URL in a message unsubscribe nobody;
 * POST unsubscribes, which is also RFC 8058's one-click POST from mail
 * clients), confirmation links for e-mail to someone else's address (the same
 * shape: GET shows Confirm and Decline buttons, POST answers) and Atom feeds
 * at unguessable URLs.
 */
export const subscriptionRoutes = (
  ctx: ServiceContext,
  options: { publicUrl: string; outboundAllow?: OutboundAllow | undefined },
): RouteSpec[] => [
  defineRoute({
    method: 'POST',
    url: '/api/v1/subscriptions',
    summary:
      'Follow an item, component, team or saved search by e-mail, Slack, signed webhook or Atom feed (stage changes only); e-mail to another address waits for its confirmation',
    tag: 'subscriptions',
    access: 'stakeholder',
    body: subscriptionInputSchema,
    responses: {
      201: subscriptionSchema,
      200: subscriptionSchema,
      400: errorBodySchema,
      404: errorBodySchema,
      429: errorBodySchema,
    },
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
    url: CONSENT_PATH,
    summary:
      'The page a confirmation e-mail links to (text/html): who asked to e-mail this address about what, with Confirm and Decline buttons',
    tag: 'subscriptions',
    access: 'public',
    query: consentQuerySchema,
    responses: { 200: z.string().describe('text/html'), 404: z.string().describe('text/html') },
    handler: async ({ query }, _request, reply) => {
      try {
        return consentPage(reply, await describeConsent(ctx, query.token), query.token, query.answer);
      } catch (error) {
        if (isAppError(error) && error.code === 'LANES_NOT_FOUND') return invalidLinkPage(reply, 'confirmation');
        throw error;
      }
    },
  }),
  defineRoute({
    method: 'POST',
    url: CONSENT_PATH,
    summary:
      'Confirm or decline e-mail to this address (the page’s buttons, and RFC 8058 one-click from mail clients, which declines)',
    tag: 'subscriptions',
    access: 'public',
    query: consentAnswerSchema,
    responses: { 200: z.string().describe('text/html'), 404: z.string().describe('text/html') },
    handler: async ({ query }, _request, reply) => {
      try {
        return consentPage(reply, await answerConsent(ctx, query.token, query.answer), query.token, query.answer);
      } catch (error) {
        if (isAppError(error) && error.code === 'LANES_NOT_FOUND') return invalidLinkPage(reply, 'confirmation');
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
 * and dropped. The confirmation page's buttons post forms too. Other routes
 * keep refusing form bodies.
 */
export const acceptUnsubscribeForms = (app: FastifyInstance): void => {
  app.addContentTypeParser(
    ['application/x-www-form-urlencoded', 'multipart/form-data'],
    { parseAs: 'string', bodyLimit: 4096 },
    (request, _body, done) => {
      if (FORM_PATHS.has(request.url.split('?')[0]!)) done(null, {});
      else done(new AppError('LANES_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json'), undefined);
    },
  );
};
