import { z } from 'zod';
import { errorBodySchema } from '../../api/items.contract.js';
import {
  portalItemParamsSchema,
  portalItemSchema,
  portalSearchQuerySchema,
  portalSearchResultSchema,
  shareLinkParamsSchema,
  shareLinkSchema,
  shareLinksSchema,
  shareTokenParamsSchema,
} from '../../api/portal.contract.js';
import type { ServiceContext } from '../../services/context.js';
import {
  createShareLink,
  listItemShareLinks,
  portalItem,
  recordPortalLookup,
  revokeItemShareLink,
  searchPortal,
  sharedItem,
} from '../../services/portal.service.js';
import { defineRoute, type RouteSpec } from '../route.js';

/** The self-serve status portal for every signed-in role, and share links for anyone holding one. */
export const portalRoutes = (ctx: ServiceContext, options: { publicUrl: string }): RouteSpec[] => [
  defineRoute({
    method: 'GET',
    url: '/api/v1/portal/search',
    summary: 'Find items a stakeholder may see: by key, words, reporter, customer, or a pasted link',
    tag: 'portal',
    access: 'stakeholder',
    query: portalSearchQuerySchema,
    responses: { 200: portalSearchResultSchema, 400: errorBodySchema },
    handler: async ({ query, principal }) => searchPortal(ctx, principal!, query),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/portal/items/:key',
    summary: 'One item in plain words: stage, what happens next, next update due, history with evidence',
    tag: 'portal',
    access: 'stakeholder',
    params: portalItemParamsSchema,
    responses: { 200: portalItemSchema, 404: errorBodySchema },
    handler: async ({ params, principal }) => {
      const item = await portalItem(ctx, principal!, params.key);
      recordPortalLookup(ctx, item.key, `user:${principal!.user.id}`);
      return item;
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/api/v1/portal/items/:key/share',
    summary: 'Create a read-only link to the item for people without an account (the secret is shown once)',
    tag: 'portal',
    access: 'stakeholder',
    params: portalItemParamsSchema,
    responses: { 200: shareLinkSchema, 404: errorBodySchema },
    handler: async ({ params, principal }) => createShareLink(ctx, principal!, params.key, options.publicUrl),
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/portal/items/:key/shares',
    summary: "The item's share links, without their secrets (a stakeholder's own; every link for members)",
    tag: 'portal',
    access: 'stakeholder',
    params: portalItemParamsSchema,
    responses: { 200: shareLinksSchema, 404: errorBodySchema },
    handler: async ({ params, principal }) => ({ links: await listItemShareLinks(ctx, principal!, params.key) }),
  }),
  defineRoute({
    method: 'DELETE',
    url: '/api/v1/portal/shares/:id',
    summary: "Revoke a share link (its creator, a member or an admin); someone else's answers a stakeholder 404",
    tag: 'portal',
    access: 'stakeholder',
    params: shareLinkParamsSchema,
    responses: { 200: z.object({ revoked: z.literal(true) }), 404: errorBodySchema },
    handler: async ({ params, principal }) => {
      await revokeItemShareLink(ctx, principal!, params.id);
      return { revoked: true as const };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/api/v1/public/share/:token',
    summary: 'The item behind a share link, read-only, for anyone holding the link',
    tag: 'portal',
    access: 'public',
    params: shareTokenParamsSchema,
    responses: { 200: portalItemSchema, 404: errorBodySchema },
    handler: async ({ params }) => {
      const item = await sharedItem(ctx, params.token);
      recordPortalLookup(ctx, item.key, `share:${params.token.slice(0, 12)}`);
      return item;
    },
  }),
];
