import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

const sample = (url: string): string =>
  url.replace(':key', 'PAY-1').replace(':email', 'member@acme.example').replace(':id', '000000000000');

describe.each(testEngines())('access control on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  beforeAll(async () => {
    database = await open();
    t = await buildTestServer(database);
  });
  afterAll(async () => {
    await t.server.app.close();
    await database.close();
  });

  it('refuses every non-public route to anonymous callers, and admin routes to stakeholders and members', async () => {
    const routes = t.server.routes;
    expect(routes.length).toBeGreaterThan(15);
    const publicRoutes = routes.filter((r) => r.access === 'public').map((r) => `${r.method} ${r.url}`);
    expect(publicRoutes.sort()).toEqual([
      'GET /api/v1/auth/methods',
      'GET /api/v1/auth/oidc/callback',
      'GET /api/v1/auth/oidc/start',
      'GET /api/v1/public/share/:token',
      'GET /confirm-subscription',
      'GET /feeds/:file',
      'GET /healthz',
      'GET /readyz',
      'GET /unsubscribe',
      'POST /api/v1/session',
      'POST /confirm-subscription',
      'POST /unsubscribe',
    ]);
    for (const r of routes) {
      const request = {
        method: r.method,
        url: sample(r.url),
        payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : {},
      };
      if (r.access !== 'public') {
        const anonymous = await t.as('anonymous', request);
        expect(anonymous.statusCode, `${r.method} ${r.url} anonymous`).toBe(401);
        expect(anonymous.json().error.code).toBe('LANES_UNAUTHENTICATED');
      }
      if (r.access === 'member' || r.access === 'admin') {
        const stakeholder = await t.as('stakeholder', request);
        expect(stakeholder.statusCode, `${r.method} ${r.url} stakeholder`).toBe(403);
        expect(stakeholder.json().error.code).toBe('LANES_FORBIDDEN');
      }
      if (r.access === 'admin') {
        expect((await t.as('member', request)).statusCode, `${r.method} ${r.url} member`).toBe(403);
      }
    }
  });

  it('signs in with a cookie session, demands the CSRF token on writes, and signs out', async () => {
    const app = t.server.app;
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'admin@acme.example', password: 'nope' },
    });
    expect(wrong.statusCode).toBe(401);
    const login = await app.inject({
      method: 'POST',
      url: '/api/v1/session',
      payload: { email: 'Admin@Acme.example', password: t.passwords.admin },
    });
    expect(login.statusCode).toBe(200);
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/lanes_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=43200/);
    expect(setCookie).not.toMatch(/Secure/);
    const cookie = setCookie.split(';')[0]!;
    const { csrfToken, user } = login.json();
    expect(user).toMatchObject({ email: 'admin@acme.example', role: 'admin' });

    expect((await app.inject({ method: 'GET', url: '/api/v1/users', headers: { cookie } })).statusCode).toBe(200);
    const noCsrf = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie },
      payload: { name: 'ci' },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().error.code).toBe('LANES_CSRF');
    const withCsrf = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: { cookie, 'x-csrf-token': csrfToken },
      payload: { name: 'ci' },
    });
    expect(withCsrf.statusCode).toBe(201);
    const { secret, token } = withCsrf.json();
    expect(secret).toMatch(/^lanes_[0-9a-f]{12}_/);

    // The new token works, records its last use, and stops working once revoked.
    const bearer = { authorization: `Bearer ${secret}` };
    expect((await app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer })).statusCode).toBe(200);
    const listed = (await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: bearer })).json().tokens;
    expect(listed.find((x: { id: string }) => x.id === token.id)).toMatchObject({
      lastUsedAt: '2026-06-01T00:00:00.000Z',
    });
    expect(JSON.stringify(listed)).not.toContain(secret.slice('lanes_'.length + 13)); // the secret part, which may itself contain _
    const revoke = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${token.id}`,
      headers: { cookie, 'x-csrf-token': csrfToken },
    });
    expect(revoke.statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer })).statusCode).toBe(401);

    const audit = (await app.inject({ method: 'GET', url: '/api/v1/audit', headers: { cookie } })).json().entries;
    expect(audit.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['token.create', 'token.revoke', 'user.add']),
    );

    const logout = await app.inject({
      method: 'DELETE',
      url: '/api/v1/session',
      headers: { cookie, 'x-csrf-token': csrfToken },
    });
    expect(logout.statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } })).statusCode).toBe(401);
  });

  it('rate-limits sign-in attempts', async () => {
    const attempt = () =>
      t.server.app.inject({
        method: 'POST',
        url: '/api/v1/session',
        payload: { email: 'member@acme.example', password: 'guess' },
      });
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await attempt()).statusCode);
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
    expect(codes.slice(10)).toEqual([429, 429]);
  });

  it('admins manage users; changes land in the audit log; rejected requests change nothing', async () => {
    const add = await t.as('admin', {
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'sam@acme.example', name: 'Sam', role: 'stakeholder', password: 'long-enough-password' },
    });
    expect(add.statusCode).toBe(201);
    const dup = await t.as('admin', {
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'sam@acme.example', name: 'Sam', role: 'stakeholder', password: 'long-enough-password' },
    });
    expect(dup.json().error.code).toBe('LANES_CONFLICT');
    const extra = await t.as('admin', {
      method: 'POST',
      url: '/api/v1/users',
      payload: { email: 'x@acme.example', name: 'X', role: 'admin', password: 'long-enough-password', isRoot: true },
    });
    expect(extra.json().error.code).toBe('LANES_VALIDATION');
    const role = await t.as('admin', {
      method: 'PATCH',
      url: '/api/v1/users/sam@acme.example',
      payload: { role: 'member' },
    });
    expect(role.json()).toMatchObject({ role: 'member' });
    const users = (await t.as('admin', { method: 'GET', url: '/api/v1/users' })).json().users;
    expect(users.map((u: { email: string }) => u.email)).not.toContain('x@acme.example');
    const audit = (await t.as('admin', { method: 'GET', url: '/api/v1/audit' })).json().entries;
    expect(audit[0]).toMatchObject({
      action: 'user.set_role',
      target: 'sam@acme.example',
      details: { from: 'stakeholder', to: 'member' },
    });
  });

  it('publishes an OpenAPI 3.1 document that real responses conform to', async () => {
    const doc = (await t.as('stakeholder', { method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/items', '/api/v1/items/{key}', '/api/v1/events']),
    );
    const ajv = new Ajv2020({ strict: false });
    const check = async (path: string, url: string, status = 200) => {
      const res = await t.as('admin', { method: 'GET', url });
      expect(res.statusCode).toBe(status);
      const schema = doc.paths[path].get.responses[String(status)].content['application/json'].schema;
      const valid = ajv.validate(schema, res.json());
      expect(valid, JSON.stringify(ajv.errors)).toBe(true);
    };
    await t.as('member', {
      method: 'POST',
      url: '/api/v1/events',
      payload: {
        events: [
          {
            source: 'native',
            sourceEventId: '1',
            occurredAt: '2026-05-01T00:00:00Z',
            item: { key: 'PAY-1', kind: 'bug', title: 'x' },
            change: { kind: 'created' },
          },
        ],
      },
    });
    await check('/api/v1/items', '/api/v1/items');
    await check('/api/v1/items/{key}', '/api/v1/items/PAY-1');
    await check('/api/v1/items/{key}', '/api/v1/items/NOPE', 404);
    await check('/api/v1/users', '/api/v1/users');
    await check('/api/v1/overview', '/api/v1/overview');
  });
});
