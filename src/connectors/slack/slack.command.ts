import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../domain/errors.js';

/**
 * Slack's request signing for slash commands: `X-Slack-Signature` is `v0=` and
 * the hex HMAC-SHA256, keyed with the app's signing secret, of
 * `v0:<X-Slack-Request-Timestamp>:<raw body>`. A timestamp more than five
 * minutes from now is refused, so a captured request cannot be replayed.
 */
export const SLACK_MAX_SKEW_SECONDS = 300;

export const slackSignature = (secret: string, timestamp: string, body: Buffer | string): string =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;

export const verifySlackRequest = (
  secret: string,
  headers: Readonly<Record<string, string | undefined>>,
  body: Buffer,
  now: Date,
): void => {
  const timestamp = headers['x-slack-request-timestamp'];
  const signature = headers['x-slack-signature'];
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) {
    throw new AppError('LANES_WEBHOOK_SIGNATURE', 'the request is not signed by Slack');
  }
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_MAX_SKEW_SECONDS) {
    throw new AppError('LANES_WEBHOOK_STALE', 'the request is older than five minutes (or from the future)');
  }
  const expected = Buffer.from(slackSignature(secret, timestamp, body));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    throw new AppError('LANES_WEBHOOK_SIGNATURE', 'the Slack signature does not match');
  }
};

/** The fields of a slash command (application/x-www-form-urlencoded). */
export interface SlashCommand {
  command: string;
  text: string;
  userId: string;
  teamId: string;
}

export const parseSlashCommand = (body: Buffer): SlashCommand => {
  const form = new URLSearchParams(body.toString('utf8'));
  return {
    command: form.get('command') ?? '',
    text: (form.get('text') ?? '').trim(),
    userId: form.get('user_id') ?? '',
    teamId: form.get('team_id') ?? '',
  };
};
