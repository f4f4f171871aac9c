import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  AttemptLimiter,
  type AuditAction,
  type Principal,
  type User,
  type UserRole,
  USER_ROLES,
} from '../domain/access.js';
import { AppError } from '../domain/errors.js';
import * as repo from '../store/access.repository.js';
import type { DB } from '../store/schema.js';
import type { ServiceContext } from './context.js';

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

/** Ten tries per client and e-mail per 15 minutes. */
export const createLoginLimiter = (): AttemptLimiter => new AttemptLimiter(10, 15 * 60_000);

export interface SessionGrant {
  user: User;
  /** The cookie value (secret; only its hash is stored). */
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
}

/** Checks a password and opens a session. Wrong e-mail and wrong password look the same. */
export const login = async (
  ctx: ServiceContext,
  limiter: AttemptLimiter,
  input: unknown,
  clientKey: string,
): Promise<SessionGrant> => {
  const { email, password } = parse(
    z.strictObject({ email: z.string().max(320), password: z.string().max(1024) }),
    input,
  );
  const normalized = email.trim().toLowerCase();
  if (!limiter.attempt(`${clientKey}|${normalized}`, ctx.clock().getTime())) {
    throw new AppError('LANES_RATE_LIMITED', 'too many sign-in attempts; wait 15 minutes and try again');
  }
  const found = await repo.findUserByEmail(ctx.database, normalized);
  const ok = found
    ? await verifyPassword(password, found.passwordHash)
    : (await verifyPassword(password, await (dummyHash ??= hashPassword('not a real password'))), false);
  if (!found || !ok) throw new AppError('LANES_UNAUTHENTICATED', 'the e-mail or password is not right');
  limiter.reset(`${clientKey}|${normalized}`);
  const now = ctx.clock();
  const sessionId = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + SESSION_HOURS * 3_600_000).toISOString();
  await repo.deleteExpiredSessions(ctx.database, now.toISOString());
  await repo.insertSession(ctx.database, {
    id_hash: sha256(sessionId),
    user_id: found.user.id,
    csrf_token: csrfToken,
    created_at: now.toISOString(),
    expires_at: expiresAt,
  });
  return { user: found.user, sessionId, csrfToken, expiresAt };
};

export const logout = async (ctx: ServiceContext, sessionId: string): Promise<void> => {
  await repo.deleteSession(ctx.database, sha256(sessionId));
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
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const toTokenView = (t: {
  id: string;
  name: string;
  user_id: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}): TokenView => ({
  id: t.id,
  name: t.name,
  userId: t.user_id,
  createdAt: t.created_at,
  lastUsedAt: t.last_used_at,
  revokedAt: t.revoked_at,
});

/** Creates an API token for a user; the secret is returned once and only its hash is kept. */
export const createToken = async (
  ctx: ServiceContext,
  actor: Actor,
  owner: User,
  name: string,
): Promise<{ token: TokenView; secret: string }> => {
  const tokenName = parse(z.string().min(1).max(100), name);
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
  };
  await repo.insertToken(ctx.database, row);
  await recordAudit(ctx, actor, 'token.create', id, { name: tokenName, owner: owner.email });
  return { token: toTokenView(row), secret: `${TOKEN_PREFIX}${id}_${secretPart}` };
};

export const listTokens = async (ctx: ServiceContext, owner?: User): Promise<TokenView[]> =>
  (await repo.listTokens(ctx.database, owner?.id)).map(toTokenView);

/** Revokes a token; non-admins may only revoke their own. */
export const revokeToken = async (ctx: ServiceContext, actor: Actor, id: string): Promise<void> => {
  const token = await repo.findToken(ctx.database, id);
  if (!token) throw new AppError('LANES_NOT_FOUND', `no token ${id}`);
  if (actor.kind === 'user' && actor.user.role !== 'admin' && token.user_id !== actor.user.id) {
    throw new AppError('LANES_FORBIDDEN', 'you can only revoke your own tokens');
  }
  await repo.revokeToken(ctx.database, id, ctx.clock().toISOString());
  await recordAudit(ctx, actor, 'token.revoke', id, { name: token.name });
};

/** The principal behind `Authorization: Bearer lanes_<id>_<secret>`, recording when it was last used. */
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
  return { user, via: 'token', tokenId: token.id };
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
