import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OpenID Connect provider (panva's oidc-provider) on 127.0.0.1 for the
 * tests: one confidential client, the accounts the test puts in `accounts`,
 * and a login-and-consent interaction the test drives over HTTP by naming the
 * account (`/interaction/<uid>?login=<account>`), as a person does on its
 * sign-in page by typing the account name and pressing "Continue".
 */
export interface TestAccount {
  email?: string;
  email_verified?: boolean | string;
  name?: string;
  groups?: string[];
}

export interface TestIdp {
  /** The issuer the provider names in its metadata and tokens. */
  issuer: string;
  /** Where it listens (the same as `issuer` unless `advertisedIssuer` was given). */
  url: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, TestAccount>;
  /**
   * Follows an authorization URL through the provider's sign-in as `account`
   * and returns the URL the provider sends the browser back to (the client's
   * callback with `code`, `state` and `iss`).
   */
  signIn(authorizationUrl: string, account: string): Promise<URL>;
  close(): Promise<void>;
}

export interface TestIdpOptions {
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** Name another issuer in the metadata than the URL it answers on (an impostor). */
  advertisedIssuer?: (url: string) => string;
  /** Seconds an ID token lasts (default one hour). */
  idTokenTtl?: number;
}

/** A small cookie jar: the provider's own cookies, sent back on every request to it. */
const cookieJar = () => {
  const cookies = new Map<string, string>();
  return {
    header: () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
    keep: (response: Response) => {
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair!.indexOf('=');
        const name = pair!.slice(0, eq).trim();
        const value = pair!.slice(eq + 1).trim();
        if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') cookies.delete(name);
        else cookies.set(name, value);
      }
    },
  };
};

type Stored = Record<string, unknown> & { uid?: string; userCode?: string; grantId?: string; consumed?: number };

/** The provider's storage, in this process (its own in-memory store warns on every start). */
class MemoryAdapter {
  private static readonly rows = new Map<string, Stored>();
  constructor(private readonly model: string) {}
  private key(id: string): string {
    return `${this.model}:${id}`;
  }
  async upsert(id: string, payload: Stored): Promise<void> {
    MemoryAdapter.rows.set(this.key(id), payload);
  }
  async find(id: string): Promise<Stored | undefined> {
    return MemoryAdapter.rows.get(this.key(id));
  }
  async findByUid(uid: string): Promise<Stored | undefined> {
    for (const [key, row] of MemoryAdapter.rows) if (key.startsWith(`${this.model}:`) && row.uid === uid) return row;
    return undefined;
  }
  async findByUserCode(code: string): Promise<Stored | undefined> {
    for (const [key, row] of MemoryAdapter.rows)
      if (key.startsWith(`${this.model}:`) && row.userCode === code) return row;
    return undefined;
  }
  async consume(id: string): Promise<void> {
    const row = MemoryAdapter.rows.get(this.key(id));
    if (row) row.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id: string): Promise<void> {
    MemoryAdapter.rows.delete(this.key(id));
  }
  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, row] of MemoryAdapter.rows) if (row.grantId === grantId) MemoryAdapter.rows.delete(key);
  }
}

const finishInteraction = async (provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> => {
  const details = await provider.interactionDetails(req, res);
  const account = new URL(req.url ?? '/', 'http://idp.invalid').searchParams.get('login');
  if (!account) {
    // The provider's sign-in page, for a browser: the account name, and a button.
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      `<!doctype html><title>Test IdP</title><form method="get"><label>Account <input name="login"></label>` +
        `<button type="submit">Continue</button></form>`,
    );
    return;
  }
  const grant = new provider.Grant({ accountId: account, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope ?? 'openid'));
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: account }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
};

const providerConfiguration = (options: TestIdpOptions, accounts: Map<string, TestAccount>, secret: string) => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    clients: [
      {
        client_id: 'lanes',
        client_secret: secret,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    adapter: MemoryAdapter,
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'email', 'profile', 'groups'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    ttl: {
      IdToken: options.idTokenTtl ?? 3600,
      AccessToken: 3600,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    findAccount: (_ctx: unknown, id: string) => {
      const account = accounts.get(id);
      if (!account) return undefined;
      return { accountId: id, claims: () => ({ sub: id, ...account }) };
    },
  };
};

/** Starts the provider on a free port of 127.0.0.1. */
export const startTestIdp = async (options: TestIdpOptions): Promise<TestIdp> => {
  const accounts = new Map<string, TestAccount>();
  const clientSecret = randomBytes(16).toString('hex');
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = options.advertisedIssuer?.(url) ?? url;
  const provider = new Provider(issuer, providerConfiguration(options, accounts, clientSecret));
  const callback = provider.callback();
  handler = (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      finishInteraction(provider, req, res).catch((error: unknown) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    } else callback(req, res);
  };

  const signIn = async (authorizationUrl: string, account: string): Promise<URL> => {
    const jar = cookieJar();
    let next = new URL(authorizationUrl);
    for (let hop = 0; hop < 8; hop++) {
      if (next.origin !== url) return next;
      if (next.pathname.startsWith('/interaction/')) next.searchParams.set('login', account);
      const response = await fetch(next, { redirect: 'manual', headers: { cookie: jar.header() } });
      jar.keep(response);
      const location = response.headers.get('location');
      if (!location) throw new Error(`the provider answered ${response.status}: ${await response.text()}`);
      next = new URL(location, next);
    }
    throw new Error('the provider kept redirecting');
  };

  return {
    issuer,
    url,
    clientId: 'lanes',
    clientSecret,
    accounts,
    signIn,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
