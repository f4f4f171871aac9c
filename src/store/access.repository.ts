import type { Kysely } from 'kysely';
import type { AuditAction, User, UserRole } from '../domain/access.js';
import type { Database } from './database.js';
import type { ApiTokenTable, AppUserTable, AuditEntryTable, DB, SessionTable } from './schema.js';

const toUser = (r: AppUserTable): User => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role as UserRole,
  createdAt: r.created_at,
});

export const insertUser = async (database: Database, row: AppUserTable): Promise<void> => {
  await database.db.insertInto('app_user').values(row).execute();
};

export const findUserByEmail = async (
  database: Database,
  email: string,
): Promise<{ user: User; passwordHash: string } | undefined> => {
  const row = await database.db.selectFrom('app_user').selectAll().where('email', '=', email).executeTakeFirst();
  return row ? { user: toUser(row), passwordHash: row.password_hash } : undefined;
};

export const findUserById = async (database: Database, id: string): Promise<User | undefined> => {
  const row = await database.db.selectFrom('app_user').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toUser(row) : undefined;
};

export const listUsers = async (database: Database): Promise<User[]> =>
  (await database.db.selectFrom('app_user').selectAll().orderBy('email').execute()).map(toUser);

export const countUsers = async (database: Database): Promise<number> =>
  Number(
    (
      await database.db
        .selectFrom('app_user')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

/** Deletes a user with their sessions and tokens; returns whether the user existed. */
export const deleteUser = async (database: Database, id: string): Promise<boolean> =>
  database.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('session').where('user_id', '=', id).execute();
    await trx.deleteFrom('api_token').where('user_id', '=', id).execute();
    const result = await trx.deleteFrom('app_user').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  });

export const updateUserRole = async (database: Database, id: string, role: UserRole): Promise<boolean> =>
  Number(
    (await database.db.updateTable('app_user').set({ role }).where('id', '=', id).executeTakeFirst()).numUpdatedRows,
  ) > 0;

export const insertSession = async (database: Database, row: SessionTable): Promise<void> => {
  await database.db.insertInto('session').values(row).execute();
};

export const findSession = async (database: Database, idHash: string): Promise<SessionTable | undefined> =>
  database.db.selectFrom('session').selectAll().where('id_hash', '=', idHash).executeTakeFirst();

export const deleteSession = async (database: Database, idHash: string): Promise<void> => {
  await database.db.deleteFrom('session').where('id_hash', '=', idHash).execute();
};

export const deleteExpiredSessions = async (database: Database, nowIso: string): Promise<void> => {
  await database.db.deleteFrom('session').where('expires_at', '<=', nowIso).execute();
};

export const insertToken = async (database: Database, row: ApiTokenTable): Promise<void> => {
  await database.db.insertInto('api_token').values(row).execute();
};

export const findToken = async (database: Database, id: string): Promise<ApiTokenTable | undefined> =>
  database.db.selectFrom('api_token').selectAll().where('id', '=', id).executeTakeFirst();

export const listTokens = async (database: Database, userId?: string): Promise<ApiTokenTable[]> => {
  let q = database.db.selectFrom('api_token').selectAll();
  if (userId) q = q.where('user_id', '=', userId);
  return q.orderBy('created_at', 'desc').execute();
};

export const markTokenUsed = async (database: Database, id: string, at: string): Promise<void> => {
  await database.db.updateTable('api_token').set({ last_used_at: at }).where('id', '=', id).execute();
};

export const revokeToken = async (database: Database, id: string, at: string): Promise<boolean> =>
  Number(
    (
      await database.db
        .updateTable('api_token')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst()
    ).numUpdatedRows,
  ) > 0;

export interface AuditEntryInput {
  id: string;
  at: string;
  actor: string;
  action: AuditAction;
  target: string | null;
  details: unknown;
}

export const insertAudit = async (database: Database, entry: AuditEntryInput): Promise<void> =>
  insertAuditWith(database.db, entry);

/** The same with a given connection, e.g. a transaction's, so the entry commits with the change it records. */
export const insertAuditWith = async (db: Kysely<DB>, entry: AuditEntryInput): Promise<void> => {
  await db
    .insertInto('audit_entry')
    .values({ ...entry, details: entry.details === undefined ? null : JSON.stringify(entry.details) })
    .execute();
};

export const listAudit = async (database: Database, limit: number): Promise<AuditEntryTable[]> =>
  database.db.selectFrom('audit_entry').selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
