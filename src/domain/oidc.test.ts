import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claimAt, roleFromClaims, safeReturnPath, verifiedEmail, type OidcSettings } from './oidc.js';

const settings: Pick<OidcSettings, 'roleClaim' | 'groups' | 'defaultRole' | 'emailVerifiedClaim' | 'emailDomains'> = {
  roleClaim: 'groups',
  groups: { admin: ['lanes-admins'], member: ['engineering', 'product'], stakeholder: ['support'] },
  defaultRole: 'stakeholder',
  emailVerifiedClaim: 'email_verified',
  emailDomains: [],
};

describe('roles from the identity provider', () => {
  it('gives the highest role whose group the person is in, else the default', () => {
    expect(roleFromClaims({ groups: ['support', 'lanes-admins'] }, settings)).toBe('admin');
    expect(roleFromClaims({ groups: ['product'] }, settings)).toBe('member');
    expect(roleFromClaims({ groups: 'support' }, settings)).toBe('stakeholder');
    expect(roleFromClaims({ groups: ['Lanes-Admins'] }, settings)).toBe('stakeholder');
    expect(roleFromClaims({}, { ...settings, defaultRole: 'none' })).toBe('none');
  });

  it('reads nested claims such as Keycloak realm roles', () => {
    const claims = { realm_access: { roles: ['lanes-admins'] } };
    expect(claimAt(claims, 'realm_access.roles')).toEqual(['lanes-admins']);
    expect(roleFromClaims(claims, { ...settings, roleClaim: 'realm_access.roles' })).toBe('admin');
    expect(claimAt({ 'https://acme.example/roles': ['x'] }, 'https://acme.example/roles')).toEqual(['x']);
  });
});

describe('the verified e-mail', () => {
  it('accepts only an address the provider vouches for, lower-cased', () => {
    expect(verifiedEmail({ email: 'Ana@Acme.Example', email_verified: true }, settings)).toEqual({
      ok: true,
      email: 'ana@acme.example',
    });
    expect(verifiedEmail({ email: 'a@acme.example', email_verified: 'true' }, settings).ok).toBe(true);
    expect(verifiedEmail({ email: 'a@acme.example', email_verified: false }, settings)).toMatchObject({
      ok: false,
      reason: 'unverified',
    });
    expect(verifiedEmail({ email: 'a@acme.example' }, settings)).toMatchObject({ reason: 'unverified' });
    expect(verifiedEmail({ email_verified: true }, settings)).toMatchObject({ reason: 'missing' });
  });

  it("uses the configured claim (Entra ID's xms_edov) and the allowed domains", () => {
    const entra = { ...settings, emailVerifiedClaim: 'xms_edov', emailDomains: ['acme.example'] };
    expect(verifiedEmail({ email: 'a@acme.example', xms_edov: true }, entra).ok).toBe(true);
    expect(verifiedEmail({ email: 'a@acme.example', email_verified: true }, entra)).toMatchObject({
      reason: 'unverified',
    });
    expect(verifiedEmail({ email: 'a@evil.example', xms_edov: true }, entra)).toMatchObject({ reason: 'domain' });
  });
});

describe('the return path after sign-in', () => {
  it('keeps paths inside Lanes and turns anything else into /', () => {
    expect(safeReturnPath('/items?team=payments#top')).toBe('/items?team=payments#top');
    for (const bad of ['https://evil.example', '//evil.example', '/\\evil.example', 'items', '/login', '/a\nb']) {
      expect(safeReturnPath(bad), bad).toBe('/');
    }
    expect(safeReturnPath(undefined)).toBe('/');
  });

  it('never leaves the origin, whatever it is given', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.webPath()), (value) => {
        const path = safeReturnPath(value);
        expect(path.startsWith('/')).toBe(true);
        expect(new URL(path, 'https://lanes.example').origin).toBe('https://lanes.example');
      }),
    );
  });
});
