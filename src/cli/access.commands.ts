import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createDeps, type AppDeps } from '../deps.js';
import { AppError } from '../domain/errors.js';
import * as access from '../services/access.service.js';
import { EXIT, type CliIo } from './io.js';

const withDeps = async (io: CliIo, fn: (deps: AppDeps) => Promise<void>): Promise<void> => {
  const deps = await createDeps(loadConfig(io.env, io.cwd), {});
  try {
    await fn(deps);
  } finally {
    await deps.close();
  }
};

const CLI = { kind: 'cli' } as const;

/** `lanes user add|list|remove|set-role` and `lanes token create|list|revoke`. */
export const registerAccessCommands = (program: Command, io: CliIo): void => {
  const user = program.command('user').description('Manage who can sign in');
  user
    .command('add <email>')
    .description('Add a user; prints a generated password unless --password is given')
    .requiredOption('--role <role>', 'admin, member or stakeholder')
    .option('--name <name>', 'display name (default: the part before @)')
    .option('--password <password>', 'at least 12 characters (default: generated and printed once)')
    .action(async (email: string, flags: { role: string; name?: string; password?: string }) =>
      withDeps(io, async (deps) => {
        const password = flags.password ?? randomBytes(12).toString('base64url');
        const added = await access.addUser(deps, CLI, {
          email,
          name: flags.name ?? email.split('@')[0],
          role: flags.role,
          password,
        });
        io.out(`Added ${added.email} (${added.role}).`);
        if (!flags.password) io.out(`Password (shown once): ${password}`);
      }),
    );
  user
    .command('list')
    .description('List users')
    .action(async () =>
      withDeps(io, async (deps) => {
        const users = await access.listUsers(deps);
        if (users.length === 0) io.out('No users yet. Add one with `lanes user add <email> --role admin`.');
        for (const u of users) io.out(`${u.email.padEnd(36)} ${u.role.padEnd(12)} ${u.name}`);
      }),
    );
  user
    .command('remove <email>')
    .description('Remove a user with their sessions and tokens')
    .action(async (email: string) =>
      withDeps(io, async (deps) => {
        await access.removeUser(deps, CLI, email);
        io.out(`Removed ${email}.`);
      }),
    );
  user
    .command('set-role <email> <role>')
    .description('Change a user’s role')
    .action(async (email: string, role: string) =>
      withDeps(io, async (deps) => {
        const updated = await access.setUserRole(deps, CLI, email, role);
        io.out(`${updated.email} is now ${updated.role}.`);
      }),
    );

  const token = program.command('token').description('Manage API tokens');
  token
    .command('create <name>')
    .description('Create an API token for a user; the secret is shown once')
    .requiredOption('--user <email>', 'whose token it is (it acts with their role)')
    .option(
      '--scope <scopes>',
      'comma-separated: read, write, events:write, events:write:<source>, admin (default: all the role may hold)',
    )
    .action(async (name: string, flags: { user: string; scope?: string }) =>
      withDeps(io, async (deps) => {
        const owner = await access.findUserByEmail(deps, flags.user);
        if (!owner) throw new AppError('LANES_NOT_FOUND', `no user with e-mail ${flags.user}`);
        const scopes = flags.scope
          ?.split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const created = await access.createToken(deps, CLI, owner, name, { scopes });
        io.out(
          `Token ${created.token.id} for ${owner.email} (${owner.role}), scopes ${created.token.scopes.join(' ')}. Secret, shown once:`,
        );
        io.out(created.secret);
        io.out('Send it as: Authorization: Bearer <secret>');
      }),
    );
  token
    .command('list')
    .description('List API tokens (never their secrets)')
    .action(async () =>
      withDeps(io, async (deps) => {
        for (const t of await access.listTokens(deps)) {
          const status = t.revokedAt ? `revoked ${t.revokedAt}` : `last used ${t.lastUsedAt ?? 'never'}`;
          io.out(`${t.id}  ${t.name.padEnd(24)} ${t.scopes.join(' ').padEnd(32)} created ${t.createdAt}  ${status}`);
        }
      }),
    );
  token
    .command('revoke <id>')
    .description('Revoke an API token')
    .action(async (id: string) =>
      withDeps(io, async (deps) => {
        await access.revokeToken(deps, CLI, id);
        io.out(`Revoked ${id}.`);
        io.exitCode = EXIT.ok;
      }),
    );
};
