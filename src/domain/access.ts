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
 * A fixed-window limiter for login attempts, keyed by client and e-mail. Pure:
 * the caller passes the time. One instance per process; several instances
 * each enforce their own window (documented in docs/ARCHITECTURE.md).
 */
export class AttemptLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Records an attempt; returns false when the key is over its limit. */
  attempt(key: string, nowMs: number): boolean {
    const w = this.windows.get(key);
    if (!w || nowMs - w.start >= this.windowMs) {
      this.windows.set(key, { start: nowMs, count: 1 });
      if (this.windows.size > 10_000) this.prune(nowMs);
      return true;
    }
    w.count += 1;
    return w.count <= this.max;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private prune(nowMs: number): void {
    for (const [key, w] of this.windows) if (nowMs - w.start >= this.windowMs) this.windows.delete(key);
  }
}
