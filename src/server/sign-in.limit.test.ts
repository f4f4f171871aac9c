import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase, type Database } from '../store/database.js';
import { createServer, type LanesServer } from './server.js';
import { buildTestServer, type TestServer } from './server.test-helper.js';

/** Two handles on one database, as two Lanes instances behind a load balancer would have. */
const sharedDatabases = (): { engine: string; open: () => Promise<[Database, Database, () => void]> }[] => {
  const engines = [
    {
      engine: 'sqlite',
      open: async (): Promise<[Database, Database, () => void]> => {
        const dir = mkdtempSync(join(tmpdir(), 'lanes-limit-'));
        const url = join(dir, 'lanes.db');
        return [await openDatabase({ url }), await openDatabase({ url }), () => rmSync(dir, { recursive: true })];
      },
    },
  ];
  const pgUrl = inject('pgUrl');
  if (pgUrl) {
    engines.push({
      engine: 'postgres',
      open: async () => {
        const pgSchema = `t_${randomBytes(6).toString('hex')}`;
        const first = await openDatabase({ url: pgUrl, pgSchema, poolSize: 4 });
        return [first, await openDatabase({ url: pgUrl, pgSchema, poolSize: 4 }), () => undefined];
      },
    });
  }
  return engines;
};

const login = (server: LanesServer, email: string, password: string, extra: Partial<InjectOptions> = {}) =>
  server.app.inject({ method: 'POST', url: '/api/v1/session', payload: { email, password }, ...extra });

const cookieLine = (response: LightMyRequestResponse): string => String(response.headers['set-cookie'] ?? '');

describe.each(sharedDatabases())('the sign-in limit on $engine', ({ open }) => {
  let first: Database;
  let second: Database;
  let cleanup: () => void;
  let t: TestServer;
  let other: LanesServer;
  const servers: LanesServer[] = [];
  const serverWith = (options: Parameters<typeof createServer>[1] extends infer O ? Partial<O> : never) => {
    const server = createServer({ ...t.ctx, database: second }, { bodyLimit: 64 * 1024, version: 'test', ...options });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    [first, second, cleanup] = await open();
    t = await buildTestServer(first);
    other = serverWith({});
  });
  afterAll(async () => {
    for (const server of [t.server, ...servers]) await server.app.close();
    await first.close();
    await second.close();
    cleanup();
  });

  it('adds up the attempts made on two instances, and answers 429 with Retry-After', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 10; i++)
      codes.push((await login(i % 2 ? other : t.server, 'member@acme.example', 'guess')).statusCode);
    expect(codes).toEqual(Array(10).fill(401));
    const limited = await login(other, 'member@acme.example', 'guess');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('LANES_RATE_LIMITED');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // Even the right password waits now, on either instance.
    expect((await login(t.server, 'member@acme.example', t.passwords.member)).statusCode).toBe(429);
  });

  it('counts parallel attempts on both instances exactly once each', async () => {
    const attempts = Array.from({ length: 16 }, (_, i) =>
      login(i % 2 ? other : t.server, 'stakeholder@acme.example', `guess-${i}`),
    );
    const codes = (await Promise.all(attempts)).map((r) => r.statusCode).sort();
    expect(codes.filter((c) => c === 401)).toHaveLength(10);
    expect(codes.filter((c) => c === 429)).toHaveLength(6);
  });

  it('without a trusted proxy, ignores X-Forwarded-*: one limit for everyone behind it, no Secure cookie', async () => {
    const plain = serverWith({});
    for (let i = 0; i < 10; i++) {
      await login(plain, 'nobody-1@acme.example', 'guess', { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
    }
    const another = await login(plain, 'nobody-1@acme.example', 'guess', {
      headers: { 'x-forwarded-for': '198.51.100.1' },
    });
    expect(another.statusCode).toBe(429);
    const ok = await login(plain, 'admin@acme.example', t.passwords.admin, {
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(ok.statusCode).toBe(200);
    expect(cookieLine(ok)).toMatch(/^lanes_session=/);
    expect(cookieLine(ok)).not.toMatch(/Secure/);
  });

  it('behind a trusted proxy, limits each client address and marks the cookie Secure over TLS', async () => {
    const proxied = serverWith({ trustProxy: ['127.0.0.1'] });
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address, 'x-forwarded-proto': 'https' } });
    for (let i = 0; i < 10; i++) await login(proxied, 'nobody-2@acme.example', 'guess', from('203.0.113.7'));
    expect((await login(proxied, 'nobody-2@acme.example', 'guess', from('203.0.113.7'))).statusCode).toBe(429);
    expect((await login(proxied, 'nobody-2@acme.example', 'guess', from('203.0.113.8'))).statusCode).toBe(401);
    const ok = await login(proxied, 'admin@acme.example', t.passwords.admin, from('203.0.113.9'));
    expect(ok.statusCode).toBe(200);
    expect(cookieLine(ok)).toMatch(/^lanes_session=[^;]+;.*; Secure$/);
    // A peer that is not the proxy cannot claim TLS or another address.
    const direct = await login(proxied, 'admin@acme.example', t.passwords.admin, {
      ...from('203.0.113.9'),
      remoteAddress: '192.0.2.50',
    });
    expect(direct.statusCode).toBe(200);
    expect(cookieLine(direct)).not.toMatch(/Secure/);
  });
});
