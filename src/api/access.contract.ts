import { z } from 'zod';
import { AUDIT_ACTIONS, USER_ROLES } from '../domain/access.js';

/** The HTTP contract for sign-in, users, API tokens and the audit log. */

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(USER_ROLES),
  createdAt: z.string(),
});

export const loginBodySchema = z.strictObject({
  email: z.string().min(1).max(320),
  password: z.string().min(1).max(1024),
});

export const sessionSchema = z.object({
  user: userSchema,
  csrfToken: z.string().describe('Echo in the x-csrf-token header on every cookie-authenticated write.'),
});

export const usersSchema = z.object({ users: z.array(userSchema) });

export const newUserBodySchema = z.strictObject({
  email: z.email().max(320),
  name: z.string().min(1).max(200),
  role: z.enum(USER_ROLES),
  password: z.string().min(12).max(1024),
});

export const setRoleBodySchema = z.strictObject({ role: z.enum(USER_ROLES) });
export const emailParamsSchema = z.strictObject({ email: z.string().min(3).max(320) });

export const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  userId: z.string(),
  scopes: z
    .array(z.string())
    .describe(
      'What the token may do: read, write, events:write, events:write:<source>, admin (never beyond its role).',
    ),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export const tokensSchema = z.object({ tokens: z.array(tokenSchema) });
export const newTokenBodySchema = z.strictObject({
  name: z.string().min(1).max(100),
  scopes: z
    .array(z.string().max(80))
    .min(1)
    .max(40)
    .optional()
    .describe(
      'read, write, events:write, events:write:<source>, admin; within your role and, from a token, within its own scopes. Default: all your role may hold.',
    ),
});
export const newTokenSchema = z.object({
  token: tokenSchema,
  secret: z.string().describe('Shown once: send as Authorization: Bearer <secret>.'),
});
export const tokenParamsSchema = z.strictObject({ id: z.string().min(1).max(64) });

export const auditSchema = z.object({
  entries: z.array(
    z.object({
      id: z.string(),
      at: z.string(),
      actor: z.string(),
      action: z.enum(AUDIT_ACTIONS),
      target: z.string().nullable(),
      details: z.unknown(),
    }),
  ),
});

export const emptySchema = z.null().describe('No content.');
