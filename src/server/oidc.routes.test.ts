import type { LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../../test/support/oidc-provider.js';
import { buildCharterIndex } from '../domain/charter.identity.js';
import { buildDemoCharter } from '../domain/demo/demo.charter.js';
import { OIDC_CALLBACK_PATH, type OidcSettings } from '../domain/oidc.js';
import type { ServiceContext } from '../services/context.js';
import { createOidcService } from '../services/oidc.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { createServer } from './server.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

const PUBLIC_URL = 'http://localhost:5263';
const charter = buildDemoCharter(42, new Date('2026-06-01T00:00:00Z'));
const chartered = charter.people.find((p) => p.email)!;

const cookieOf = (response: LightMyRequestResponse, name: string): string | undefined => {
  const header = response.headers['set-cookie'];
  const lines = Array.isArray(header) ? header : header ? [header] : [];
  const line = lines.find((l) => l.startsWith(`${name}=`));
  return line?.split(';')[0];
};

describe.each(testEngines())('sign-in with the identity provider on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  let idp: TestIdp;
  /** Why the server refused sign-ins (its log), to show each refusal comes from the intended check. */
  const refusals: string[] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { reason?: string };
        if (entry.reason) refusals.push(entry.reason);
      },
    },
  );
  const lastRefusal = () => refusals.at(-1) ?? '';

  /** A Lanes server on the shared database with these OIDC settings (and optionally another clock). */
  const lanes = (
    overrides: Partial<OidcSettings> = {},
    options: { clock?: () => Date; passwordLogin?: boolean } = {},
  ) => {
    const ctx: ServiceContext = {
      ...t.ctx,
      logger,
      clock: options.clock ?? t.ctx.clock,
      charter: () => ({ charter, index: buildCharterIndex(charter), path: 'lanes.yaml', loadedAt: '' }),
    };
    const settings: OidcSettings = {
      issuer: idp.issuer,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      name: 'Acme SSO',
      scopes: ['openid', 'email', 'profile', 'groups'],
      roleClaim: 'groups',
      groups: { admin: ['lanes-admins'], member: ['engineering'], stakeholder: [] },
      defaultRole: 'stakeholder',
      signup: true,
      emailVerifiedClaim: 'email_verified',
      emailDomains: [],
      ...overrides,
    };
    return createServer(ctx, {
      bodyLimit: 64 * 1024,
      version: 'test',
      publicUrl: PUBLIC_URL,
      signIn: { passwordLogin: options.passwordLogin ?? true, oidc: createOidcService(ctx, settings, PUBLIC_URL) },
    }).app;
  };

  /** What a browser does: start at Lanes, sign in at the provider, come back to the callback with the flow cookie. */
  const signIn = async (app: ReturnType<typeof lanes>, account: string, returnTo?: string) => {
    const start = await app.inject({
      method: 'GET',
      url: `/api/v1/auth/oidc/start${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`,
    });
    expect(start.statusCode).toBe(302);
    const flowCookie = cookieOf(start, 'lanes_oidc');
    const back = await idp.signIn(String(start.headers.location), account);
    expect(`${back.origin}${back.pathname}`).toBe(`${PUBLIC_URL}${OIDC_CALLBACK_PATH}`);
    const callback = await app.inject({
      method: 'GET',
      url: `${back.pathname}${back.search}`,
      headers: flowCookie ? { cookie: flowCookie } : {},
    });
    return { start, back, callback, flowCookie, session: cookieOf(callback, 'lanes_session') };
  };

  const whoAmI = (app: ReturnType<typeof lanes>, session: string | undefined) =>
    app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: session ?? '' } });

  beforeAll(async () => {
    database = await open();
    t = await buildTestServer(database);
    idp = await startTestIdp({
      redirectUris: [`${PUBLIC_URL}${OIDC_CALLBACK_PATH}`],
      postLogoutRedirectUris: [`${PUBLIC_URL}/login`],
    });
    idp.accounts.set('ana', {
      email: chartered.email!.toUpperCase(),
      email_verified: true,
      name: 'Ana at the IdP',
      groups: ['lanes-admins', 'everyone'],
    });
    idp.accounts.set('ben', { email: 'ben@acme.example', email_verified: true, name: 'Ben', groups: ['engineering'] });
    idp.accounts.set('eve', { email: 'eve@acme.example', email_verified: false, name: 'Eve', groups: ['engineering'] });
    idp.accounts.set('member', { email: 'member@acme.example', email_verified: true, groups: [] });
  });
  afterAll(async () => {
    await idp.close();
    await t.server.app.close();
    await database.close();
  });

  it('signs in with PKCE, state and nonce, into a session that works like a password one', async () => {
    const app = lanes();
    const methods = await app.inject({ method: 'GET', url: '/api/v1/auth/methods' });
    expect(methods.json()).toEqual({
      password: true,
      oidc: { name: 'Acme SSO', startUrl: '/api/v1/auth/oidc/start' },
    });
    const { start, callback, session } = await signIn(app, 'ana', '/items?team=payments');
    const authorize = new URL(String(start.headers.location));
    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${idp.url}/auth`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${PUBLIC_URL}${OIDC_CALLBACK_PATH}`);
    expect(String(cookieOf(start, 'lanes_oidc'))).toMatch(/^lanes_oidc=.+/);

    expect(callback.statusCode).toBe(302);
    expect(callback.headers.location).toBe('/items?team=payments');
    const me = await whoAmI(app, session);
    expect(me.statusCode).toBe(200);
    // Matched by e-mail (lower-cased), named as the charter names them, admin through the group.
    expect(me.json().user).toMatchObject({ email: chartered.email, name: chartered.name, role: 'admin' });
    // A cookie-authenticated write needs the CSRF token, exactly as after a password sign-in.
    const write = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie: session!, 'x-csrf-token': me.json().csrfToken },
      payload: { name: 'from sso' },
    });
    expect(write.statusCode).toBe(201);
    const audit = (await t.as('admin', { method: 'GET', url: '/api/v1/audit' })).json().entries;
    expect(audit).toContainEqual(
      expect.objectContaining({ actor: 'oidc', action: 'user.add', target: chartered.email }),
    );
  });

  it('takes the role from the groups at every sign-in and audits a change', async () => {
    const app = lanes();
    const first = await signIn(app, 'ben');
    expect((await whoAmI(app, first.session)).json().user).toMatchObject({ email: 'ben@acme.example', role: 'member' });
    idp.accounts.set('ben', { ...idp.accounts.get('ben')!, groups: ['engineering', 'lanes-admins'] });
    const second = await signIn(app, 'ben');
    expect((await whoAmI(app, second.session)).json().user.role).toBe('admin');
    idp.accounts.set('ben', { ...idp.accounts.get('ben')!, groups: [] });
    const third = await signIn(app, 'ben');
    expect((await whoAmI(app, third.session)).json().user.role).toBe('stakeholder');
    const audit = (await t.as('admin', { method: 'GET', url: '/api/v1/audit' })).json().entries;
    const changes = audit.filter(
      (e: { action: string; target: string }) => e.action === 'user.set_role' && e.target === 'ben@acme.example',
    );
    expect(changes.map((e: { details: { from: string; to: string } }) => `${e.details.from}>${e.details.to}`)).toEqual([
      'admin>stakeholder',
      'member>admin',
    ]);
    expect(changes[0].actor).toBe('oidc');
  });

  it('refuses a replayed state, and a callback from another browser', async () => {
    const app = lanes();
    const { back, flowCookie, session } = await signIn(app, 'ben');
    expect(session).toBeTruthy();
    const replay = await app.inject({
      method: 'GET',
      url: `${back.pathname}${back.search}`,
      headers: { cookie: flowCookie! },
    });
    expect(replay.statusCode).toBe(302);
    expect(replay.headers.location).toBe('/login?sso_error=LANES_OIDC_STATE');
    expect(lastRefusal()).toMatch(/already used/);
    expect(cookieOf(replay, 'lanes_session')).toBeUndefined();

    const start = await app.inject({ method: 'GET', url: '/api/v1/auth/oidc/start' });
    const elsewhere = await idp.signIn(String(start.headers.location), 'ben');
    const noCookie = await app.inject({ method: 'GET', url: `${elsewhere.pathname}${elsewhere.search}` });
    expect(noCookie.headers.location).toBe('/login?sso_error=LANES_OIDC_STATE');
    expect(lastRefusal()).toMatch(/another browser/);
    expect(cookieOf(noCookie, 'lanes_session')).toBeUndefined();
  });

  it('refuses a provider that names another issuer, and an answer that claims to come from another', async () => {
    const impostor = await startTestIdp({
      redirectUris: [`${PUBLIC_URL}${OIDC_CALLBACK_PATH}`],
      advertisedIssuer: () => idp.issuer,
    });
    try {
      const app = lanes({ issuer: impostor.url });
      const start = await app.inject({ method: 'GET', url: '/api/v1/auth/oidc/start' });
      expect(start.statusCode).toBe(302);
      expect(start.headers.location).toBe('/login?sso_error=LANES_OIDC_FAILED');
      expect(lastRefusal()).toMatch(/issuer does not match/);
    } finally {
      await impostor.close();
    }
    const app = lanes();
    const start = await app.inject({ method: 'GET', url: '/api/v1/auth/oidc/start' });
    const back = await idp.signIn(String(start.headers.location), 'ben');
    expect(back.searchParams.get('iss')).toBe(idp.issuer);
    back.searchParams.set('iss', 'http://127.0.0.1:1/evil');
    const mixedUp = await app.inject({
      method: 'GET',
      url: `${back.pathname}${back.search}`,
      headers: { cookie: cookieOf(start, 'lanes_oidc')! },
    });
    expect(mixedUp.headers.location).toBe('/login?sso_error=LANES_OIDC_FAILED');
    expect(lastRefusal()).toMatch(/"iss"/);
    expect(cookieOf(mixedUp, 'lanes_session')).toBeUndefined();
  });

  it('refuses an ID token that has expired by the time it arrives', async () => {
    const app = lanes({}, { clock: () => new Date(Date.now() + 2 * 3_600_000) });
    const { callback, session } = await signIn(app, 'ben');
    expect(callback.headers.location).toBe('/login?sso_error=LANES_OIDC_FAILED');
    expect(lastRefusal()).toMatch(/"exp" \(expiration time\)/);
    expect(session).toBeUndefined();
  });

  it('refuses an e-mail the provider has not verified', async () => {
    const { callback, session } = await signIn(lanes(), 'eve');
    expect(callback.headers.location).toBe('/login?sso_error=LANES_OIDC_EMAIL_UNVERIFIED');
    expect(lastRefusal()).toMatch(/not verified/);
    expect(session).toBeUndefined();
    const users = (await t.as('admin', { method: 'GET', url: '/api/v1/users' })).json().users;
    expect(users.map((u: { email: string }) => u.email)).not.toContain('eve@acme.example');
  });

  it('with sign-up off, lets in only people who already have a Lanes account', async () => {
    const app = lanes({ signup: false, groups: { admin: [], member: [], stakeholder: [] } });
    idp.accounts.set('zoe', { email: 'zoe@acme.example', email_verified: true, groups: ['lanes-admins'] });
    const stranger = await signIn(app, 'zoe');
    expect(stranger.callback.headers.location).toBe('/login?sso_error=LANES_OIDC_NO_ACCOUNT');
    expect(stranger.session).toBeUndefined();
    // An account made with `lanes user add` signs in, and keeps its role when no groups are mapped.
    const known = await signIn(app, 'member');
    expect((await whoAmI(app, known.session)).json().user).toMatchObject({
      email: 'member@acme.example',
      role: 'member',
    });
  });

  it('turns off passwords while API tokens keep working', async () => {
    const app = lanes({}, { passwordLogin: false });
    const methods = (await app.inject({ method: 'GET', url: '/api/v1/auth/methods' })).json();
    expect(methods.password).toBe(false);
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'admin@acme.example', password: t.passwords.admin },
    });
    expect(login.statusCode).toBe(403);
    expect(login.json().error.code).toBe('LANES_PASSWORD_LOGIN_DISABLED');
    expect(cookieOf(login, 'lanes_session')).toBeUndefined();
    const withToken = await app.inject({
      method: 'GET',
      url: '/api/v1/users',
      headers: { authorization: `Bearer ${t.tokens.admin}` },
    });
    expect(withToken.statusCode).toBe(200);
  });

  it("signs out of the provider too: the logout answers with the provider's end-session URL", async () => {
    const app = lanes();
    const { session } = await signIn(app, 'ben');
    const csrf = (await whoAmI(app, session)).json().csrfToken;
    const logout = await app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie: session!, 'x-csrf-token': csrf },
    });
    expect(logout.statusCode).toBe(200);
    const end = new URL(logout.json().endSessionUrl);
    expect(`${end.origin}${end.pathname}`).toBe(`${idp.url}/session/end`);
    expect(end.searchParams.get('id_token_hint')).toMatch(/^ey/);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${PUBLIC_URL}/login`);
    expect((await fetch(end)).status).toBe(200);
    expect((await whoAmI(app, session)).statusCode).toBe(401);
    // A password session signs out with a plain 204.
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'stakeholder@acme.example', password: t.passwords.stakeholder },
    });
    const plain = await app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie: cookieOf(login, 'lanes_session')!, 'x-csrf-token': login.json().csrfToken },
    });
    expect(plain.statusCode).toBe(204);
  });

  it('returns only to paths inside Lanes', async () => {
    const app = lanes();
    for (const evil of ['https://evil.example/', '//evil.example/x', '/\\evil.example', '/login?next=/']) {
      const { callback } = await signIn(app, 'ben', evil);
      expect(callback.headers.location, evil).toBe('/');
    }
  });

  it('says so when the provider cannot be reached, and tries discovery again next time', async () => {
    const app = lanes({ issuer: 'http://127.0.0.1:9/realms/gone' });
    for (let i = 0; i < 2; i++) {
      const start = await app.inject({ method: 'GET', url: '/api/v1/auth/oidc/start' });
      expect(start.headers.location).toBe('/login?sso_error=LANES_UPSTREAM_FAILED');
      expect(lastRefusal()).toMatch(/could not be reached/);
    }
  });

  it('limits how many sign-ins one client address may start', async () => {
    const app = lanes();
    const start = () => app.inject({ method: 'GET', url: '/api/v1/auth/oidc/start', remoteAddress: '192.0.2.77' });
    for (let i = 0; i < 100; i++)
      expect((await start()).headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/auth\?/);
    expect((await start()).headers.location).toBe('/login?sso_error=LANES_RATE_LIMITED');
    const elsewhere = await app.inject({ method: 'GET', url: '/api/v1/auth/oidc/start', remoteAddress: '192.0.2.78' });
    expect(elsewhere.headers.location).toMatch(/\/auth\?/);
  });

  it('says when no identity provider is configured', async () => {
    const methods = await t.server.app.inject({ method: 'GET', url: '/api/v1/auth/methods' });
    expect(methods.json()).toEqual({ password: true, oidc: null });
    const start = await t.server.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/start' });
    expect(start.statusCode).toBe(404);
    expect(start.json().error.code).toBe('LANES_OIDC_NOT_CONFIGURED');
  });
});
