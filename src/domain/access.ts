/** Lanes user roles (PRODUCT.md C8): admin > member > stakeholder (read-only). */
export const USER_ROLES = ['admin', 'member', 'stakeholder'] as const;
export type UserRole = (typeof USER_ROLES)[number];

const RANK: Record<UserRole, number> = { stakeholder: 1, member: 2, admin: 3 };

/** Whether a role may use something that needs at least `needed`. */
export const roleAllows = (role: UserRole, needed: UserRole): boolean => RANK[role] >= RANK[needed];

export interface User {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  createdAt: string;
}

/** Who is calling: a signed-in browser session or an API token. */
export interface Principal {
  user: User;
  via: 'session' | 'token';
  /** Set for sessions: writes must echo it in x-csrf-token. */
  csrfToken?: string;
  tokenId?: string;
  /** Set for tokens: the scopes in force (granted, within the user's role); see `token.scopes.ts`. */
  scopes?: readonly string[];
}

export const AUDIT_ACTIONS = [
  'user.add',
  'user.remove',
  'user.set_role',
  'token.create',
  'token.revoke',
  'charter.reload',
  'boundaries.recompute',
  'slo.apply',
  'notification.retry',
  // Moves of an escalation made by a person: acknowledged, action planned, resolved, dismissed, or opened again.
  // Automatic moves (a finding opened or reopened by the evaluation) stay in the escalation's own history.
  'escalation.acknowledge',
  'escalation.plan',
  'escalation.resolve',
  'escalation.dismiss',
  'escalation.reopen',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/**
 * A fixed-window limit on attempts per key (sign-in: client and e-mail). The
 * windows are kept in the database, so every instance counts against the same
 * limit; this is only the rule.
 */
export interface AttemptLimit {
  max: number;
  windowMs: number;
}

/**
 * Seconds to wait before trying again after the `count`-th attempt of a window
 * that started at `windowStartMs`; 0 when the attempt is allowed.
 */
export const attemptRetryAfter = (limit: AttemptLimit, windowStartMs: number, count: number, nowMs: number): number =>
  count <= limit.max ? 0 : Math.max(1, Math.ceil((windowStartMs + limit.windowMs - nowMs) / 1000));
