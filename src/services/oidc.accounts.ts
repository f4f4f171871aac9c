import type { User, UserRole } from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import { roleFromClaims, rolesMapped, verifiedEmail, type OidcSettings } from '../domain/oidc.js';
import * as repo from '../store/access.repository.js';
import { recordAuditAs } from './access.service.js';
import type { ServiceContext } from './context.js';

/** The audit log's actor for what the identity provider changed. */
const OIDC_ACTOR = 'oidc';

/**
 * Never a valid scrypt hash: people who came through the identity provider have
 * no password until an admin sets one (`verifyPassword` refuses it).
 */
const NO_PASSWORD = 'oidc:no-password';

const emailRefusal = (verdict: ReturnType<typeof verifiedEmail>): AppError => {
  if (verdict.ok) throw new Error('unreachable');
  const sentence = {
    missing: 'the identity provider sent no e-mail address; add the email scope and claim',
    unverified: `the identity provider does not vouch for ${verdict.email ?? 'the e-mail address'} (it is not verified)`,
    domain: `${verdict.email ?? 'the e-mail address'} is not in a domain allowed to sign in here`,
  }[verdict.reason];
  return new AppError('LANES_OIDC_EMAIL_UNVERIFIED', sentence, { reason: verdict.reason });
};

/** The person's name in the charter when it lists their e-mail, else the identity provider's, else the e-mail. */
const displayName = (ctx: ServiceContext, email: string, claims: Readonly<Record<string, unknown>>): string => {
  const loaded = ctx.charter();
  const personId = loaded?.index.personByIdentity.get(`email:${email}`);
  const person = personId ? loaded?.charter.people.find((p) => p.id === personId) : undefined;
  if (person) return person.name;
  const name = claims['name'];
  return typeof name === 'string' && name.trim() ? name.trim().slice(0, 200) : email;
};

const signUp = async (
  ctx: ServiceContext,
  email: string,
  role: UserRole,
  claims: Readonly<Record<string, unknown>>,
): Promise<User> => {
  const user: User = {
    id: ctx.newId(),
    email,
    name: displayName(ctx, email, claims),
    role,
    createdAt: ctx.clock().toISOString(),
  };
  try {
    await repo.insertUser(ctx.database, {
      id: user.id,
      email,
      name: user.name,
      role,
      password_hash: NO_PASSWORD,
      created_at: user.createdAt,
    });
  } catch (error) {
    // Two first sign-ins at once: the other one created the account.
    const found = await repo.findUserByEmail(ctx.database, email);
    if (found) return found.user;
    throw error;
  }
  await recordAuditAs(ctx, OIDC_ACTOR, 'user.add', email, { role, via: 'identity provider' });
  return user;
};

/**
 * The Lanes user for the identity provider's claims: matched by verified
 * e-mail; created at first sign-in when sign-up is on; with the role the
 * groups give when a group list is configured (a change is applied and
 * audited). Throws LANES_OIDC_EMAIL_UNVERIFIED, LANES_OIDC_NO_ACCOUNT or
 * LANES_OIDC_NO_ROLE with a sentence.
 */
export const userForClaims = async (
  ctx: ServiceContext,
  settings: OidcSettings,
  claims: Readonly<Record<string, unknown>>,
): Promise<User> => {
  const verdict = verifiedEmail(claims, settings);
  if (!verdict.ok) throw emailRefusal(verdict);
  const email = verdict.email;
  const role = roleFromClaims(claims, settings);
  const found = (await repo.findUserByEmail(ctx.database, email))?.user;
  if (!found) {
    if (!settings.signup) {
      throw new AppError(
        'LANES_OIDC_NO_ACCOUNT',
        `there is no Lanes account for ${email}; ask a Lanes admin to add you`,
        { email },
      );
    }
    if (role === 'none') throw noRole(email);
    return signUp(ctx, email, role, claims);
  }
  if (!rolesMapped(settings) || role === found.role) return found;
  if (role === 'none') throw noRole(email);
  await repo.updateUserRole(ctx.database, found.id, role);
  await recordAuditAs(ctx, OIDC_ACTOR, 'user.set_role', email, {
    from: found.role,
    to: role,
    via: 'identity provider',
  });
  return { ...found, role };
};

const noRole = (email: string): AppError =>
  new AppError('LANES_OIDC_NO_ROLE', `${email} is in none of the groups that may use Lanes`, { email });
