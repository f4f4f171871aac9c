import pino from 'pino';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { UserRole } from '../domain/access.js';
import { addUser, createToken } from '../services/access.service.js';
import type { LoadedCharter, ServiceContext } from '../services/context.js';
import type { Database } from '../store/database.js';
import { createServer, type LanesServer, type ServerOptions } from './server.js';

export interface TestServer {
  server: LanesServer;
  ctx: ServiceContext;
  /** Bearer tokens of one user per role. */
  tokens: Record<UserRole, string>;
  passwords: Record<UserRole, string>;
  /** `inject` as a user of that role (API token), or anonymously. */
  as(role: UserRole | 'anonymous', options: InjectOptions): Promise<LightMyRequestResponse>;
}

/** A server on a real database with an admin, a member and a stakeholder, each with an API token. */
export const buildTestServer = async (
  database: Database,
  options: {
    charter?: LoadedCharter;
    /** Server options, or a function of the context when they need it (a webhook intake). */
    server?: Partial<ServerOptions> | ((ctx: ServiceContext) => Partial<ServerOptions>);
  } = {},
): Promise<TestServer> => {
  let n = 0;
  const ctx: ServiceContext = {
    database,
    logger: pino({ level: 'silent' }),
    clock: () => new Date('2026-06-01T00:00:00Z'),
    newId: () => `id-${(++n).toString().padStart(6, '0')}`,
    charter: () => options.charter,
  };
  const tokens = {} as Record<UserRole, string>;
  const passwords = {} as Record<UserRole, string>;
  for (const role of ['admin', 'member', 'stakeholder'] as const) {
    passwords[role] = `${role}-password-123`;
    const user = await addUser(
      ctx,
      { kind: 'cli' },
      { email: `${role}@acme.example`, name: role, role, password: passwords[role] },
    );
    tokens[role] = (await createToken(ctx, { kind: 'cli' }, user, `${role} test token`)).secret;
  }
  const extra = typeof options.server === 'function' ? options.server(ctx) : options.server;
  const server = createServer(ctx, { bodyLimit: 64 * 1024, version: 'test', ...extra });
  return {
    server,
    ctx,
    tokens,
    passwords,
    as: (role, inject) =>
      server.app.inject({
        ...inject,
        headers: {
          ...(inject.headers ?? {}),
          ...(role === 'anonymous' ? {} : { authorization: `Bearer ${tokens[role]}` }),
        },
      }),
  };
};
