import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { AppError } from '../../domain/errors.js';

/** A token (personal or fine-grained), or a GitHub App installation. */
export type GithubAuth = { token: string } | { appId: string; privateKey: string; installationId: string };

/** How long before an installation token's `expires_at` a new one is fetched. */
const RENEW_BEFORE_MS = 5 * 60_000;

const base64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url');

const readKey = (pem: string): KeyObject => {
  try {
    // Keys pasted into environment variables often arrive with literal "\n".
    return createPrivateKey(pem.includes('\\n') ? pem.replace(/\\n/g, '\n') : pem);
  } catch {
    throw new AppError(
      'LANES_CONNECTOR_NOT_CONFIGURED',
      'the GitHub App private key is not a readable PEM private key',
    );
  }
};

/**
 * The GitHub App's JSON Web Token (RS256): issued a minute in the past against
 * clock drift, valid for nine minutes (GitHub allows ten).
 */
export const githubAppJwt = (appId: string, key: KeyObject, nowMs: number): string => {
  const now = Math.floor(nowMs / 1000);
  const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ iat: now - 60, exp: now + 9 * 60, iss: appId }));
  const signature = sign('sha256', Buffer.from(`${header}.${payload}`), key);
  return `${header}.${payload}.${base64url(signature)}`;
};

/**
 * The `Authorization` header for GitHub's API, asked for before every request.
 * A token is sent as it is; a GitHub App signs a JWT and exchanges it at
 * `POST {baseUrl}/app/installations/{id}/access_tokens` for an installation
 * token, kept until five minutes before it expires. Concurrent callers share
 * one exchange.
 */
export const githubAuthorization = (
  auth: GithubAuth,
  baseUrl: string,
  fetchImpl: typeof fetch = fetch,
  now: () => number = Date.now,
): (() => Promise<string>) => {
  if ('token' in auth) {
    const header = `Bearer ${auth.token}`;
    return async () => header;
  }
  const key = readKey(auth.privateKey);
  const url = `${baseUrl.replace(/\/+$/, '')}/app/installations/${encodeURIComponent(auth.installationId)}/access_tokens`;
  let cached: { header: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;

  const exchange = async (): Promise<string> => {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${githubAppJwt(auth.appId, key, now())}`,
          'user-agent': 'lanes',
          'x-github-api-version': '2022-11-28',
        },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new AppError('LANES_UPSTREAM_FAILED', `could not reach ${url}: ${String(error)}`);
    }
    const body = (await response.json().catch(() => null)) as { token?: unknown; expires_at?: unknown } | null;
    if (!response.ok || typeof body?.token !== 'string') {
      const hint = response.status === 401 ? ' (check the app id and private key)' : '';
      throw new AppError(
        'LANES_UPSTREAM_FAILED',
        `GitHub refused an installation token for installation ${auth.installationId}: HTTP ${response.status}${hint}`,
      );
    }
    const expires = typeof body.expires_at === 'string' ? Date.parse(body.expires_at) : Number.NaN;
    // Installation tokens live an hour; assume so when GitHub does not say.
    const expiresAt = Number.isFinite(expires) ? expires : now() + 60 * 60_000;
    cached = { header: `Bearer ${body.token}`, renewAt: expiresAt - RENEW_BEFORE_MS };
    return cached.header;
  };

  return async () => {
    if (cached && now() < cached.renewAt) return cached.header;
    pending ??= exchange().finally(() => {
      pending = undefined;
    });
    return pending;
  };
};
