import type { Database } from './database.js';
import type { OidcFlowTable } from './schema.js';

/** Stores a started sign-in; any instance can finish it. */
export const insertFlow = async (database: Database, row: OidcFlowTable): Promise<void> => {
  await database.db.insertInto('oidc_flow').values(row).execute();
};

/**
 * Takes a started sign-in by its state hash and removes it in one statement
 * (`DELETE … RETURNING` on both engines): of two callbacks with the same
 * state, only one gets the row.
 */
export const claimFlow = async (database: Database, stateHash: string): Promise<OidcFlowTable | undefined> =>
  database.db.deleteFrom('oidc_flow').where('state_hash', '=', stateHash).returningAll().executeTakeFirst();

/** Deletes sign-ins that were started and never finished in time. */
export const deleteExpiredFlows = async (database: Database, nowIso: string): Promise<void> => {
  await database.db.deleteFrom('oidc_flow').where('expires_at', '<=', nowIso).execute();
};
