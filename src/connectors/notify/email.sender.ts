import nodemailer from 'nodemailer';
import { DeliveryFailure } from '../../domain/notification.js';
import type { NotificationSender } from './notify.types.js';

/**
 * E-mail over SMTP with nodemailer's pooled transport: a few connections kept
 * open and reused, so thousands of messages do not pay a handshake each.
 * A message with an unsubscribe URL carries `List-Unsubscribe` (the signed
 * https link) with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
 * (RFC 8058); one without (an empty `unsubscribeUrl`, e.g. the escalation
 * e-mails the charter addresses) carries neither. Every message has a stable
 * Message-ID per delivery, and `Auto-Submitted: auto-generated` (RFC 3834) so
 * out-of-office replies stay away.
 */
export interface EmailSenderOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`; `?ignoreTLS=true` for a local relay. */
  smtpUrl: string;
  /** `Lanes <lanes@example.com>`. */
  from: string;
  /** The domain of Message-IDs (the public URL's host). */
  messageIdDomain: string;
  /** Connections kept open (default 5). */
  maxConnections?: number;
  /** Per connection and greeting, socket inactivity (default 30 s). */
  timeoutMs?: number;
}

export interface EmailSender {
  send: NotificationSender;
  close(): Promise<void>;
}

/** The nodemailer options of an SMTP URL; refuses anything but smtp: and smtps:. */
export const smtpTransportOptions = (smtpUrl: string, timeoutMs = 30_000, maxConnections = 5) => {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new Error('LANES_SMTP_URL is not a URL (smtp://user:pass@host:port)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error('LANES_SMTP_URL must start with smtp:// or smtps://');
  }
  const secure = url.protocol === 'smtps:';
  const flag = (name: string) => url.searchParams.get(name) === 'true';
  return {
    pool: true as const,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ignoreTLS: flag('ignoreTLS'),
    requireTLS: flag('requireTLS'),
    ...(url.username
      ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
      : {}),
    maxConnections: Number(url.searchParams.get('maxConnections')) || maxConnections,
    maxMessages: 1000,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  };
};

/** SMTP 5xx is a permanent refusal (no such mailbox, relaying denied); 4xx and network errors are worth retrying. */
const smtpFailure = (error: unknown): DeliveryFailure => {
  const e = error as { responseCode?: number; message?: string; code?: string };
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const message = `SMTP ${code ?? e.code ?? 'error'}: ${(e.message ?? String(error)).slice(0, 500)}`;
  return new DeliveryFailure(message, code !== undefined && code >= 500 && code < 600);
};

export const createEmailSender = (options: EmailSenderOptions): EmailSender => {
  const transport = nodemailer.createTransport(
    smtpTransportOptions(options.smtpUrl, options.timeoutMs, options.maxConnections),
  );
  return {
    send: async (n) => {
      try {
        await transport.sendMail({
          from: options.from,
          to: n.address,
          subject: n.message.subject,
          text: n.message.text,
          html: n.message.html,
          messageId: `<${n.key}@${options.messageIdDomain}>`,
          ...(n.unsubscribeUrl ? { list: { unsubscribe: { url: n.unsubscribeUrl, comment: 'Unsubscribe' } } } : {}),
          headers: {
            ...(n.unsubscribeUrl ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
            'Auto-Submitted': 'auto-generated',
            'X-Lanes-Delivery': n.key,
          },
        });
      } catch (error) {
        throw smtpFailure(error);
      }
    },
    close: async () => {
      transport.close();
    },
  };
};
