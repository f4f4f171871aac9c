import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Database } from '../../store/database.js';

/**
 * A real SMTP server (the `smtp-server` library) on 127.0.0.1 for tests and
 * the fan-out benchmark: it accepts mail (optionally with a login), keeps the
 * raw messages, and can refuse recipients to simulate failures.
 */
export interface LocalSmtp {
  /** `smtp://user:pass@127.0.0.1:<port>?ignoreTLS=true` */
  url: string;
  /** Raw messages in arrival order. */
  raw: Buffer[];
  /** Parsed messages (with mailparser). */
  parsed(): Promise<ParsedMail[]>;
  /** The Message-ID header of every message, in arrival order (cheap: no full parse). */
  messageIds(): string[];
  close(): Promise<void>;
}

export interface LocalSmtpOptions {
  /** Answer RCPT TO with this SMTP error (e.g. 451 temporary, 550 permanent); undefined accepts. */
  refuse?: (recipient: string) => { code: number; message: string } | undefined;
  /** Require this login (over plain text: fine on loopback). */
  auth?: { user: string; pass: string };
  /** Keep only the headers (for large runs). */
  headersOnly?: boolean;
}

export const startLocalSmtp = async (options: LocalSmtpOptions = {}): Promise<LocalSmtp> => {
  const raw: Buffer[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    size: 10 * 1024 * 1024,
    maxClients: 100,
    onAuth: (auth, _session, callback) => {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
      } else callback(new Error('Invalid username or password'));
    },
    onRcptTo: (address, _session, callback) => {
      const refusal = options.refuse?.(address.address);
      if (!refusal) return callback();
      const error = new Error(refusal.message) as Error & { responseCode: number };
      error.responseCode = refusal.code;
      callback(error);
    },
    onData: (stream, _session, callback) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const message = Buffer.concat(chunks);
        raw.push(options.headersOnly ? message.subarray(0, message.indexOf('\r\n\r\n') + 4) : message);
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  const login = options.auth
    ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@`
    : '';
  return {
    url: `smtp://${login}127.0.0.1:${port}?ignoreTLS=true`,
    raw,
    parsed: () => Promise.all(raw.map((m) => simpleParser(m))),
    messageIds: () =>
      raw.map((m) => /^Message-ID:\s*(<[^>\r\n]+>)/im.exec(m.toString('utf8', 0, Math.min(m.length, 8192)))?.[1] ?? ''),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** A portal row for tests and benchmarks (what the portal maintains from the item projection). */
export interface TestPortalItem {
  key: string;
  title?: string;
  team?: string | null;
  component?: string | null;
  customer?: string | null;
  reporter?: string | null;
  stage?: string;
  visible?: boolean;
  kind?: string;
}

export const insertPortalItem = async (database: Database, item: TestPortalItem, at: string): Promise<void> => {
  await database.db
    .insertInto('portal_item')
    .values({
      key: item.key,
      kind: item.kind ?? 'bug',
      title: item.title ?? `Title of ${item.key}`,
      team: item.team === undefined ? 'payments' : item.team,
      component: item.component === undefined ? 'checkout' : item.component,
      customer: item.customer ?? null,
      reporter: item.reporter ?? null,
      stage: item.stage ?? 'reported',
      url: null,
      visible: item.visible === false ? 0 : 1,
      updated_at: at,
    })
    .execute();
};

export const setPortalVisible = async (database: Database, key: string, visible: boolean): Promise<void> => {
  await database.db
    .updateTable('portal_item')
    .set({ visible: visible ? 1 : 0 })
    .where('key', '=', key)
    .execute();
};

/** A stage change as the event path records it, not yet fanned out. */
export const insertStageChange = async (
  database: Database,
  change: {
    id: string;
    itemKey: string;
    from: string | null;
    to: string;
    at: string;
    summary?: string;
    url?: string | null;
  },
): Promise<void> => {
  await database.db
    .insertInto('item_stage_change')
    .values({
      id: change.id,
      item_key: change.itemKey,
      from_stage: change.from,
      to_stage: change.to,
      occurred_at: change.at,
      evidence_event_id: `event-${change.id}`,
      evidence: JSON.stringify({
        summary: change.summary ?? 'Deployed to production (deploy-8812)',
        source: 'github',
        url: change.url === undefined ? 'https://github.com/acme/pay/deployments/8812' : change.url,
      }),
      recorded_at: change.at,
      fanned_out_at: null,
    })
    .execute();
};
