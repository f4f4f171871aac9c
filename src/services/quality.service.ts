import type { SignalRow } from '../api/quality.contract.js';
import { weekOf } from '../domain/week.js';
import { withTransaction, type Tx } from '../store/event.repository.js';
import { replaceSignals, replaceSignalsInScope } from '../store/quality.repository.js';
import type { ServiceContext } from './context.js';
import { onAppended, type AppendedNotice } from './events.service.js';
import { computeDoraSignals, DORA_SIGNALS } from './dora.service.js';
import { ensureQualityFacts } from './quality.facts.service.js';
import { evaluateFindings, type EvaluateResult } from './findings.service.js';
import {
  BUG_SIGNALS,
  computeBugSignals,
  computeCoverageSignals,
  computePaceSignals,
  computeReviewSignals,
  COVERAGE_SIGNALS,
  PACE_SIGNALS,
  REVIEW_SIGNALS,
} from './quality.signals.js';
import { computeSloSignals, evaluateSloAlerts, SLO_SIGNALS } from './slo.service.js';
import { createRoundFailures } from './round.failures.js';

/**
 * Quality guardrails (PRODUCT.md C6): every signal family computed into the
 * weekly rows of `quality_signal_week`, then the findings catalog run over
 * them. Reads of the Quality page and the API use only these precomputed
 * rows, never the raw log.
 */

export interface QualityScope {
  now: Date;
  /** Only these teams (the ones new events touched); all when absent. */
  teams?: readonly string[] | undefined;
  /** Only weeks from this Monday on; all when absent. */
  sinceWeek?: string | undefined;
  /** Only these signal families (the ones the new events can move); all when absent. */
  families?: readonly FamilyName[] | undefined;
}

export type FamilyName = 'dora' | 'slo' | 'review' | 'coverage' | 'bugs' | 'pace';

const PR_KINDS = ['pr_opened', 'review_submitted', 'pr_merged'];
/**
 * The event kinds each family reads, directly or through the projection. Bug
 * flow and pace read items and their stage history, which any item event can
 * move; an event of another kind leaves the family's figures as they were.
 */
const FAMILY_KINDS: Record<FamilyName, (kind: string) => boolean> = {
  dora: (k) =>
    [...PR_KINDS, 'deployed', 'incident_declared', 'incident_resolved', 'linked', 'created', 'closed'].includes(k),
  slo: (k) => k === 'sli_sample' || k === 'slo_alert',
  review: (k) => PR_KINDS.includes(k),
  coverage: (k) => k === 'coverage_report',
  bugs: (k) => k !== 'sli_sample' && k !== 'coverage_report' && k !== 'slo_alert',
  pace: (k) => k !== 'sli_sample' && k !== 'coverage_report' && k !== 'slo_alert',
};

/** The families that events of these kinds can move. */
export const familiesOfKinds = (kinds: Iterable<string>): FamilyName[] => {
  const list = [...kinds];
  return (Object.keys(FAMILY_KINDS) as FamilyName[]).filter((f) => list.some(FAMILY_KINDS[f]));
};

type Compute = (ctx: ServiceContext, tx: Tx, scope: QualityScope) => Promise<SignalRow[]>;

const FAMILIES: readonly { name: FamilyName; signals: readonly string[]; compute: Compute }[] = [
  { name: 'dora', signals: DORA_SIGNALS, compute: computeDoraSignals },
  { name: 'slo', signals: SLO_SIGNALS, compute: computeSloSignals },
  { name: 'review', signals: REVIEW_SIGNALS, compute: computeReviewSignals },
  { name: 'coverage', signals: COVERAGE_SIGNALS, compute: computeCoverageSignals },
  { name: 'bugs', signals: BUG_SIGNALS, compute: computeBugSignals },
  { name: 'pace', signals: PACE_SIGNALS, compute: computePaceSignals },
];

export interface QualityRecompute {
  rows: number;
  ms: number;
  /** Milliseconds per family, and for the findings (and the one-time facts build, when it ran). */
  timings: Record<string, number>;
  findings: EvaluateResult;
}

const stripScope = (scope: QualityScope): QualityScope => ({
  now: scope.now,
  ...(scope.teams !== undefined ? { teams: scope.teams } : {}),
  ...(scope.sinceWeek !== undefined ? { sinceWeek: scope.sinceWeek } : {}),
});

/**
 * Computes the signals (all of them, or some teams from a week on) in one
 * transaction, then evaluates the findings. Readers see the old rows until it
 * commits.
 */
export const recomputeQuality = async (
  ctx: ServiceContext,
  scope: Partial<QualityScope> = {},
): Promise<QualityRecompute> => {
  const full: QualityScope = stripScope({
    now: scope.now ?? ctx.clock(),
    teams: scope.teams,
    sinceWeek: scope.sinceWeek,
  });
  const started = performance.now();
  const timings: Record<string, number> = {};
  const built = await ensureQualityFacts(ctx);
  if (built) timings['facts'] = built.ms;
  let rows = 0;
  await withTransaction(ctx.database, async (tx) => {
    for (const family of FAMILIES) {
      if (scope.families !== undefined && !scope.families.includes(family.name)) continue;
      const t0 = performance.now();
      const computed = await family.compute(ctx, tx, full);
      if (full.teams === undefined && full.sinceWeek === undefined) await replaceSignals(tx, family.signals, computed);
      else await replaceSignalsInScope(tx, family.signals, full, computed);
      rows += computed.length;
      timings[family.name] = Math.round(performance.now() - t0);
    }
  });
  // Alerts follow the samples: each firing or resolution is an `slo_alert` event (a read never evaluates them).
  if (scope.families === undefined || scope.families.includes('slo')) {
    const t1 = performance.now();
    await evaluateSloAlerts(ctx);
    timings['slo_alerts'] = Math.round(performance.now() - t1);
  }
  const t0 = performance.now();
  const findings = await evaluateFindings(ctx, full.now);
  timings['findings'] = Math.round(performance.now() - t0);
  return { rows, ms: Math.round(performance.now() - started), timings, findings };
};

/**
 * What the worker recomputes after some appends: the families their kinds can
 * move, the teams they touched (all teams when an event could not be placed
 * in one), from the week of the earliest event on.
 */
export const workerScopeOf = (notices: readonly AppendedNotice[]): Partial<QualityScope> => {
  const teams = new Set(notices.flatMap((n) => n.teams));
  const all = notices.some((n) => n.itemless);
  const earliest = notices.reduce(
    (min, n) => (n.earliestOccurredAt < min ? n.earliestOccurredAt : min),
    notices[0]!.earliestOccurredAt,
  );
  return {
    ...(all ? {} : { teams: [...teams] }),
    sinceWeek: weekOf(earliest),
    families: familiesOfKinds(notices.flatMap((n) => n.kinds)),
  };
};

export interface QualityWorker {
  start(): void;
  close(): Promise<void>;
}

/**
 * Keeps the signals and findings current while the server runs: a full
 * recompute at start, then, about every second, the teams and weeks that
 * this process's appends touched (all teams when an itemless event — a
 * deployment, an SLI sample, coverage — arrived), in the families whose
 * inputs those events' kinds are.
 */
export const createQualityWorker = (ctx: ServiceContext, options: { intervalMs?: number } = {}): QualityWorker => {
  const intervalMs = options.intervalMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let started = false;
  let pending: AppendedNotice[] = [];
  const unsubscribe = onAppended(ctx, (notice) => pending.push(notice));
  const pass = async (): Promise<void> => {
    if (!ctx.charter()) return;
    const taken = pending;
    pending = [];
    try {
      if (!started) {
        await recomputeQuality(ctx);
        started = true;
        return;
      }
      if (taken.length > 0) await recomputeQuality(ctx, workerScopeOf(taken));
    } catch (error) {
      // A failed pass (the database away) loses nothing: the next one recomputes what this one was to.
      if (started) pending = [...taken, ...pending];
      throw error;
    }
  };
  const failures = createRoundFailures(ctx, 'recomputing quality signals', { intervalMs });
  const tick = (): void => {
    let wait = intervalMs;
    running = pass()
      .then(() => void (wait = failures.succeeded()))
      .catch((error: unknown) => void (wait = failures.failed(error)))
      .finally(() => {
        running = undefined;
        if (timer !== undefined) timer = setTimeout(tick, wait);
      });
  };
  return {
    start: () => {
      if (timer === undefined) timer = setTimeout(tick, 0);
    },
    close: async () => {
      unsubscribe();
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
};
