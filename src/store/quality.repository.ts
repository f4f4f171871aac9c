import type { SignalRow } from '../api/quality.contract.js';
import type { Database } from './database.js';
import { chunks, type Tx } from './event.repository.js';
import type { QualitySignalWeekTable } from './schema.js';

/** Storage of quality signals: every family writes and reads the same weekly rows. */

const toTable = (r: SignalRow): QualitySignalWeekTable => ({
  signal: r.signal,
  team: r.team,
  component: r.component ?? '',
  week: r.week,
  value: r.value,
  numerator: r.numerator,
  denominator: r.denominator,
  details: r.details === null ? null : JSON.stringify(r.details),
});

const fromTable = (r: QualitySignalWeekTable): SignalRow => ({
  signal: r.signal,
  team: r.team,
  component: r.component === '' ? null : r.component,
  week: r.week,
  value: r.value === null ? null : Number(r.value),
  numerator: r.numerator === null ? null : Number(r.numerator),
  denominator: r.denominator === null ? null : Number(r.denominator),
  details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>),
});

/**
 * Replaces every row of the given signals (all scopes and weeks) with `rows`,
 * inside the caller's transaction: a family recomputes its signals whole.
 */
export const replaceSignals = async (tx: Tx, signals: readonly string[], rows: readonly SignalRow[]): Promise<void> => {
  for (const part of chunks([...signals])) {
    await tx.trx.deleteFrom('quality_signal_week').where('signal', 'in', part).execute();
  }
  for (const part of chunks(rows.map(toTable), 500)) {
    await tx.trx.insertInto('quality_signal_week').values(part).execute();
  }
};

/** Upserts rows (an incremental update of some weeks of some signals). */
export const upsertSignals = async (tx: Tx, rows: readonly SignalRow[]): Promise<void> => {
  for (const part of chunks(rows.map(toTable), 500)) {
    await tx.trx
      .insertInto('quality_signal_week')
      .values(part)
      .onConflict((oc) =>
        oc.columns(['team', 'component', 'signal', 'week']).doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          numerator: eb.ref('excluded.numerator'),
          denominator: eb.ref('excluded.denominator'),
          details: eb.ref('excluded.details'),
        })),
      )
      .execute();
  }
};

export interface SignalQuery {
  team?: string | undefined;
  /** undefined: every scope; null: team level only; a string: that component. */
  component?: string | null | undefined;
  signals?: readonly string[] | undefined;
  sinceWeek?: string | undefined;
}

export const listSignals = async (database: Database, q: SignalQuery = {}): Promise<SignalRow[]> => {
  let query = database.db.selectFrom('quality_signal_week').selectAll();
  if (q.team !== undefined) query = query.where('team', '=', q.team);
  if (q.component !== undefined) query = query.where('component', '=', q.component ?? '');
  if (q.signals !== undefined && q.signals.length > 0) query = query.where('signal', 'in', [...q.signals]);
  if (q.sinceWeek !== undefined) query = query.where('week', '>=', q.sinceWeek);
  const rows = await query.orderBy('signal').orderBy('team').orderBy('component').orderBy('week').execute();
  return rows.map(fromTable);
};

/**
 * Replaces the rows of these signals for some teams from a week on (an
 * incremental recompute after new events), inside the caller's transaction.
 */
export const replaceSignalsInScope = async (
  tx: Tx,
  signals: readonly string[],
  scope: { teams?: readonly string[] | undefined; sinceWeek?: string | undefined },
  rows: readonly SignalRow[],
): Promise<void> => {
  let query = tx.trx.deleteFrom('quality_signal_week').where('signal', 'in', [...signals]);
  if (scope.teams !== undefined) query = query.where('team', 'in', scope.teams.length > 0 ? [...scope.teams] : ['']);
  if (scope.sinceWeek !== undefined) query = query.where('week', '>=', scope.sinceWeek);
  await query.execute();
  for (const part of chunks(rows.map(toTable), 500)) {
    await tx.trx.insertInto('quality_signal_week').values(part).execute();
  }
};
