import type { SignalRow } from '../api/quality.contract.js';
import type { Database } from './database.js';
import { chunks, type Tx } from './event.repository.js';
import { sql } from 'kysely';
import type { DeploymentFact, PrFact } from '../domain/quality.facts.js';
import type { QualityDeploymentTable, QualityPrTable, QualitySignalWeekTable } from './schema.js';

/** Storage of quality signals: every family writes and reads the same weekly rows. */

/** The detail fields a chart or tile shows: which SLO, the guardrail, its target. */
export const SUMMARY_DETAILS = ['slo', 'guardrail', 'inferred', 'target'] as const;

/** The chart's few fields of a row's details, or null. */
export const summaryOf = (details: Record<string, unknown> | null): Record<string, unknown> | null => {
  if (details === null) return null;
  const kept = Object.fromEntries(SUMMARY_DETAILS.filter((k) => k in details).map((k) => [k, details[k]]));
  return Object.keys(kept).length > 0 ? kept : null;
};

const toTable = (r: SignalRow): QualitySignalWeekTable => ({
  signal: r.signal,
  team: r.team,
  component: r.component ?? '',
  week: r.week,
  value: r.value,
  numerator: r.numerator,
  denominator: r.denominator,
  details: r.details === null ? null : JSON.stringify(r.details),
  summary: r.details === null ? null : JSON.stringify(summaryOf(r.details)),
});

const fromTable = (r: Omit<QualitySignalWeekTable, 'summary'>): SignalRow => ({
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
  /** Read each row's summary (the chart's few fields) as its details, not the full details. */
  summaryOnly?: boolean | undefined;
}

export const listSignals = async (database: Database, q: SignalQuery = {}): Promise<SignalRow[]> => {
  let query = database.db
    .selectFrom('quality_signal_week')
    .select(['signal', 'team', 'component', 'week', 'value', 'numerator', 'denominator'])
    .select(q.summaryOnly ? 'summary as details' : 'details');
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

// ---------------------------------------------------------------- facts (quality_pr, quality_deployment)

/** `a` if it is earlier than the stored value (or that is null), else the stored value: portable SQL. */
const earliestSql = (column: keyof QualityPrTable & string) =>
  sql<
    string | null
  >`case when excluded.${sql.ref(column)} is not null and (quality_pr.${sql.ref(column)} is null or excluded.${sql.ref(column)} < quality_pr.${sql.ref(column)}) then excluded.${sql.ref(column)} else quality_pr.${sql.ref(column)} end`;

const prRow = (p: PrFact): QualityPrTable => ({
  pr_key: p.prKey,
  repo: p.repo,
  number: p.number,
  item_key: p.itemKey,
  opened_at: p.openedAt,
  first_commit_at: p.firstCommitAt,
  first_review_at: p.firstReviewAt,
  merged_at: p.mergedAt,
  merge_sha: p.mergeSha,
  approved: p.approved ? 1 : 0,
  discussed: p.discussed ? 1 : 0,
  size: p.size,
});

/**
 * Merges PR records into `quality_pr` (one per key in `prs`): earliest times,
 * either review outcome, the largest size. The merge happens in the upsert
 * itself, so two transactions touching one PR never lose each other's facts.
 */
export const upsertPrFacts = async (tx: Tx, prs: readonly PrFact[]): Promise<void> => {
  for (const part of chunks(prs.map(prRow), 500)) {
    await tx.trx
      .insertInto('quality_pr')
      .values(part)
      .onConflict((oc) =>
        oc.column('pr_key').doUpdateSet({
          repo: sql<string | null>`coalesce(quality_pr.repo, excluded.repo)`,
          item_key: sql<string | null>`coalesce(quality_pr.item_key, excluded.item_key)`,
          opened_at: earliestSql('opened_at'),
          first_commit_at: earliestSql('first_commit_at'),
          first_review_at: earliestSql('first_review_at'),
          merged_at: earliestSql('merged_at'),
          merge_sha: sql<string | null>`coalesce(quality_pr.merge_sha, excluded.merge_sha)`,
          approved: sql<number>`case when excluded.approved > quality_pr.approved then excluded.approved else quality_pr.approved end`,
          discussed: sql<number>`case when excluded.discussed > quality_pr.discussed then excluded.discussed else quality_pr.discussed end`,
          size: sql<
            number | null
          >`case when quality_pr.size is null or excluded.size > quality_pr.size then excluded.size else quality_pr.size end`,
        }),
      )
      .execute();
  }
};

/** Adds deployment records (one per event; a replayed event is ignored). */
export const insertDeploymentFacts = async (tx: Tx, deployments: readonly DeploymentFact[]): Promise<void> => {
  const rows: QualityDeploymentTable[] = deployments.map((d) => ({
    event_id: d.eventId,
    repo: d.repo,
    service: d.service,
    deployment_id: d.deploymentId,
    environment: d.environment,
    at: d.at,
    shas: JSON.stringify(d.shas),
    prs: JSON.stringify(d.prs),
  }));
  for (const part of chunks(rows, 500)) {
    await tx.trx
      .insertInto('quality_deployment')
      .values(part)
      .onConflict((oc) => oc.column('event_id').doNothing())
      .execute();
  }
};

export const clearQualityFacts = async (tx: Tx): Promise<void> => {
  await tx.trx.deleteFrom('quality_pr').execute();
  await tx.trx.deleteFrom('quality_deployment').execute();
};
