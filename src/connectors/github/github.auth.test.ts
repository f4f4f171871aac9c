import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { githubAuthorization } from './github.auth.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

interface Claims {
  iat: number;
  exp: number;
  iss: string;
}

/** Checks a JWT as GitHub does: RS256 over header.payload with the app's public key. */
const verifyJwt = (jwt: string, key: KeyObject): Claims | null => {
  const [header, payload, signature] = jwt.split('.');
  if (!header || !payload || !signature) return null;
  const ok = verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url'));
  if (!ok) return null;
  if (JSON.parse(Buffer.from(header, 'base64url').toString()).alg !== 'RS256') return null;
  return JSON.parse(Buffer.from(payload, 'base64url').toString()) as Claims;
};

describe('githubAuthorization', () => {
  let server: Server;
  let baseUrl: string;
  let clock: number;
  const exchanges: { url: string; claims: Claims | null }[] = [];
  let answer: (claims: Claims | null) => { status: number; body: unknown };

  beforeEach(async () => {
    exchanges.length = 0;
    clock = Date.parse('2026-05-01T12:00:00Z');
    answer = (claims) =>
      claims
        ? {
            status: 201,
            body: { token: `ghs_${exchanges.length}`, expires_at: new Date(clock + 3_600_000).toISOString() },
          }
        : { status: 401, body: { message: 'A JSON web token could not be decoded' } };
    server = createServer((req: IncomingMessage, res) => {
      const jwt = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const claims = req.method === 'POST' ? verifyJwt(jwt, publicKey) : null;
      exchanges.push({ url: req.url!, claims });
      const { status, body } = answer(claims);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v3`;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const now = () => clock;

  it('sends a token as a Bearer header without asking anyone', async () => {
    const authorization = githubAuthorization({ token: 'ghp_abc' }, baseUrl);
    expect(await authorization()).toBe('Bearer ghp_abc');
    expect(exchanges).toEqual([]);
  });

  it('exchanges a signed app JWT for an installation token and keeps it until 5 minutes before expiry', async () => {
    const authorization = githubAuthorization(
      { appId: '12345', privateKey: PEM, installationId: '678' },
      `${baseUrl}/`,
      fetch,
      now,
    );
    const [a, b] = await Promise.all([authorization(), authorization()]);
    expect(a).toBe('Bearer ghs_1');
    expect(b).toBe('Bearer ghs_1');
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]!.url).toBe('/api/v3/app/installations/678/access_tokens');
    const claims = exchanges[0]!.claims!;
    const seconds = Math.floor(clock / 1000);
    expect(claims).toEqual({ iss: '12345', iat: seconds - 60, exp: seconds + 540 });

    clock += 54 * 60_000;
    expect(await authorization()).toBe('Bearer ghs_1');
    expect(exchanges).toHaveLength(1);

    clock += 2 * 60_000; // 4 minutes before expiry
    expect(await authorization()).toBe('Bearer ghs_2');
    expect(exchanges).toHaveLength(2);
  });

  it('reads a key pasted with literal \\n', async () => {
    const authorization = githubAuthorization(
      { appId: '1', privateKey: PEM.replace(/\n/g, '\\n'), installationId: '2' },
      baseUrl,
      fetch,
      now,
    );
    expect(await authorization()).toBe('Bearer ghs_1');
  });

  it('a JWT signed with another key is refused, and Lanes says so', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const authorization = githubAuthorization(
      { appId: '1', privateKey: other.toString(), installationId: '2' },
      baseUrl,
      fetch,
      now,
    );
    await expect(authorization()).rejects.toMatchObject({
      code: 'LANES_UPSTREAM_FAILED',
      message: expect.stringContaining('401'),
    });
    // A failed exchange is not cached: the next call tries again.
    await expect(authorization()).rejects.toMatchObject({ code: 'LANES_UPSTREAM_FAILED' });
    expect(exchanges).toHaveLength(2);
  });

  it('an unreadable private key is a configuration error', () => {
    expect(() => githubAuthorization({ appId: '1', privateKey: 'not a key', installationId: '2' }, baseUrl)).toThrow(
      expect.objectContaining({ code: 'LANES_CONNECTOR_NOT_CONFIGURED' }),
    );
  });
});
