import { isIP } from 'node:net';
import { z } from 'zod';
import { USER_ROLES } from './domain/access.js';
import { AppError } from './domain/errors.js';
import type { OidcSettings } from './domain/oidc.js';

/** How people sign in: passwords (on unless turned off) and, when configured, the identity provider. */
export interface SignInConfig {
  /** `LANES_PASSWORD_LOGIN`: false turns off e-mail and password sign-in; API tokens keep working. */
  passwordLogin: boolean;
  /** Set when `LANES_OIDC_ISSUER` is. */
  oidc?: OidcSettings | undefined;
}

/** `LANES_TRUST_PROXY`, as Fastify's `trustProxy` takes it: off, on, or proxy addresses and CIDRs. */
export type TrustProxy = boolean | string[];

const flag = (name: string, fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, issue) => {
      if (value === undefined || value.trim() === '') return fallback;
      const v = value.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      issue.addIssue({ code: 'custom', message: `${name} must be true or false` });
      return z.NEVER;
    });

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const signInEnvSchema = z.object({
  LANES_PASSWORD_LOGIN: flag('LANES_PASSWORD_LOGIN', true),
  LANES_OIDC_ISSUER: z.url({ protocol: /^https?$/ }).optional(),
  LANES_OIDC_CLIENT_ID: z.string().min(1).optional(),
  LANES_OIDC_NAME: z.string().min(1).max(60).default('SSO'),
  LANES_OIDC_SCOPES: z.string().default('openid email profile'),
  LANES_OIDC_ROLE_CLAIM: z.string().min(1).default('groups'),
  LANES_OIDC_ADMIN_GROUPS: z.string().optional(),
  LANES_OIDC_MEMBER_GROUPS: z.string().optional(),
  LANES_OIDC_STAKEHOLDER_GROUPS: z.string().optional(),
  LANES_OIDC_DEFAULT_ROLE: z.enum([...USER_ROLES, 'none']).default('stakeholder'),
  LANES_OIDC_SIGNUP: flag('LANES_OIDC_SIGNUP', false),
  LANES_OIDC_EMAIL_VERIFIED_CLAIM: z.string().min(1).default('email_verified'),
  LANES_OIDC_EMAIL_DOMAINS: z.string().optional(),
});

const invalid = (message: string): AppError => new AppError('LANES_CONFIG_INVALID', message);

/**
 * Reads the sign-in settings (`LANES_PASSWORD_LOGIN`, `LANES_OIDC_*`); the
 * client secret comes from the secrets (environment or `LANES_SECRETS_FILE`).
 */
export const readSignInConfig = (env: NodeJS.ProcessEnv, clientSecret: string | undefined): SignInConfig => {
  const parsed = signInEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${issue.path.join('.')}: ${issue.message}`);
  }
  const e = parsed.data;
  if (!e.LANES_OIDC_ISSUER) {
    if (e.LANES_OIDC_CLIENT_ID) throw invalid('LANES_OIDC_CLIENT_ID is set: set LANES_OIDC_ISSUER too');
    if (!e.LANES_PASSWORD_LOGIN) {
      throw invalid('LANES_PASSWORD_LOGIN=false needs LANES_OIDC_ISSUER, or nobody could sign in to the web app');
    }
    return { passwordLogin: true };
  }
  if (!e.LANES_OIDC_CLIENT_ID) throw invalid('LANES_OIDC_ISSUER is set: set LANES_OIDC_CLIENT_ID too');
  const scopes = list(e.LANES_OIDC_SCOPES.replace(/\s+/g, ','));
  return {
    passwordLogin: e.LANES_PASSWORD_LOGIN,
    oidc: {
      issuer: e.LANES_OIDC_ISSUER,
      clientId: e.LANES_OIDC_CLIENT_ID,
      clientSecret,
      name: e.LANES_OIDC_NAME,
      scopes: scopes.includes('openid') ? scopes : ['openid', ...scopes],
      roleClaim: e.LANES_OIDC_ROLE_CLAIM,
      groups: {
        admin: list(e.LANES_OIDC_ADMIN_GROUPS),
        member: list(e.LANES_OIDC_MEMBER_GROUPS),
        stakeholder: list(e.LANES_OIDC_STAKEHOLDER_GROUPS),
      },
      defaultRole: e.LANES_OIDC_DEFAULT_ROLE,
      signup: e.LANES_OIDC_SIGNUP,
      emailVerifiedClaim: e.LANES_OIDC_EMAIL_VERIFIED_CLAIM,
      emailDomains: list(e.LANES_OIDC_EMAIL_DOMAINS).map((d) => d.toLowerCase().replace(/^@/, '')),
    },
  };
};

const isAddressOrCidr = (value: string): boolean => {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(value)) return true;
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
};

/**
 * `LANES_TRUST_PROXY`: unset or `false` trusts no proxy (X-Forwarded-* ignored);
 * `true` trusts every hop (only when nothing but the proxy can reach Lanes);
 * otherwise a comma list of proxy addresses, CIDRs or `loopback`, `linklocal`, `uniquelocal` (`10.0.0.0/8, 127.0.0.1`).
 */
export const readTrustProxy = (value: string | undefined): TrustProxy => {
  const v = value?.trim() ?? '';
  if (v === '' || v.toLowerCase() === 'false') return false;
  if (v.toLowerCase() === 'true') return true;
  if (/^\d+$/.test(v)) {
    // Fastify cannot check the nearest peer against a bare hop count, so it trusts no one: name the proxies instead.
    throw invalid(
      'LANES_TRUST_PROXY: a hop count cannot tell a proxy from a client; give the proxy addresses or CIDRs',
    );
  }
  const entries = list(v);
  const bad = entries.find((entry) => !isAddressOrCidr(entry));
  if (bad !== undefined || entries.length === 0) {
    throw invalid(`LANES_TRUST_PROXY: "${bad ?? v}" is not true, false, or a list of proxy addresses and CIDRs`);
  }
  return entries;
};
