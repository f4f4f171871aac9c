import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';
import { isProviderName } from '../connectors/registry.js';
import type { WebhookIntake } from '../services/webhooks.service.js';

/**
 * `POST /hooks/:provider` (github, jira, linear). The body is kept as raw bytes
 * because the signature is computed over them; it is parsed only after the
 * signature checks out. The answer (202) is sent once the delivery is durably
 * stored; mapping it into events happens afterwards.
 */
export const registerWebhookRoutes = (app: FastifyInstance, intake: WebhookIntake, bodyLimit: number): void => {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      ['application/json', 'application/vnd.api+json'],
      { parseAs: 'buffer', bodyLimit },
      (_request, body, done) => done(null, body),
    );
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, _body, done) =>
      done(
        new AppError(
          'LANES_UNSUPPORTED_MEDIA_TYPE',
          'send webhooks as application/json (in GitHub: Content type application/json)',
        ),
        undefined,
      ),
    );
    scope.post<{ Params: { provider: string } }>('/hooks/:provider', async (request, reply) => {
      const { provider } = request.params;
      if (!isProviderName(provider)) {
        throw new AppError('LANES_NOT_FOUND', `no webhook provider "${provider}"; use github, jira or linear`);
      }
      const body = request.body;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        throw new AppError('LANES_BODY_MALFORMED', 'the webhook body is empty');
      }
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        headers[name.toLowerCase()] = Array.isArray(value) ? value[0] : value;
      }
      const receipt = await intake.receive(provider, body, headers);
      return reply.status(receipt.stored ? 202 : 200).send({
        received: true,
        deliveryId: receipt.deliveryId,
        eventType: receipt.eventType,
        duplicate: !receipt.stored,
      });
    });
  });
};
