import type { FastifyInstance } from 'fastify';
import { parseSlashCommand, verifySlackRequest } from '../connectors/slack/slack.command.js';
import { AppError } from '../domain/errors.js';
import type { ServiceContext } from '../services/context.js';
import { slackStatus } from '../services/portal.service.js';

/** Slash commands are small forms; anything bigger is not Slack. */
const SLACK_BODY_LIMIT = 64 * 1024;

/**
 * `POST /slack/commands`: `/lanes status <key or words>`. The body is kept raw
 * because Slack signs those bytes; forged or stale requests get 401 and no
 * answer. Registered only when `LANES_SLACK_SIGNING_SECRET` is set.
 */
export const registerSlackRoutes = (
  app: FastifyInstance,
  ctx: ServiceContext,
  options: { signingSecret: string; publicUrl: string },
): void => {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'buffer', bodyLimit: SLACK_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SLACK_BODY_LIMIT }, (_request, _body, done) =>
      done(new AppError('LANES_UNSUPPORTED_MEDIA_TYPE', 'Slack sends slash commands as a form'), undefined),
    );
    scope.post('/slack/commands', async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        headers[name.toLowerCase()] = Array.isArray(value) ? value[0] : value;
      }
      verifySlackRequest(options.signingSecret, headers, body, ctx.clock());
      const command = parseSlashCommand(body);
      return slackStatus(ctx, command.text, `${command.teamId}:${command.userId}`, options.publicUrl);
    });
  });
};
