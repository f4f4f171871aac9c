import { DeliveryFailure } from '../../domain/notification.js';
import { isAppError } from '../../domain/errors.js';
import type { SyncHttp } from '../connector.types.js';
import type { NotificationSender } from './notify.types.js';

/** Slack errors no retry can mend: the message or its channel is wrong. */
const PERMANENT = new Set([
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'msg_too_long',
  'no_text',
  'invalid_blocks',
  'user_not_found',
]);

/**
 * `POST chat.postMessage` with the bot token. Slack answers most errors with
 * HTTP 200 and `{"ok": false, "error": "channel_not_found"}`: those fail too.
 * The `SyncHttp` given must not retry (the dispatcher does, with backoff).
 */
export const slackNotificationSender =
  (http: SyncHttp): NotificationSender =>
  async (n) => {
    let body: unknown;
    try {
      const response = await http.request({
        method: 'POST',
        url: 'chat.postMessage',
        body: { channel: n.address, text: n.message.slack, mrkdwn: true, unfurl_links: false, unfurl_media: false },
      });
      body = response.body;
    } catch (error) {
      throw new DeliveryFailure(isAppError(error) ? error.message : String(error));
    }
    const answer = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    if (answer['ok'] !== true) {
      const error = typeof answer['error'] === 'string' ? answer['error'] : 'an answer without "ok": true';
      throw new DeliveryFailure(`Slack chat.postMessage answered ${error}`, PERMANENT.has(error));
    }
  };
