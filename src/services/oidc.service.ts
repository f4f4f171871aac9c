import { createHash, randomBytes } from 'node:crypto';
import * as client from 'openid-client';
import { AppError, isAppError } from '../domain/errors.js';
import {
  claimAt,
  OIDC_CALLBACK_PATH,
  OIDC_FLOW_MINUTES,
  rolesMapped,
  safeReturnPath,
  type OidcSettings,
} from '../domain/oidc.js';
import { claimFlow, deleteExpiredFlows, insertFlow } from '../store/oidc.repository.js';
import { countSignInAttempt, openSession, type SessionGrant } from './access.service.js';
import type { ServiceContext } from './context.js';
import { userForClaims } from './oidc.accounts.js';

/**
 * Sign-in through the company's identity provider: the authorization-code flow
 * with PKCE, state and nonce (openid-client), its state kept in the database so
 * that any instance can finish what another started, each state usable once.
 */
export interface OidcService {
  readonly settings: OidcSettings;
  /**
   * Starts a sign-in: stores its state and returns the identity provider's
   * authorization URL, and a value the browser must bring back (a cookie).
   * `clientKey` (the client's address) is limited in how many it may start.
   */
  start(returnTo: string | undefined, clientKey: string): Promise<{ url: string; browser: string }>;
  /** Finishes a sign-in from the callback's query string and opens a session. */
  finish(search: string, browser: string | undefined): Promise<{ grant: SessionGrant; returnTo: string }>;
  /** The identity provider's logout URL for a session opened with this ID token, when it has one. */
  endSessionUrl(idToken: string): Promise<string | undefined>;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

const isLoopback = (url: URL): boolean =>
  url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);

/** Basic authentication when the provider supports it (the spec's default), else the secret in the body. */
const secretAuth =
  (secret: string): client.ClientAuth =>
  (as, metadata, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported;
    const basic = !methods || methods.includes('client_secret_basic');
    (basic ? client.ClientSecretBasic(secret) : client.ClientSecretPost(secret))(as, metadata, body, headers);
  };

/** Network trouble becomes LANES_UPSTREAM_FAILED; any refused answer LANES_OIDC_FAILED, with the library's reason. */
const asAppError = (error: unknown, issuer: string): AppError => {
  if (isAppError(error)) return error;
  const e = error as Error & { cause?: unknown };
  const cause = e.cause instanceof Error ? `: ${e.cause.message}` : '';
  const network =
    (e instanceof TypeError && /fetch failed/i.test(e.message)) || e.name === 'TimeoutError' || e.name === 'AbortError';
  if (network) {
    return new AppError('LANES_UPSTREAM_FAILED', `the identity provider at ${issuer} could not be reached${cause}`);
  }
  return new AppError('LANES_OIDC_FAILED', `the identity provider's answer was refused: ${e.message}${cause}`, {
    reason: (e as { code?: unknown }).code ?? e.name,
  });
};

/** What the steps of a sign-in share. */
interface Flow {
  ctx: ServiceContext;
  settings: OidcSettings;
  publicUrl: string;
  redirectUri: string;
  configuration: () => Promise<client.Configuration>;
}

/** Each started sign-in is a row: a client may start 100 in 10 minutes (a whole office behind one address). */
const START_LIMIT = { max: 100, windowMs: OIDC_FLOW_MINUTES * 60_000 };

const startSignIn = async (
  f: Flow,
  returnTo: string | undefined,
  clientKey: string,
): Promise<{ url: string; browser: string }> => {
  await countSignInAttempt(f.ctx, START_LIMIT, `oidc-start|${clientKey}`);
  const config = await f.configuration();
  const now = f.ctx.clock();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const verifier = client.randomPKCECodeVerifier();
  const browser = randomBytes(24).toString('base64url');
  await deleteExpiredFlows(f.ctx.database, now.toISOString());
  await insertFlow(f.ctx.database, {
    state_hash: sha256(state),
    browser_hash: sha256(browser),
    nonce,
    code_verifier: verifier,
    return_to: safeReturnPath(returnTo),
    created_at: now.toISOString(),
    expires_at: new Date(now.getTime() + OIDC_FLOW_MINUTES * 60_000).toISOString(),
  });
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: f.redirectUri,
    scope: f.settings.scopes.join(' '),
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  return { url: url.href, browser };
};

const finishSignIn = async (
  f: Flow,
  search: string,
  browser: string | undefined,
): Promise<{ grant: SessionGrant; returnTo: string }> => {
  const params = new URLSearchParams(search);
  const state = params.get('state');
  if (!state) throw new AppError('LANES_OIDC_STATE', 'the answer of the identity provider carries no state');
  // Claimed before anything else: whatever happens next, this state cannot be used again.
  const flow = await claimFlow(f.ctx.database, sha256(state));
  if (!flow) throw new AppError('LANES_OIDC_STATE', 'this sign-in is unknown or was already used; start again');
  if (flow.expires_at <= f.ctx.clock().toISOString()) {
    throw new AppError('LANES_OIDC_STATE', `this sign-in took longer than ${OIDC_FLOW_MINUTES} minutes; start again`);
  }
  if (!browser || sha256(browser) !== flow.browser_hash) {
    throw new AppError('LANES_OIDC_STATE', 'this sign-in was started in another browser; start again');
  }
  const error = params.get('error');
  if (error) {
    const description = params.get('error_description');
    throw new AppError(
      'LANES_OIDC_FAILED',
      `the identity provider answered ${error}${description ? `: ${description}` : ''}`,
      { reason: error },
    );
  }
  const currentUrl = new URL(f.redirectUri);
  currentUrl.search = params.toString();
  const { claims, idToken } = await verifiedClaims(f, currentUrl, {
    state,
    nonce: flow.nonce,
    verifier: flow.code_verifier,
  });
  const user = await userForClaims(f.ctx, f.settings, claims);
  const grant = await openSession(f.ctx, user, { oidcIdToken: idToken });
  return { grant, returnTo: flow.return_to };
};

/** The code exchanged, the ID token checked (issuer, audience, signature, nonce, expiry), userinfo added if needed. */
const verifiedClaims = async (
  f: Flow,
  currentUrl: URL,
  checks: { state: string; nonce: string; verifier: string },
): Promise<{ claims: Record<string, unknown>; idToken: string }> => {
  try {
    const config = await f.configuration();
    const tokens = await client.authorizationCodeGrant(config, currentUrl, {
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      pkceCodeVerifier: checks.verifier,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims()!;
    let claims: Record<string, unknown> = { ...idClaims };
    const { settings } = f;
    const wanted = ['email', settings.emailVerifiedClaim, ...(rolesMapped(settings) ? [settings.roleClaim] : [])];
    const missing = wanted.some((name) => claimAt(claims, name) === undefined);
    if (missing && config.serverMetadata().userinfo_endpoint && tokens.access_token) {
      // The ID token's own claims win; userinfo only fills in what it lacks.
      claims = { ...(await client.fetchUserInfo(config, tokens.access_token, idClaims.sub)), ...idClaims };
    }
    return { claims, idToken: tokens.id_token! };
  } catch (error) {
    throw asAppError(error, f.settings.issuer);
  }
};

const endSessionUrlOf = async (f: Flow, idToken: string): Promise<string | undefined> => {
  try {
    const config = await f.configuration();
    if (!config.serverMetadata().end_session_endpoint) return undefined;
    return client.buildEndSessionUrl(config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: `${f.publicUrl}/login`,
    }).href;
  } catch (error) {
    f.ctx.logger.warn({ err: error }, 'the identity provider has no usable logout; signed out of Lanes only');
    return undefined;
  }
};

/**
 * Builds the service for one identity provider. Discovery happens at first use
 * and is kept (retried after a failure). Token times are checked against
 * `ctx.clock()`.
 */
export const createOidcService = (ctx: ServiceContext, settings: OidcSettings, publicUrl: string): OidcService => {
  const issuer = new URL(settings.issuer);
  const base = publicUrl.replace(/\/+$/, '');
  let discovered: Promise<client.Configuration> | undefined;
  const configuration = (): Promise<client.Configuration> =>
    (discovered ??= client
      .discovery(
        issuer,
        settings.clientId,
        {
          ...(settings.clientSecret ? { client_secret: settings.clientSecret } : {}),
          // Lanes' clock, not the process's, decides whether a token has expired.
          [client.clockSkew]: Math.round((ctx.clock().getTime() - Date.now()) / 1000),
        },
        settings.clientSecret ? secretAuth(settings.clientSecret) : client.None(),
        // openid-client refuses plain http; a loopback issuer (a provider on this machine, tests) may use it.
        { execute: isLoopback(issuer) ? [client.allowInsecureRequests] : [], timeout: 15 },
      )
      .catch((error: unknown) => {
        discovered = undefined;
        throw asAppError(error, settings.issuer);
      }));
  const flow: Flow = { ctx, settings, publicUrl: base, redirectUri: `${base}${OIDC_CALLBACK_PATH}`, configuration };
  return {
    settings,
    start: (returnTo, clientKey) => startSignIn(flow, returnTo, clientKey),
    finish: (search, browser) => finishSignIn(flow, search, browser),
    endSessionUrl: (idToken) => endSessionUrlOf(flow, idToken),
  };
};
