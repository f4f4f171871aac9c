import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { AppError } from './domain/errors.js';
import { readSignInConfig, readTrustProxy, type SignInConfig, type TrustProxy } from './config.sign-in.js';
import { parseOutboundAllow, type OutboundAllow } from './connectors/outbound.address.js';

/** Default port of `lanes serve`: L-A-N-E on a phone keypad is 5263. */
export const DEFAULT_PORT = 5263;

const envSchema = z.object({
  LANES_DATA_DIR: z.string().min(1).default('.lanes'),
  LANES_DATABASE_URL: z.string().min(1).optional(),
  LANES_CHARTER: z.string().min(1).optional(),
  LANES_HOST: z.string().min(1).default('127.0.0.1'),
  LANES_PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULT_PORT),
  LANES_PUBLIC_URL: z.url().optional(),
  LANES_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(5 * 1024 * 1024),
  LANES_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LANES_WEBHOOK_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(25 * 1024 * 1024),
  LANES_WEBHOOK_PENDING_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(32 * 1024 * 1024),
  LANES_SHUTDOWN_TIMEOUT: z.coerce.number().min(0.1).max(3600).default(30),
  LANES_SECRETS_FILE: z.string().min(1).optional(),
  LANES_TRUST_PROXY: z.string().optional(),
  LANES_OUTBOUND_ALLOW: z.string().optional(),
});

/**
 * Connector secrets and endpoints. They come from the environment or from the
 * file named by `LANES_SECRETS_FILE` (KEY=value lines; the environment wins),
 * are never logged, and a connector is active only when its secret is set.
 */
export const SECRET_NAMES = [
  'LANES_GITHUB_WEBHOOK_SECRET',
  'LANES_GITHUB_TOKEN',
  'LANES_GITHUB_APP_ID',
  'LANES_GITHUB_APP_PRIVATE_KEY',
  'LANES_GITHUB_APP_PRIVATE_KEY_FILE',
  'LANES_GITHUB_APP_INSTALLATION_ID',
  'LANES_GITHUB_API_URL',
  'LANES_JIRA_WEBHOOK_SECRET',
  'LANES_JIRA_URL',
  'LANES_JIRA_EMAIL',
  'LANES_JIRA_API_TOKEN',
  'LANES_JIRA_PAT',
  'LANES_JIRA_FLAVOR',
  'LANES_LINEAR_WEBHOOK_SECRET',
  'LANES_LINEAR_API_KEY',
  'LANES_LINEAR_API_URL',
  'LANES_SLACK_BOT_TOKEN',
  'LANES_SLACK_API_URL',
  'LANES_SLACK_SIGNING_SECRET',
  'LANES_SMTP_URL',
  'LANES_MAIL_FROM',
  'LANES_OIDC_CLIENT_SECRET',
] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
export type Secrets = Partial<Record<SecretName, string>>;

/** Parses KEY=value lines (`#` comments, optional single or double quotes, `\n` in double quotes). */
export const parseSecretsFile = (text: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line
      .slice(0, eq)
      .trim()
      .replace(/^export\s+/, '');
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\n/g, '\n');
    } else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) value = value.slice(1, -1);
    out[key] = value;
  }
  return out;
};

const readSecrets = (env: NodeJS.ProcessEnv, file: string | undefined, cwd: string): Secrets => {
  let fromFile: Record<string, string> = {};
  if (file) {
    try {
      fromFile = parseSecretsFile(readFileSync(resolve(cwd, file), 'utf8'));
    } catch (error) {
      throw new AppError(
        'LANES_CONFIG_INVALID',
        `LANES_SECRETS_FILE: cannot read ${file}: ${(error as Error).message}`,
      );
    }
  }
  const secrets: Secrets = {};
  for (const name of SECRET_NAMES) {
    const value = env[name] || fromFile[name];
    if (value) secrets[name] = value;
  }
  if (!secrets.LANES_GITHUB_APP_PRIVATE_KEY && secrets.LANES_GITHUB_APP_PRIVATE_KEY_FILE) {
    try {
      secrets.LANES_GITHUB_APP_PRIVATE_KEY = readFileSync(
        resolve(cwd, secrets.LANES_GITHUB_APP_PRIVATE_KEY_FILE),
        'utf8',
      );
    } catch (error) {
      throw new AppError('LANES_CONFIG_INVALID', `LANES_GITHUB_APP_PRIVATE_KEY_FILE: ${(error as Error).message}`);
    }
  }
  return Object.freeze(secrets);
};

const readOutboundAllow = (text: string | undefined): OutboundAllow => {
  try {
    return parseOutboundAllow(text);
  } catch (error) {
    throw new AppError('LANES_CONFIG_INVALID', `LANES_OUTBOUND_ALLOW: ${(error as Error).message}`);
  }
};

export interface Config {
  dataDir: string;
  /** `postgres://…` or the path of the SQLite file. */
  databaseUrl: string;
  charterPath: string;
  host: string;
  port: number;
  bodyLimit: number;
  logLevel: string;
  /** Largest webhook body accepted (GitHub caps its payloads at 25 MB). */
  webhookBodyLimit: number;
  /** Bytes of webhook bodies read at once before their signatures are checked; beyond it, 503 with Retry-After. */
  webhookPendingBytes: number;
  /** Where people reach this Lanes (share links, e-mails, feeds); http://localhost:<port> by default. */
  publicUrl: string;
  /** `LANES_SHUTDOWN_TIMEOUT` (seconds, default 30): how long a stop may take before the process exits anyway. */
  shutdownTimeoutMs: number;
  secrets: Readonly<Secrets>;
  /** Passwords on or off, and the identity provider (`LANES_PASSWORD_LOGIN`, `LANES_OIDC_*`; docs/sso.md). */
  signIn: SignInConfig;
  /** `LANES_TRUST_PROXY`: which proxies' X-Forwarded-* headers to believe (off by default). */
  trustProxy: TrustProxy;
  /** `LANES_OUTBOUND_ALLOW`: internal hosts and ranges that user-given URLs (webhooks) may reach. */
  outboundAllow: OutboundAllow;
}

/** Reads the environment once, validates it, and returns a frozen config. */
export const loadConfig = (env: NodeJS.ProcessEnv, cwd: string, overrides: Partial<Config> = {}): Readonly<Config> => {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError('LANES_CONFIG_INVALID', `${issue.path.join('.')}: ${issue.message}`, {
      issues: parsed.error.issues,
    });
  }
  const e = parsed.data;
  const dataDir = resolve(cwd, e.LANES_DATA_DIR);
  const secrets = readSecrets(env, e.LANES_SECRETS_FILE, cwd);
  return Object.freeze({
    dataDir,
    databaseUrl: e.LANES_DATABASE_URL ?? join(dataDir, 'lanes.db'),
    charterPath: resolve(cwd, e.LANES_CHARTER ?? 'lanes.yaml'),
    host: e.LANES_HOST,
    port: e.LANES_PORT,
    bodyLimit: e.LANES_BODY_LIMIT,
    logLevel: e.LANES_LOG_LEVEL,
    webhookBodyLimit: e.LANES_WEBHOOK_BODY_LIMIT,
    webhookPendingBytes: e.LANES_WEBHOOK_PENDING_BYTES,
    shutdownTimeoutMs: Math.round(e.LANES_SHUTDOWN_TIMEOUT * 1000),
    publicUrl: (e.LANES_PUBLIC_URL ?? `http://localhost:${e.LANES_PORT}`).replace(/\/+$/, ''),
    secrets,
    signIn: readSignInConfig(env, secrets.LANES_OIDC_CLIENT_SECRET),
    trustProxy: readTrustProxy(e.LANES_TRUST_PROXY),
    outboundAllow: readOutboundAllow(e.LANES_OUTBOUND_ALLOW),
    ...overrides,
  });
};
