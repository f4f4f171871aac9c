import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRole } from '../domain/access.js';
import { addUser, createToken, findUserByEmail, setUserRole } from '../services/access.service.js';
import type { Database } from '../store/database.js';
import { testEngines } from '../store/engines.test-helper.js';
import { scopeOf } from './route.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

const CLI = { kind: 'cli' } as const;

const event = (source: string, id: string, key = 'OPS-1') => ({
  source,
  sourceEventId: id,
  occurredAt: '2026-05-01T00:00:00Z',
  item: { key, kind: 'bug', title: 'Pager storm' },
  change: { kind: 'created' },
});

describe.each(testEngines())('API token scopes on $engine', ({ open }) => {
  let database: Database;
  let t: TestServer;
  /** Makes a token for one of the test users with the given scopes and returns its bearer header. */
  const tokenFor = async (role: UserRole, scopes?: string[]) => {
    const user = (await findUserByEmail(t.ctx, `${role}@acme.example`))!;
    const created = await createToken(t.ctx, CLI, user, `${role} ${scopes?.join(' ') ?? 'default'}`, { scopes });
    return { authorization: `Bearer ${created.secret}`, id: created.token.id };
  };
  const call = (
    headers: { authorization: string },
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
  ) =>
    t.server.app.inject({ method, url, headers: { authorization: headers.authorization }, payload: payload as object });

  beforeAll(async () => {
    database = await open();
    t = await buildTestServer(database);
  });
  afterAll(async () => {
    await t.server.app.close();
    await database.close();
  });

  it('derives what each route needs from its method and access, with events:write on the events route', () => {
    const needs = Object.fromEntries(t.server.routes.map((r) => [`${r.method} ${r.url}`, scopeOf(r)]));
    expect(needs).toMatchObject({
      'GET /api/v1/items': 'read',
      'POST /api/v1/events': 'events:write',
      'POST /api/v1/portal/items/:key/share': 'write',
      'GET /api/v1/users': 'admin',
      'POST /api/v1/boundaries/recompute': 'admin',
    });
  });

  it('refuses on every route of the table a token lacking the scope that route needs', async () => {
    const readOnly = await tokenFor('admin', ['read']);
    const deploysOnly = await tokenFor('admin', ['events:write:deploys']);
    const sample = (url: string) =>
      url.replace(':key', 'PAY-1').replace(':email', 'member@acme.example').replace(':id', '000000000000');
    const guarded = t.server.routes.filter((r) => r.access !== 'public');
    expect(guarded.length).toBeGreaterThan(30);
    for (const r of guarded) {
      const needs = scopeOf(r);
      const res = await t.server.app.inject({
        method: r.method,
        url: sample(r.url),
        headers: { authorization: (needs === 'events:write' ? readOnly : deploysOnly).authorization },
        payload: r.method === 'GET' || r.method === 'DELETE' ? undefined : {},
      });
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(403);
      expect(res.json().error.details, `${r.method} ${r.url}`).toMatchObject({ missingScope: needs });
    }
  });

  it('lets a read-only token read but not post events, naming the missing scope', async () => {
    const reader = await tokenFor('member', ['read']);
    expect((await call(reader, 'GET', '/api/v1/items')).statusCode).toBe(200);
    const post = await call(reader, 'POST', '/api/v1/events', { events: [event('deploys', 'd-1')] });
    expect(post.statusCode).toBe(403);
    expect(post.json().error).toMatchObject({ code: 'LANES_FORBIDDEN', details: { missingScope: 'events:write' } });
    expect(post.json().error.message).toContain('events:write');
    // Writes other than events need `write`.
    const share = await call(reader, 'POST', '/api/v1/portal/items/OPS-1/share');
    expect(share.json().error).toMatchObject({ code: 'LANES_FORBIDDEN', details: { missingScope: 'write' } });
  });

  it('limits an events:write:deploys token to that source, rejecting the whole batch with the offender', async () => {
    const deploys = await tokenFor('member', ['events:write:deploys']);
    const ok = await call(deploys, 'POST', '/api/v1/events', { events: [event('deploys', 'd-2', 'OPS-2')] });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ stored: 1 });
    const mixed = await call(deploys, 'POST', '/api/v1/events', {
      events: [event('deploys', 'd-3', 'OPS-3'), event('pagerduty', 'p-1', 'OPS-3')],
    });
    expect(mixed.statusCode).toBe(403);
    expect(mixed.json().error).toMatchObject({
      code: 'LANES_FORBIDDEN',
      details: {
        missingScope: 'events:write:pagerduty',
        rejections: [{ index: 1, code: 'LANES_FORBIDDEN', path: ['source'] }],
      },
    });
    // Nothing of the refused batch was stored, and this token cannot read.
    expect((await t.as('member', { method: 'GET', url: '/api/v1/items/OPS-3' })).statusCode).toBe(404);
    const read = await call(deploys, 'GET', '/api/v1/items/OPS-2');
    expect(read.json().error).toMatchObject({ code: 'LANES_FORBIDDEN', details: { missingScope: 'read' } });
  });

  it("needs the admin scope on admin routes, even for an admin's token", async () => {
    const plain = await tokenFor('admin', ['read', 'write']);
    for (const url of ['/api/v1/users', '/api/v1/audit']) {
      const res = await call(plain, 'GET', url);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error.details).toMatchObject({ missingScope: 'admin' });
    }
    expect((await t.as('admin', { method: 'GET', url: '/api/v1/users' })).statusCode).toBe(200);
  });

  it('creates tokens with validated scopes within the role, defaulting to what the role may do', async () => {
    const create = (role: UserRole, body: object) =>
      t.as(role, { method: 'POST', url: '/api/v1/tokens', payload: { name: 'made by test', ...body } });
    expect((await create('member', {})).json().token.scopes).toEqual(['events:write', 'read', 'write']);
    expect((await create('admin', {})).json().token.scopes).toEqual(['admin', 'events:write', 'read', 'write']);
    expect((await create('member', { scopes: ['read', 'events:write:deploys'] })).json().token.scopes).toEqual([
      'events:write:deploys',
      'read',
    ]);
    // Stakeholders may make their own tokens, never beyond their role.
    const own = await create('stakeholder', { scopes: ['read'] });
    expect(own.statusCode).toBe(201);
    expect(own.json().token.scopes).toEqual(['read']);
    expect((await create('stakeholder', {})).json().token.scopes).toEqual(['read', 'write']);
    const beyond = await create('stakeholder', { scopes: ['events:write'] });
    expect(beyond.statusCode).toBe(403);
    expect((await create('member', { scopes: ['admin'] })).json().error.code).toBe('LANES_FORBIDDEN');
    expect((await create('member', { scopes: ['root'] })).json().error.code).toBe('LANES_VALIDATION');
    expect((await create('member', { scopes: ['events:write:Bad Source'] })).statusCode).toBe(400);
    expect((await create('member', { scopes: [] })).statusCode).toBe(400);
    const connector = await create('member', { scopes: ['events:write:github'] });
    expect(connector.statusCode).toBe(403);
    expect(connector.json().error.code).toBe('LANES_SOURCE_RESERVED');
  });

  it('never lets a token create a token with more than it holds', async () => {
    const writer = await tokenFor('member', ['read', 'write']);
    const wider = await call(writer, 'POST', '/api/v1/tokens', { name: 'wider', scopes: ['events:write'] });
    expect(wider.statusCode).toBe(403);
    const defaulted = await call(writer, 'POST', '/api/v1/tokens', { name: 'default' });
    expect(defaulted.statusCode).toBe(403);
    const same = await call(writer, 'POST', '/api/v1/tokens', { name: 'same', scopes: ['read'] });
    expect(same.statusCode).toBe(201);
  });

  it("checks scopes against the user's role at each use: a demoted user's token loses power", async () => {
    await addUser(t.ctx, CLI, {
      email: 'lee@acme.example',
      name: 'Lee',
      role: 'admin',
      password: 'long-enough-password',
    });
    const lee = (await findUserByEmail(t.ctx, 'lee@acme.example'))!;
    const created = await createToken(t.ctx, CLI, lee, 'lee admin');
    const bearer = { authorization: `Bearer ${created.secret}` };
    expect((await call(bearer, 'GET', '/api/v1/users')).statusCode).toBe(200);
    await setUserRole(t.ctx, CLI, 'lee@acme.example', 'member');
    expect((await call(bearer, 'GET', '/api/v1/users')).statusCode).toBe(403);
    await setUserRole(t.ctx, CLI, 'lee@acme.example', 'stakeholder');
    const post = await call(bearer, 'POST', '/api/v1/events', { events: [event('deploys', 'lee-1', 'OPS-9')] });
    expect(post.statusCode).toBe(403);
    // The stored grant is unchanged; what is in force is bounded by the role.
    const listed = (await call(bearer, 'GET', '/api/v1/tokens')).json().tokens;
    expect(listed[0].scopes).toEqual(['admin', 'events:write', 'read', 'write']);
  });

  it('lets stakeholders revoke their own tokens; anyone else’s answers 404 exactly like a missing one', async () => {
    const mine = await tokenFor('stakeholder', ['read', 'write']);
    const members = await tokenFor('member');
    const missing = await t.as('stakeholder', { method: 'DELETE', url: '/api/v1/tokens/0123456789ab' });
    const others = await t.as('stakeholder', { method: 'DELETE', url: `/api/v1/tokens/${members.id}` });
    expect(others.statusCode).toBe(404);
    expect({ ...others.json().error, details: undefined, message: undefined }).toEqual({
      ...missing.json().error,
      details: undefined,
      message: undefined,
    });
    expect(others.json().error.message).toBe(`no token ${members.id}`);
    // The member's token still works; a member cannot tell an admin's token from a missing one either.
    expect((await call(members, 'GET', '/api/v1/items')).statusCode).toBe(200);
    const admins = await tokenFor('admin');
    expect((await t.as('member', { method: 'DELETE', url: `/api/v1/tokens/${admins.id}` })).statusCode).toBe(404);
    // The stakeholder revokes their own, with the token itself.
    expect((await call(mine, 'DELETE', `/api/v1/tokens/${mine.id}`)).statusCode).toBe(204);
    expect((await call(mine, 'GET', '/api/v1/tokens')).statusCode).toBe(401);
    // Admins revoke any token.
    expect((await t.as('admin', { method: 'DELETE', url: `/api/v1/tokens/${members.id}` })).statusCode).toBe(204);
  });

  it('shows a stakeholder only their own share links of an item; members see every link', async () => {
    await t.as('member', {
      method: 'POST',
      url: '/api/v1/events',
      payload: { events: [event('ops', 's-1', 'OPS-50')] },
    });
    await addUser(t.ctx, CLI, {
      email: 'kim@acme.example',
      name: 'Kim',
      role: 'stakeholder',
      password: 'long-enough-password',
    });
    const kim = await createToken(t.ctx, CLI, (await findUserByEmail(t.ctx, 'kim@acme.example'))!, 'kim');
    const asKim = { authorization: `Bearer ${kim.secret}` };
    const mine = (await t.as('stakeholder', { method: 'POST', url: '/api/v1/portal/items/OPS-50/share' })).json();
    const kims = (await call(asKim, 'POST', '/api/v1/portal/items/OPS-50/share')).json();
    const ids = async (headers: { authorization: string }) =>
      (await call(headers, 'GET', '/api/v1/portal/items/OPS-50/shares')).json().links.map((l: { id: string }) => l.id);
    expect(await ids(asKim)).toEqual([kims.id]);
    expect(await ids({ authorization: `Bearer ${t.tokens.stakeholder}` })).toEqual([mine.id]);
    expect((await ids({ authorization: `Bearer ${t.tokens.member}` })).sort()).toEqual([mine.id, kims.id].sort());
    // Kim cannot revoke the other stakeholder's link, nor tell it from a missing one; a member can.
    const theirs = await call(asKim, 'DELETE', `/api/v1/portal/shares/${mine.id}`);
    expect(theirs.statusCode).toBe(404);
    expect(theirs.json().error.code).toBe('LANES_NOT_FOUND');
    expect((await call(asKim, 'DELETE', `/api/v1/portal/shares/${kims.id}`)).statusCode).toBe(200);
    expect((await t.as('member', { method: 'DELETE', url: `/api/v1/portal/shares/${mine.id}` })).statusCode).toBe(200);
  });
});
