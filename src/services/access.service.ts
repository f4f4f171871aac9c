import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  attemptRetryAfter,
  type AttemptLimit,
  type AuditAction,
  type Principal,
  type User,
  type UserRole,
  USER_ROLES,
} from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import {
  defaultScopesFor,
  effectiveScopes,
  formatScopes,
  isTokenScope,
  parseScopes,
  roleMayHold,
  ROUTE_SCOPES,
  scopeSource,
  scopesWithin,
} from '../domain/token.scopes.js';
import * as repo from '../store/access.repository.js';
import { countAttempt, deleteExpiredWindows, resetAttempts } from '../store/rate-limit.repository.js';
import type { DB } from '../store/schema.js';
import type { ServiceContext } from './context.js';
import { isReservedSource } from './sources.reserved.js';

/** scrypt parameters: N=2^15, r=8, p=1 (OWASP's minimum for scrypt), 64-byte key. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const KEY_LENGTH = 64;
export const SESSION_HOURS = 12;
const TOKEN_PREFIX = 'lanes_';

const scrypt = (password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> =>
  new Promise((resolve, reject) =>
    scryptCb(password, salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64. */
export const hashPassword = async (password: string): Promise<string> => {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
};

export const verifyPassword = async (password: string, stored: string): Promise<boolean> => {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: SCRYPT.maxmem,
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
};

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

// A hash computed once so that unknown e-mails take as long as wrong passwords.
let dummyHash: Promise<string> | undefined;

export const newUserSchema = z.strictObject({
  email: z.email().max(320),
  name: z.string().min(1).max(200),
  role: z.enum(USER_ROLES),
  password: z.string().min(12, 'use at least 12 characters').max(1024),
});
export type NewUser = z.infer<typeof newUserSchema>;

const parse = <T extends z.ZodType>(schema: T, input: unknown): z.output<T> => {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new AppError('LANES_VALIDATION', `${issue.path.join('.') || 'input'}: ${issue.message}`, {
    issues: r.error.issues,
  });
};

/** Who performed an admin action, for the audit log. */
export type Actor = { kind: 'user'; user: User } | { kind: 'cli' };
const actorName = (actor: Actor): string => (actor.kind === 'cli' ? 'cli' : actor.user.email);

/** Records one entry of the audit log. */
export const recordAudit = async (
  ctx: ServiceContext,
  actor: Actor,
  action: AuditAction,
  target: string | null,
  details?: unknown,
): Promise<void> => recordAuditAs(ctx, actorName(actor), action, target, details);

/**
 * The same for an actor known by name only (a user's e-mail, else their id).
 * `db` is the connection to write with: pass a transaction's so the entry
 * commits, or rolls back, with the change it records.
 */
export const recordAuditAs = async (
  ctx: ServiceContext,
  actor: string,
  action: AuditAction,
  target: string | null,
  details?: unknown,
  db: Kysely<DB> = ctx.database.db,
): Promise<void> => {
  await repo.insertAuditWith(db, {
    id: ctx.newId(),
    at: ctx.clock().toISOString(),
    actor,
    action,
    target,
    details,
  });
};

export const addUser = async (ctx: ServiceContext, actor: Actor, input: unknown): Promise<User> => {
  const data = parse(newUserSchema, input);
  const email = data.email.toLowerCase();
  if (await repo.findUserByEmail(ctx.database, email)) {
    throw new AppError('LANES_CONFLICT', `a user with e-mail ${email} already exists`, { email });
  }
  const user: User = { id: ctx.newId(), email, name: data.name, role: data.role, createdAt: ctx.clock().toISOString() };
  await repo.insertUser(ctx.database, {
    id: user.id,
    email,
    name: user.name,
    role: user.role,
    password_hash: await hashPassword(data.password),
    created_at: user.createdAt,
  });
  await recordAudit(ctx, actor, 'user.add', email, { role: user.role });
  return user;
};

const userByEmailOrThrow = async (ctx: ServiceContext, email: string): Promise<User> => {
  const found = await repo.findUserByEmail(ctx.database, email.toLowerCase());
  if (!found) throw new AppError('LANES_NOT_FOUND', `no user with e-mail ${email}`, { email });
  return found.user;
};

export const removeUser = async (ctx: ServiceContext, actor: Actor, email: string): Promise<void> => {
  const user = await userByEmailOrThrow(ctx, email);
  await repo.deleteUser(ctx.database, user.id);
  await recordAudit(ctx, actor, 'user.remove', user.email);
};

export const setUserRole = async (ctx: ServiceContext, actor: Actor, email: string, role: string): Promise<User> => {
  const parsedRole = parse(z.enum(USER_ROLES), role) as UserRole;
  const user = await userByEmailOrThrow(ctx, email);
  await repo.updateUserRole(ctx.database, user.id, parsedRole);
  await recordAudit(ctx, actor, 'user.set_role', user.email, { from: user.role, to: parsedRole });
  return { ...user, role: parsedRole };
};

export const listUsers = (ctx: ServiceContext): Promise<User[]> => repo.listUsers(ctx.database);
export const countUsers = (ctx: ServiceContext): Promise<number> => repo.countUsers(ctx.database);

/** Ten tries per client and e-mail per 15 minutes, counted in the database across every instance. */
export const createLoginLimiter = (): AttemptLimit => ({ max: 10, windowMs: 15 * 60_000 });

/**
 * Counts one sign-in attempt for `key` in the shared window; throws
 * LANES_RATE_LIMITED with `retryAfterSeconds` in its details when over the limit.
 */
export const countSignInAttempt = async (ctx: ServiceContext, limit: AttemptLimit, key: string): Promise<void> => {
  const now = ctx.clock().getTime();
  const window = await countAttempt(
    ctx.database,
    key,
    new Date(now).toISOString(),
    new Date(now - limit.windowMs).toISOString(),
  );
  const retryAfterSeconds = attemptRetryAfter(limit, Date.parse(window.windowStart), window.count, now);
  if (retryAfterSeconds > 0) {
    throw new AppError(
      'LANES_RATE_LIMITED',
      `too many sign-in attempts; wait ${Math.ceil(retryAfterSeconds / 60)} minutes and try again`,
      { retryAfterSeconds },
    );
  }
};

export interface SessionGrant {
  user: User;
  /** The cookie value (secret; only its hash is stored). */
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
}

/**
 * Opens a browser session for a user who has proved who they are (password or
 * identity provider). `oidcIdToken` is kept for the identity provider's logout.
 */
export const openSession = async (
  ctx: ServiceContext,
  user: User,
  options: { oidcIdToken?: string } = {},
): Promise<SessionGrant> => {
  const now = ctx.clock();
  const sessionId = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3_600_000).toISOString();
  await repo.deleteExpiredSessions(ctx.database, now.toISOString());
  // Housekeeping at each sign-in, as for sessions: rate-limit windows older than the longest limit's are over.
  await deleteExpiredWindows(ctx.database, new Date(now.getTime() - createLoginLimiter().windowMs).toISOString());
  await repo.insertSession(ctx.database, {
    id_hash: sha256(sessionId),
    user_id: user.id,
    csrf_token: csrfToken,
    created_at: now.toISOString(),
    expires_at: expiresAt,
    oidc_id_token: options.oidcIdToken ?? null,
  });
  return { user, sessionId, csrfToken, expiresAt };
};

/** Checks a password and opens a session. Wrong e-mail and wrong password look the same. */
export const login = async (
  ctx: ServiceContext,
  limit: AttemptLimit,
  input: unknown,
  clientKey: string,
): Promise<SessionGrant> => {
  const { email, password } = parse(
    z.strictObject({ email: z.string().max(320), password: z.string().max(1024) }),
    input,
  );
  const normalized = email.trim().toLowerCase();
  const key = `${clientKey}|${normalized}`;
  await countSignInAttempt(ctx, limit, key);
  const found = await repo.findUserByEmail(ctx.database, normalized);
  // Accounts without a password (made at a first sign-in through the identity provider) take as long as the rest.
  const ok = found?.passwordHash.startsWith('scrypt$')
    ? await verifyPassword(password, found.passwordHash)
    : (await verifyPassword(password, await (dummyHash ??= hashPassword('not a real password'))), false);
  if (!found || !ok) throw new AppError('LANES_UNAUTHENTICATED', 'the e-mail or password is not right');
  await resetAttempts(ctx.database, key);
  return openSession(ctx, found.user);
};

/** Ends a session; returns the ID token it was opened with, when it came from the identity provider. */
export const logout = async (ctx: ServiceContext, sessionId: string): Promise<{ oidcIdToken?: string }> => {
  const session = await repo.findSession(ctx.database, sha256(sessionId));
  await repo.deleteSession(ctx.database, sha256(sessionId));
  return session?.oidc_id_token ? { oidcIdToken: session.oidc_id_token } : {};
};

/** The principal behind a session cookie, or undefined when it is unknown or expired. */
export const principalFromSession = async (ctx: ServiceContext, sessionId: string): Promise<Principal | undefined> => {
  const session = await repo.findSession(ctx.database, sha256(sessionId));
  if (!session || session.expires_at <= ctx.clock().toISOString()) return undefined;
  const user = await repo.findUserById(ctx.database, session.user_id);
  return user ? { user, via: 'session', csrfToken: session.csrf_token } : undefined;
};

export interface TokenView {
  id: string;
  name: string;
  userId: string;
  /** What the token may do (see `src/domain/token.scopes.ts`), as granted; the user's role still bounds it. */
  scopes: string[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const toTokenView = (t: {
  id: string;
  name: string;
  user_id: string;
  scopes: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}): TokenView => ({
  id: t.id,
  name: t.name,
  userId: t.user_id,
  scopes: parseScopes(t.scopes),
  createdAt: t.created_at,
  lastUsedAt: t.last_used_at,
  revokedAt: t.revoked_at,
});

const scopesSchema = z.array(z.string().max(80)).min(1, 'name at least one scope').max(40);

/**
 * The scopes a new token gets: those asked for (default: all its owner's role
 * may hold), each known, none naming a reserved source, none beyond the
 * owner's role, and none beyond `within` (the scopes of the token creating it).
 */
const scopesForNewToken = (owner: User, requested: unknown, within: readonly string[] | undefined): string[] => {
  const scopes = requested === undefined ? defaultScopesFor(owner.role) : parse(scopesSchema, requested);
  for (const scope of scopes) {
    if (!isTokenScope(scope)) {
      throw new AppError(
        'LANES_VALIDATION',
        `unknown scope "${scope}"; scopes are ${ROUTE_SCOPES.join(', ')} and events:write:<source>`,
        { scope },
      );
    }
    const source = scopeSource(scope);
    if (source !== undefined && isReservedSource(source)) {
      throw new AppError(
        'LANES_SOURCE_RESERVED',
        `${source} events are written only by Lanes and its verified connectors; no token can write them`,
        { scope },
      );
    }
    if (!roleMayHold(owner.role, scope)) {
      throw new AppError('LANES_FORBIDDEN', `a ${owner.role} cannot hold the scope ${scope}`, { scope });
    }
  }
  if (within !== undefined && !scopesWithin(scopes, within)) {
    throw new AppError('LANES_FORBIDDEN', 'a token can only create tokens with scopes it holds itself', {
      scopes,
      held: within,
    });
  }
  return [...new Set(scopes)].sort();
};

/** Options of `createToken`: the scopes asked for, and the scopes of the token asking (absent for sessions and the CLI). */
export interface NewTokenOptions {
  scopes?: unknown;
  within?: readonly string[] | undefined;
}

/** Creates an API token for a user; the secret is returned once and only its hash is kept. */
export const createToken = async (
  ctx: ServiceContext,
  actor: Actor,
  owner: User,
  name: string,
  options: NewTokenOptions = {},
): Promise<{ token: TokenView; secret: string }> => {
  const tokenName = parse(z.string().min(1).max(100), name);
  const scopes = scopesForNewToken(owner, options.scopes, options.within);
  const id = randomBytes(6).toString('hex');
  const secretPart = randomBytes(32).toString('base64url');
  const row = {
    id,
    user_id: owner.id,
    name: tokenName,
    secret_hash: sha256(secretPart),
    created_at: ctx.clock().toISOString(),
    last_used_at: null,
    revoked_at: null,
    scopes: formatScopes(scopes),
  };
  await repo.insertToken(ctx.database, row);
  await recordAudit(ctx, actor, 'token.create', id, { name: tokenName, owner: owner.email, scopes });
  return { token: toTokenView(row), secret: `${TOKEN_PREFIX}${id}_${secretPart}` };
};

export const listTokens = async (ctx: ServiceContext, owner?: User): Promise<TokenView[]> =>
  (await repo.listTokens(ctx.database, owner?.id)).map(toTokenView);

/**
 * Revokes a token. Non-admins may revoke only their own: anyone else's answers
 * exactly as a missing one, so token ids cannot be probed.
 */
export const revokeToken = async (ctx: ServiceContext, actor: Actor, id: string): Promise<void> => {
  const token = await repo.findToken(ctx.database, id);
  const hidden = token && actor.kind === 'user' && actor.user.role !== 'admin' && token.user_id !== actor.user.id;
  if (!token || hidden) throw new AppError('LANES_NOT_FOUND', `no token ${id}`, { id });
  await repo.revokeToken(ctx.database, id, ctx.clock().toISOString());
  await recordAudit(ctx, actor, 'token.revoke', id, { name: token.name });
};

/**
 * The principal behind `Authorization: Bearer lanes_<id>_<secret>`, recording
 * when it was last used. Its scopes are those granted that the user's role
 * allows now, so a demoted user's token loses power at once.
 */
export const principalFromToken = async (ctx: ServiceContext, bearer: string): Promise<Principal | undefined> => {
  const match = /^lanes_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(bearer);
  if (!match) return undefined;
  const token = await repo.findToken(ctx.database, match[1]!);
  if (!token || token.revoked_at) return undefined;
  const given = Buffer.from(sha256(match[2]!));
  const stored = Buffer.from(token.secret_hash);
  if (given.length !== stored.length || !timingSafeEqual(given, stored)) return undefined;
  const user = await repo.findUserById(ctx.database, token.user_id);
  if (!user) return undefined;
  const now = ctx.clock();
  // Write at most once a minute per token, not on every request.
  if (!token.last_used_at || now.getTime() - Date.parse(token.last_used_at) > 60_000) {
    await repo.markTokenUsed(ctx.database, token.id, now.toISOString());
  }
  return { user, via: 'token', tokenId: token.id, scopes: effectiveScopes(parseScopes(token.scopes), user.role) };
};

export interface AuditView {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: unknown;
}

export const listAuditEntries = async (ctx: ServiceContext, limit = 200): Promise<AuditView[]> =>
  (await repo.listAudit(ctx.database, limit)).map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: r.details ? (JSON.parse(r.details) as unknown) : null,
  }));

export const findUserByEmail = async (ctx: ServiceContext, email: string): Promise<User | undefined> =>
  (await repo.findUserByEmail(ctx.database, email.toLowerCase()))?.user;
