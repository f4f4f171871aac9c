import { createHash } from 'node:crypto';
import type {
  BoundaryReport,
  CrossingExample,
  DecisionCounts,
  DirectionCounts,
  DomainReport,
  MiddlemanReport,
  MiddlemanWeek,
  RecomputeResult,
  TeamBoundaryReport,
  WeekReport,
} from '../api/boundaries.contract.js';
import { BoundaryEvaluator, logFilterOf, type Evaluation } from '../domain/boundary.evaluate.js';
import { mayCompleteStoredMove } from '../domain/boundary.moves.js';
import { weekOf } from '../domain/week.js';
import type { Charter } from '../domain/charter.schema.js';
import { mergeDomains, teamRaci } from '../domain/charter.validate.js';
import { buildDecisionRules, type DecisionRuleSet } from '../domain/decision.rules.js';
import { AppError } from '../domain/errors.js';
import { compareEvents, type LoggedEvent } from '../domain/event.js';
import type { ItemState } from '../domain/item.projection.js';
import {
  applyWeeklyDeltas,
  clearBoundaryRows,
  countLogEvents,
  decisionRowOf,
  insertBoundaryRows,
  listBoundaryWeeks,
  listMiddlemanWeeks,
  listOpenIncidents,
  listRecentCrossings,
  lockBoundariesExclusive,
  lockBoundariesShared,
  readLogInOrder,
  removeItemsBoundaryRows,
  setMetaInTx,
  signalRowOf,
  WeeklyDeltas,
} from '../store/boundary.repository.js';
import { getEventsOfItems, withTransaction, type Tx } from '../store/event.repository.js';
import { getMeta } from '../store/item.repository.js';
import type { BoundaryDecisionTable, MiddlemanSignalTable } from '../store/schema.js';
import type { ServiceContext } from './context.js';

/**
 * The boundary monitor's use cases (PRODUCT.md C3): evaluate new events as
 * they are appended, recompute everything when the charter or the rules
 * change, and report per team, domain, week and role from the weekly counts
 * (never by scanning the log per request, and never per person).
 */

const FINGERPRINT_KEY = 'boundaries.fingerprint';
const RECOMPUTED_AT_KEY = 'boundaries.recomputed_at';

const ruleSets = new WeakMap<Charter, DecisionRuleSet>();
const rulesOf = (charter: Charter): DecisionRuleSet => {
  let rules = ruleSets.get(charter);
  if (!rules) ruleSets.set(charter, (rules = buildDecisionRules(charter.decision_rules)));
  return rules;
};

/** What the stored judgements depend on: the charter (people, teams, domains, delegations, rules). */
export const boundaryFingerprint = (charter: Charter): string =>
  createHash('sha256').update(JSON.stringify(charter)).digest('hex').slice(0, 32);

/** Collects the rows and weekly deltas of a run of evaluations. */
class Collector {
  readonly decisions: BoundaryDecisionTable[] = [];
  readonly signals: MiddlemanSignalTable[] = [];
  readonly deltas = new WeeklyDeltas();
  decisionCount = 0;
  crossingCount = 0;
  signalCount = 0;

  addAll(evaluations: readonly Evaluation[]): void {
    for (const e of evaluations) this.add(e);
  }

  add(e: Evaluation): void {
    if (e.judgement) {
      const row = decisionRowOf(e.judgement, e.week);
      this.decisions.push(row);
      this.deltas.addDecision(row);
      this.decisionCount += 1;
      if (row.crossing === 1) this.crossingCount += 1;
    }
    if (e.signal) {
      const row = signalRowOf(e.signal);
      this.signals.push(row);
      this.deltas.addSignal(row);
      this.signalCount += 1;
    }
  }

  async flushRows(tx: Tx): Promise<void> {
    await insertBoundaryRows(tx, this.decisions, this.signals);
    this.decisions.length = 0;
    this.signals.length = 0;
  }
}

export interface AppendedEvents {
  /** Items as they stood before this append (absent for new items). */
  before: ReadonlyMap<string, ItemState>;
  /** Events stored by this append. */
  stored: readonly LoggedEvent[];
  /** Items re-projected from their whole history (an event arrived out of order), with that history. */
  replayed: ReadonlyMap<string, readonly LoggedEvent[]>;
}

/**
 * Items whose boundary judgements must be walked again from their first
 * event, beside those the projection replayed: a new change that may complete
 * a move whose first half is already stored (see `mayCompleteStoredMove`).
 */
const itemsToRewalk = (appended: AppendedEvents): string[] => {
  const keys = new Set<string>();
  for (const e of appended.stored) {
    if (e.itemKey === null || appended.replayed.has(e.itemKey) || keys.has(e.itemKey)) continue;
    const before = appended.before.get(e.itemKey);
    if (before && mayCompleteStoredMove(before.updatedAt, e)) keys.add(e.itemKey);
  }
  return [...keys];
};

/**
 * The incremental path, inside the append's transaction: judges the new
 * events against the item as it stood before each of them. Items walked again
 * from the start (out-of-order delivery, or the second half of a move whose
 * first half was stored earlier) have their old judgements replaced, so the
 * result equals a full recompute.
 */
export const evaluateAppended = async (ctx: ServiceContext, tx: Tx, appended: AppendedEvents): Promise<void> => {
  const loaded = ctx.charter();
  if (!loaded || appended.stored.length === 0) return;
  const evaluator = new BoundaryEvaluator({
    charter: loaded.charter,
    rules: rulesOf(loaded.charter),
    now: ctx.clock(),
  });
  const collector = new Collector();
  await lockBoundariesShared(tx);
  for (const incident of await listOpenIncidents(tx)) evaluator.seedIncident(incident);

  const rewalk = itemsToRewalk(appended);
  const histories: (readonly LoggedEvent[])[] = [...appended.replayed.values()];
  if (rewalk.length > 0) histories.push(await getEventsOfItems(tx, rewalk));
  const walked = new Set([...appended.replayed.keys(), ...rewalk]);
  const events: LoggedEvent[] = [];
  for (const e of appended.stored) if (e.itemKey === null || !walked.has(e.itemKey)) events.push(e);
  for (const [key, item] of appended.before) if (!walked.has(key)) evaluator.seedItem(item);
  if (walked.size > 0) {
    await removeItemsBoundaryRows(tx, [...walked], collector.deltas);
    for (const history of histories) events.push(...history);
  }
  events.sort(compareEvents);
  for (const e of events) collector.addAll(evaluator.evaluate(e));
  collector.addAll(evaluator.flush());
  await collector.flushRows(tx);
  await applyWeeklyDeltas(tx, collector.deltas);
};

/**
 * Throws every judgement away and walks the whole log again with the charter
 * in force, in one transaction (readers see the old figures until it commits).
 */
export const recomputeBoundaries = async (ctx: ServiceContext): Promise<RecomputeResult> => {
  const loaded = ctx.charter();
  if (!loaded) {
    throw new AppError('LANES_CHARTER_NOT_FOUND', 'no charter is loaded: boundaries are held against the charter');
  }
  const started = performance.now();
  const charter = loaded.charter;
  return withTransaction(ctx.database, async (tx) => {
    await lockBoundariesExclusive(tx);
    await clearBoundaryRows(tx);
    const rules = rulesOf(charter);
    const evaluator = new BoundaryEvaluator({ charter, rules, now: ctx.clock() });
    const collector = new Collector();
    let events = 0;
    for await (const page of readLogInOrder(tx, logFilterOf(rules))) {
      for (const e of page) collector.addAll(evaluator.evaluate(e));
      events += page.length;
      if (collector.decisions.length + collector.signals.length >= 5000) await collector.flushRows(tx);
    }
    collector.addAll(evaluator.flush());
    await collector.flushRows(tx);
    await applyWeeklyDeltas(tx, collector.deltas);
    await setMetaInTx(tx, FINGERPRINT_KEY, boundaryFingerprint(charter));
    await setMetaInTx(tx, RECOMPUTED_AT_KEY, ctx.clock().toISOString());
    return {
      events: await countLogEvents(tx),
      eventsRead: events,
      decisions: collector.decisionCount,
      crossings: collector.crossingCount,
      middleman: collector.signalCount,
      ms: Math.round(performance.now() - started),
    };
  });
};

/** True when the stored judgements were made under the charter in force. */
export const boundariesCurrent = async (ctx: ServiceContext): Promise<boolean> => {
  const loaded = ctx.charter();
  if (!loaded) return false;
  return (await getMeta(ctx.database, FINGERPRINT_KEY)) === boundaryFingerprint(loaded.charter);
};

/**
 * Recomputes when the charter changed since the last recompute (at start and
 * after a reload). Returns null when nothing had to be done.
 */
export const recomputeBoundariesIfStale = async (ctx: ServiceContext): Promise<RecomputeResult | null> => {
  if (!ctx.charter() || (await boundariesCurrent(ctx))) return null;
  return recomputeBoundaries(ctx);
};

// ---------------------------------------------------------------------------
// Reports

const DAY_MS = 86_400_000;
export const DEFAULT_SINCE = '90d';

/** The first week counted: `90d` (days back from now) or a date, as the Monday of its week. */
export const sinceWeekOf = (since: string | undefined, now: Date): string => {
  const value = since ?? DEFAULT_SINCE;
  const days = /^(\d{1,4})d$/.exec(value);
  if (days) return weekOf(new Date(now.getTime() - Number(days[1]) * DAY_MS).toISOString());
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))) return weekOf(`${value}T00:00:00Z`);
  throw new AppError('LANES_VALIDATION', `since "${value}" is not a number of days (90d) or a date (2026-01-31)`, {
    since: value,
  });
};

/** Every Monday from `first` to the week of `now`. */
const weeksBetween = (first: string, now: Date): string[] => {
  const last = weekOf(now.toISOString());
  const out: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); ; t += 7 * DAY_MS) {
    const w = new Date(t).toISOString().slice(0, 10);
    if (w > last || out.length > 600) break;
    out.push(w);
  }
  return out;
};

const emptyDirections = (): DirectionCounts => ({ product_to_engineering: 0, engineering_to_product: 0, other: 0 });
const emptyCounts = (): DecisionCounts => ({
  decisions: 0,
  inLane: 0,
  crossings: 0,
  bots: 0,
  charterGaps: 0,
  shareInLane: null,
});

const count = (c: DecisionCounts, standing: string, n: number): void => {
  c.decisions += n;
  if (standing === 'decider') c.inLane += n;
  else if (standing === 'bot') c.bots += n;
  else if (standing === 'unknown') c.charterGaps += n;
  else c.crossings += n;
};

const finish = <T extends DecisionCounts>(c: T): T => {
  const judged = c.inLane + c.crossings;
  c.shareInLane = judged === 0 ? null : Math.round((c.inLane / judged) * 1000) / 1000;
  return c;
};

const isDirection = (d: string): d is keyof DirectionCounts =>
  d === 'product_to_engineering' || d === 'engineering_to_product' || d === 'other';

const EXAMPLES = 10;

const toExample = (r: BoundaryDecisionTable): CrossingExample => ({
  eventId: r.event_id,
  itemKey: r.item_key,
  occurredAt: r.occurred_at,
  domain: r.domain,
  direction: isDirection(r.direction) ? r.direction : 'other',
  standing: r.standing,
  actorRole: r.actor_role === 'unknown' || r.actor_role === 'bot' ? null : r.actor_role,
  sentence: r.sentence,
});

export interface ReportQuery {
  team?: string | undefined;
  since?: string | undefined;
}

const teamsOf = (charter: Charter | undefined, team: string | undefined): { id: string; name: string }[] => {
  const teams = (charter?.teams ?? []).map((t) => ({ id: t.id, name: t.name }));
  if (team === undefined) return teams;
  const found = teams.filter((t) => t.id === team);
  if (found.length === 0) {
    throw new AppError('LANES_NOT_FOUND', `team "${team}" is not in the charter`, { team });
  }
  return found;
};

/** Boundaries per team: share in lane per domain, weekly trend, directions, concentration, recent examples. */
export const boundaryReport = async (ctx: ServiceContext, query: ReportQuery = {}): Promise<BoundaryReport> => {
  const now = ctx.clock();
  const sinceWeek = sinceWeekOf(query.since, now);
  const charter = ctx.charter()?.charter;
  const teams = teamsOf(charter, query.team);
  const rows = await listBoundaryWeeks(ctx.database, sinceWeek, query.team);
  const domains = new Map(charter ? mergeDomains(charter).map((d) => [d.id, d]) : []);
  const weeks = weeksBetween(sinceWeek, now);

  const reports: TeamBoundaryReport[] = [];
  for (const team of teams) {
    const charterTeam = charter?.teams.find((t) => t.id === team.id);
    const totals = { ...emptyCounts(), directions: emptyDirections() };
    const byDomain = new Map<string, DomainReport & { roles: Map<string, { decisions: number; crossings: number }> }>();
    const byWeek = new Map<string, WeekReport>(
      weeks.map((w) => [w, { week: w, ...emptyCounts(), directions: emptyDirections() }]),
    );
    for (const r of rows) {
      if (r.team !== team.id) continue;
      const n = r.decisions;
      const crossing = r.standing === 'consulted' || r.standing === 'informed' || r.standing === 'outside';
      count(totals, r.standing, n);
      let d = byDomain.get(r.domain);
      if (!d) {
        const resolved = domains.get(r.domain);
        const raci = resolved && charterTeam ? teamRaci(resolved, charterTeam) : undefined;
        d = {
          domain: r.domain,
          title: resolved?.title ?? r.domain,
          decidedBy: raci?.decides[0] ?? null,
          ...emptyCounts(),
          directions: emptyDirections(),
          byRole: [],
          roles: new Map(),
        };
        byDomain.set(r.domain, d);
      }
      count(d, r.standing, n);
      const role = d.roles.get(r.actor_role) ?? { decisions: 0, crossings: 0 };
      role.decisions += n;
      if (crossing) role.crossings += n;
      d.roles.set(r.actor_role, role);
      let w = byWeek.get(r.week);
      if (!w) byWeek.set(r.week, (w = { week: r.week, ...emptyCounts(), directions: emptyDirections() }));
      count(w, r.standing, n);
      if (crossing && isDirection(r.direction)) {
        totals.directions[r.direction] += n;
        d.directions[r.direction] += n;
        w.directions[r.direction] += n;
      }
    }
    const domainList: DomainReport[] = [...byDomain.values()]
      .map(({ roles, ...d }) =>
        finish({
          ...d,
          byRole: [...roles].map(([role, c]) => ({ role, ...c })).sort((a, b) => a.role.localeCompare(b.role)),
        }),
      )
      .sort((a, b) => b.decisions - a.decisions || a.domain.localeCompare(b.domain));
    const crossingsTotal = totals.crossings;
    const examples =
      crossingsTotal === 0
        ? []
        : (await listRecentCrossings(ctx.database, team.id, `${sinceWeek}T00:00:00.000Z`, EXAMPLES)).map(toExample);
    reports.push({
      team,
      totals: finish(totals),
      domains: domainList,
      weeks: [...byWeek.values()].sort((a, b) => a.week.localeCompare(b.week)).map(finish),
      concentration: domainList
        .filter((d) => d.crossings > 0)
        .map((d) => ({
          domain: d.domain,
          title: d.title,
          crossings: d.crossings,
          share: Math.round((d.crossings / crossingsTotal) * 1000) / 1000,
        }))
        .sort((a, b) => b.crossings - a.crossings || a.domain.localeCompare(b.domain)),
      examples,
    });
  }
  return {
    since: sinceWeek,
    generatedAt: now.toISOString(),
    current: await boundariesCurrent(ctx),
    recomputedAt: (await getMeta(ctx.database, RECOMPUTED_AT_KEY)) ?? null,
    teams: reports,
  };
};

const emptyLoad = (): Omit<MiddlemanWeek, 'week'> => ({ pings: 0, relays: 0, portalLookups: 0 });

const addLoad = (into: Omit<MiddlemanWeek, 'week'>, kind: string, n: number): void => {
  if (kind === 'ping') into.pings += n;
  else if (kind === 'relay') into.relays += n;
  else if (kind === 'portal_lookup') into.portalLookups += n;
};

/** Middleman load per team and per product manager, per week. */
export const middlemanReport = async (ctx: ServiceContext, query: ReportQuery = {}): Promise<MiddlemanReport> => {
  const now = ctx.clock();
  const sinceWeek = sinceWeekOf(query.since, now);
  const charter = ctx.charter()?.charter;
  const teams = teamsOf(charter, query.team);
  const rows = await listMiddlemanWeeks(ctx.database, sinceWeek, query.team);
  const weeks = weeksBetween(sinceWeek, now);
  const people = new Map((charter?.people ?? []).map((p) => [p.id, p]));
  return {
    since: sinceWeek,
    generatedAt: now.toISOString(),
    teams: teams.map((team) => {
      const charterTeam = charter?.teams.find((t) => t.id === team.id);
      const teamWeeks = new Map<string, MiddlemanWeek>(weeks.map((w) => [w, { week: w, ...emptyLoad() }]));
      const totals = emptyLoad();
      // Every product manager of the team, in charter order (never ordered by load).
      const pmIds = [
        ...new Set([
          ...(charterTeam ? [charterTeam.trio.product] : []),
          ...(charterTeam?.members ?? []).filter((id) => people.get(id)?.role === 'product-manager'),
        ]),
      ];
      const perPm = new Map(
        pmIds.map((id) => [
          id,
          {
            weeks: new Map<string, MiddlemanWeek>(weeks.map((w) => [w, { week: w, ...emptyLoad() }])),
            totals: emptyLoad(),
          },
        ]),
      );
      for (const r of rows) {
        if (r.team !== team.id) continue;
        let w = teamWeeks.get(r.week);
        if (!w) teamWeeks.set(r.week, (w = { week: r.week, ...emptyLoad() }));
        addLoad(w, r.kind, r.signals);
        addLoad(totals, r.kind, r.signals);
        if (r.person_id === '') continue;
        let pm = perPm.get(r.person_id);
        if (!pm) perPm.set(r.person_id, (pm = { weeks: new Map(), totals: emptyLoad() }));
        let pw = pm.weeks.get(r.week);
        if (!pw) pm.weeks.set(r.week, (pw = { week: r.week, ...emptyLoad() }));
        addLoad(pw, r.kind, r.signals);
        addLoad(pm.totals, r.kind, r.signals);
      }
      const byWeek = (m: Map<string, MiddlemanWeek>): MiddlemanWeek[] =>
        [...m.values()].sort((a, b) => a.week.localeCompare(b.week));
      return {
        team,
        weeks: byWeek(teamWeeks),
        totals,
        productManagers: [...perPm].map(([personId, pm]) => ({
          personId,
          name: people.get(personId)?.name ?? personId,
          weeks: byWeek(pm.weeks),
          totals: pm.totals,
        })),
      };
    }),
  };
};
