import { sql } from 'kysely';
import type { Database } from './database.js';

/**
 * Counts one attempt in the key's fixed window with a single atomic upsert (both
 * engines): a window that started at or before `expiredAtOrBefore` starts again
 * at `now` with a count of 1; otherwise its count goes up by one. Returns the
 * window as it stands after this attempt, so concurrent instances never lose a count.
 */
export const countAttempt = async (
  database: Database,
  key: string,
  now: string,
  expiredAtOrBefore: string,
): Promise<{ windowStart: string; count: number }> => {
  const expired = sql<boolean>`rate_limit_window.window_start <= ${expiredAtOrBefore}`;
  const row = await database.db
    .insertInto('rate_limit_window')
    .values({ key, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        window_start: sql<string>`CASE WHEN ${expired} THEN excluded.window_start ELSE rate_limit_window.window_start END`,
        count: sql<number>`CASE WHEN ${expired} THEN 1 ELSE rate_limit_window.count + 1 END`,
      }),
    )
    .returning(['window_start', 'count'])
    .executeTakeFirstOrThrow();
  return { windowStart: row.window_start, count: Number(row.count) };
};

/** Forgets a key's window (after a successful sign-in). */
export const resetAttempts = async (database: Database, key: string): Promise<void> => {
  await database.db.deleteFrom('rate_limit_window').where('key', '=', key).execute();
};

/** Deletes windows that ended, so the table holds only live ones. */
export const deleteExpiredWindows = async (database: Database, expiredAtOrBefore: string): Promise<void> => {
  await database.db.deleteFrom('rate_limit_window').where('window_start', '<=', expiredAtOrBefore).execute();
};
