import { z } from 'zod';
import { errorBodySchema } from '../api/items.contract.js';
import { parseSlashCommand, verifySlackRequest } from '../connectors/slack/slack.command.js';
import type { ServiceContext } from '../services/context.js';
import { slackStatus } from '../services/portal.service.js';
import { lowerCaseHeaders } from './hooks.js';
import { defineRoute, type RouteSpec } from './route.js';

/** Slash commands are small forms; anything bigger is not Slack. */
const SLACK_BODY_LIMIT = 64 * 1024;

/**
 * `POST /slack/commands`: `/lanes status <key or words>`. The body is kept raw
 * because Slack signs those bytes; forged or stale requests get 401 and no
 * answer. Declared only when `LANES_SLACK_SIGNING_SECRET` is set; the answer
 * goes through the portal's audience rules like every portal surface.
 */
export const slackRoutes = (
  ctx: ServiceContext,
  options: { signingSecret: string; publicUrl: string },
): RouteSpec[] => [
  defineRoute({
    method: 'POST',
    url: '/slack/commands',
    summary: 'Slack slash command `/lanes status <key or words>` (a form signed by Slack)',
    tag: 'portal',
    access: 'public',
    rawBody: {
      contentTypes: ['application/x-www-form-urlencoded'],
      parseAs: 'buffer',
      limit: SLACK_BODY_LIMIT,
      unsupported: 'Slack sends slash commands as a form',
    },
    responses: { 200: z.record(z.string(), z.unknown()), 401: errorBodySchema },
    handler: async ({ body }, request) => {
      const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
      verifySlackRequest(options.signingSecret, lowerCaseHeaders(request.headers), raw, ctx.clock());
      const command = parseSlashCommand(raw);
      return slackStatus(ctx, command.text, `${command.teamId}:${command.userId}`, options.publicUrl);
    },
  }),
];
