import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { readTrustProxy } from './config.sign-in.js';

const load = (env: Record<string, string>) => loadConfig(env, '/tmp');

describe('sign-in configuration', () => {
  it('has passwords on and no identity provider by default', () => {
    expect(load({}).signIn).toEqual({ passwordLogin: true });
    expect(load({}).trustProxy).toBe(false);
  });

  it('reads the identity provider, its secret and its role mapping', () => {
    const { signIn } = load({
      LANES_OIDC_ISSUER: 'https://sso.acme.example/realms/acme',
      LANES_OIDC_CLIENT_ID: 'lanes',
      LANES_OIDC_CLIENT_SECRET: 's3cret',
      LANES_OIDC_NAME: 'Acme SSO',
      LANES_OIDC_SCOPES: 'email profile groups',
      LANES_OIDC_ADMIN_GROUPS: 'lanes-admins, platform',
      LANES_OIDC_DEFAULT_ROLE: 'none',
      LANES_OIDC_SIGNUP: 'true',
      LANES_OIDC_EMAIL_DOMAINS: '@Acme.example',
      LANES_PASSWORD_LOGIN: 'false',
    });
    expect(signIn).toMatchObject({
      passwordLogin: false,
      oidc: {
        issuer: 'https://sso.acme.example/realms/acme',
        clientSecret: 's3cret',
        name: 'Acme SSO',
        scopes: ['openid', 'email', 'profile', 'groups'],
        roleClaim: 'groups',
        groups: { admin: ['lanes-admins', 'platform'], member: [], stakeholder: [] },
        defaultRole: 'none',
        signup: true,
        emailVerifiedClaim: 'email_verified',
        emailDomains: ['acme.example'],
      },
    });
  });

  it('refuses settings that cannot work, with the variable to fix', () => {
    expect(() => load({ LANES_PASSWORD_LOGIN: 'false' })).toThrow(/needs LANES_OIDC_ISSUER/);
    expect(() => load({ LANES_OIDC_CLIENT_ID: 'lanes' })).toThrow(/set LANES_OIDC_ISSUER too/);
    expect(() => load({ LANES_OIDC_ISSUER: 'https://sso.acme.example' })).toThrow(/LANES_OIDC_CLIENT_ID/);
    expect(() => load({ LANES_OIDC_ISSUER: 'ftp://x', LANES_OIDC_CLIENT_ID: 'x' })).toThrow(/LANES_OIDC_ISSUER/);
    expect(() => load({ LANES_PASSWORD_LOGIN: 'maybe' })).toThrow(/LANES_PASSWORD_LOGIN must be true or false/);
  });

  it('reads LANES_TRUST_PROXY as Fastify takes it', () => {
    expect(readTrustProxy(undefined)).toBe(false);
    expect(readTrustProxy('false')).toBe(false);
    expect(readTrustProxy('true')).toBe(true);
    expect(readTrustProxy('10.0.0.0/8, 127.0.0.1 ,::1, loopback')).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
      'loopback',
    ]);
    expect(() => readTrustProxy('2')).toThrow(/hop count/);
    expect(() => readTrustProxy('10.0.0.0/33')).toThrow(/10.0.0.0\/33/);
    expect(() => readTrustProxy('proxy.internal')).toThrow(/proxy.internal/);
  });
});
