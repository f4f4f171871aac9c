import type { UserRole } from './access.js';

/**
 * Sign-in through the company's identity provider (OpenID Connect): the
 * settings, and the pure rules that turn an identity provider's claims into a
 * Lanes user — which e-mail, whether it is verified, which role. No I/O.
 */

/** The groups (or role values) of the role claim that give each Lanes role. */
export interface OidcRoleGroups {
  admin: readonly string[];
  member: readonly string[];
  stakeholder: readonly string[];
}

/** How Lanes talks to the identity provider and maps its people; read from `LANES_OIDC_*`. */
export interface OidcSettings {
  /** The issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE only). */
  clientSecret?: string | undefined;
  /** The label of the sign-in button: "Sign in with <name>". */
  name: string;
  scopes: readonly string[];
  /** The claim holding groups or roles; a dotted path reaches nested claims (`realm_access.roles`). */
  roleClaim: string;
  groups: OidcRoleGroups;
  /** The role of people in none of the groups; `none` refuses them. */
  defaultRole: UserRole | 'none';
  /** Whether a person without a Lanes account gets one at first sign-in. */
  signup: boolean;
  /** The claim that must be true for the e-mail to count as verified (`email_verified`; `xms_edov` on Entra ID). */
  emailVerifiedClaim: string;
  /** When set, only e-mail addresses in these domains may sign in. */
  emailDomains: readonly string[];
}

/** The callback path registered at the identity provider, below `LANES_PUBLIC_URL`. */
export const OIDC_CALLBACK_PATH = '/api/v1/auth/oidc/callback';

/** How long a started sign-in may take before its state is refused. */
export const OIDC_FLOW_MINUTES = 10;

/** The value at a dotted path of the claims (`realm_access.roles`), or at the exact name when it has dots itself. */
export const claimAt = (claims: Readonly<Record<string, unknown>>, path: string): unknown => {
  if (path in claims) return claims[path];
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
};

/** Whether any group list is set: only then does the identity provider decide roles of existing users. */
export const rolesMapped = (settings: Pick<OidcSettings, 'groups'>): boolean =>
  settings.groups.admin.length + settings.groups.member.length + settings.groups.stakeholder.length > 0;

/**
 * The role the claims give: the highest role whose groups the person is in,
 * else the default role (`none`: not allowed in). Groups compare exactly.
 */
export const roleFromClaims = (
  claims: Readonly<Record<string, unknown>>,
  settings: Pick<OidcSettings, 'roleClaim' | 'groups' | 'defaultRole'>,
): UserRole | 'none' => {
  const raw = claimAt(claims, settings.roleClaim);
  const values = new Set(
    (Array.isArray(raw) ? raw : raw === undefined || raw === null ? [] : [raw])
      .filter((v): v is string | number => typeof v === 'string' || typeof v === 'number')
      .map(String),
  );
  const inAny = (groups: readonly string[]) => groups.some((g) => values.has(g));
  if (inAny(settings.groups.admin)) return 'admin';
  if (inAny(settings.groups.member)) return 'member';
  if (inAny(settings.groups.stakeholder)) return 'stakeholder';
  return settings.defaultRole;
};

/** Why the claims do not name a usable e-mail, in words a person can act on. */
export type EmailVerdict =
  { ok: true; email: string } | { ok: false; reason: 'missing' | 'unverified' | 'domain'; email?: string };

/**
 * The person's e-mail, lower-cased, when the identity provider vouches for it:
 * the verified claim must be `true` (or the string `"true"`), and the domain
 * must be an allowed one when a list is set.
 */
export const verifiedEmail = (
  claims: Readonly<Record<string, unknown>>,
  settings: Pick<OidcSettings, 'emailVerifiedClaim' | 'emailDomains'>,
): EmailVerdict => {
  const raw = claims['email'];
  if (typeof raw !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(raw.trim())) return { ok: false, reason: 'missing' };
  const email = raw.trim().toLowerCase();
  const verified = claimAt(claims, settings.emailVerifiedClaim);
  if (verified !== true && verified !== 'true') return { ok: false, reason: 'unverified', email };
  if (settings.emailDomains.length > 0) {
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!settings.emailDomains.some((d) => d.toLowerCase() === domain)) return { ok: false, reason: 'domain', email };
  }
  return { ok: true, email };
};

/**
 * A path inside Lanes to return to after sign-in: only a same-origin relative
 * path (`/items?team=x`); anything else — absolute URLs, `//host`, backslashes,
 * control characters, the login page itself — becomes `/`.
 */
export const safeReturnPath = (value: string | undefined): string => {
  if (!value || value.length > 2048) return '/';
  // eslint-disable-next-line no-control-regex
  if (!value.startsWith('/') || value.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(value)) return '/';
  let url: URL;
  try {
    url = new URL(value, 'http://lanes.invalid');
  } catch {
    return '/';
  }
  if (url.origin !== 'http://lanes.invalid') return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  return path === '/login' || path.startsWith('/login?') || path.startsWith('/login/') ? '/' : path;
};
