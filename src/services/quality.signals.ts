import { weekOf, weekStart } from '../domain/week.js';
import { sql, type RawBuilder } from 'kysely';
import { SIGNALS, type SignalRow } from '../api/quality.contract.js';
import { defaultQualitySettings, type QualitySettings } from '../domain/quality.settings.js';
import type { Tx } from '../store/event.repository.js';
import type { ServiceContext } from './context.js';

/**
 * Review rigor, test coverage, bug flow and sustainable pace (docs/quality-signals.md):
 * one `SignalRow` per signal, scope and week. Counting happens in SQL (GROUP BY
 * week or per pull request); JavaScript only buckets the grouped rows, so a
 * workspace of a million items is read as a few small result sets.
 */

export const REVIEW_SIGNALS = SIGNALS.review;
export const COVERAGE_SIGNALS = SIGNALS.coverage;
export const BUG_SIGNALS = SIGNALS.bugs;
export const PACE_SIGNALS = SIGNALS.pace;

export interface SignalScope {
  now: Date;
  teams?: readonly string[];
  /** First week (Monday, YYYY-MM-DD) to compute; default 104 weeks before `now`. */
  sinceWeek?: string;
}

/** PRs over this many changed lines (additions + deletions) are large. */
export const LARGE_PR_LINES = 400;
/** The most ids a `details` list carries. */
export const DETAIL_IDS = 50;
const DEFAULT_WEEKS = 104;
const DAY = 86_400_000;
const WEEK = 7 * DAY;

// ---------------------------------------------------------------- weeks

const weeksOf = (scope: SignalScope): string[] => {
  const last = weekOf(scope.now.getTime());
  const first = scope.sinceWeek ?? weekOf(scope.now.getTime() - (DEFAULT_WEEKS - 1) * WEEK);
  const out: string[] = [];
  for (let t = weekStart(weekOf(weekStart(first))); t <= weekStart(last); t += WEEK) out.push(weekOf(t));
  return out;
};

/** The SQL expression for the Monday (YYYY-MM-DD) of an ISO-8601 text column. */
const weekSql = (tx: Tx, column: string): RawBuilder<string> =>
  tx.engine === 'sqlite'
    ? sql<string>`date(${sql.ref(column)}, 'weekday 0', '-6 days')`
    : sql<string>`to_char(substr(${sql.ref(column)}, 1, 10)::date - (extract(isodow from substr(${sql.ref(column)}, 1, 10)::date)::int - 1), 'YYYY-MM-DD')`;

const teamFilter = (column: string, teams: readonly string[] | undefined): RawBuilder<unknown> =>
  teams === undefined
    ? sql`1 = 1`
    : teams.length === 0
      ? sql`1 = 0`
      : sql`${sql.ref(column)} in (${sql.join(teams.map((t) => sql`${t}`))})`;

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

// ---------------------------------------------------------------- rows

interface Cell {
  team: string;
  component: string | null;
  week: string;
}
const cellKey = (team: string, component: string | null, week: string) =>
  `${team}\u0001${component ?? ''}\u0001${week}`;

/** Per scope and week accumulators, for the component and its team at once. */
class Buckets<T> {
  readonly cells = new Map<string, Cell & { acc: T }>();
  readonly scopes = new Map<string, { team: string; component: string | null }>();
  constructor(private readonly fresh: () => T) {}
  get(team: string, component: string | null, week: string): T {
    const key = cellKey(team, component, week);
    let cell = this.cells.get(key);
    if (!cell) this.cells.set(key, (cell = { team, component, week, acc: this.fresh() }));
    this.scopes.set(`${team}\u0001${component ?? ''}`, { team, component });
    return cell.acc;
  }
  /** Both the component's cell and the team-level cell. */
  both(team: string, component: string | null, week: string): T[] {
    return component === null
      ? [this.get(team, null, week)]
      : [this.get(team, component, week), this.get(team, null, week)];
  }
  peek(team: string, component: string | null, week: string): T | undefined {
    return this.cells.get(cellKey(team, component, week))?.acc;
  }
}

const ratio = (n: number, d: number): number | null => (d > 0 ? n / d : null);

const row = (
  signal: string,
  c: { team: string; component: string | null },
  week: string,
  value: number | null,
  numerator: number | null,
  denominator: number | null,
  details: Record<string, unknown> | null,
): SignalRow => ({ signal, team: c.team, component: c.component, week, value, numerator, denominator, details });

const capped = (ids: Iterable<string>): string[] => {
  const out: string[] = [];
  for (const id of ids) {
    if (out.length >= DETAIL_IDS) break;
    out.push(id);
  }
  return out;
};

const pushCapped = (list: string[], id: string): void => {
  if (list.length < DETAIL_IDS) list.push(id);
};

/** Median and other quantiles by nearest rank on a sorted copy. */
export const quantile = (values: readonly number[], q: number): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  if (q === 0.5) {
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
};
const round = (v: number | null, digits = 2): number | null =>
  v === null ? null : Math.round(v * 10 ** digits) / 10 ** digits;

const settingsOf = (ctx: ServiceContext): QualitySettings => ctx.charter()?.charter.quality ?? defaultQualitySettings();

/** Repository → scope from the charter's GitHub mapping. */
const repoScopes = (ctx: ServiceContext): Map<string, { team: string; component: string | null }> => {
  const repos = ctx.charter()?.charter.connectors?.github?.repos ?? {};
  return new Map(
    Object.entries(repos).map(([repo, s]) => [repo.toLowerCase(), { team: s.team, component: s.component ?? null }]),
  );
};
const teamOfComponent = (ctx: ServiceContext, component: string): string | null =>
  ctx.charter()?.index.teamByComponent.get(component) ?? null;

const inTeams = (scope: SignalScope, team: string | null): team is string =>
  team !== null && (scope.teams === undefined || scope.teams.includes(team));

// ---------------------------------------------------------------- review rigor

interface PrRow {
  pr_key: string;
  team: string | null;
  component: string | null;
  repo: string | null;
  opened_at: string | null;
  first_review_at: string | null;
  merged_at: string;
  approved: number | string;
  discussed: number | string;
  size: number | string | null;
}

/** Code review rigor, per merge week: one row per merged PR (`quality_pr`, each PR once by repository and number). */
export const computeReviewSignals = async (ctx: ServiceContext, tx: Tx, scope: SignalScope): Promise<SignalRow[]> => {
  const weeks = weeksOf(scope);
  // One row per merged PR from the facts kept at append time (src/domain/quality.facts.ts), with its item's scope.
  const result = await sql<PrRow>`
    select p.pr_key, i.team, i.component, p.repo, p.opened_at, p.first_review_at, p.merged_at,
      p.approved, p.discussed, p.size
    from quality_pr p left join item i on i.key = p.item_key
    where p.merged_at >= ${new Date(weekStart(weeks[0]!)).toISOString()}
  `.execute(tx.trx);

  const repos = repoScopes(ctx);
  interface Acc {
    merged: number;
    unreviewed: string[];
    unreviewedCount: number;
    firstReviewH: number[];
    reviewed: string[];
    large: number;
    largeIds: string[];
    silent: number;
    silentIds: string[];
    merged_ids: string[];
  }
  const buckets = new Buckets<Acc>(() => ({
    merged: 0,
    unreviewed: [],
    unreviewedCount: 0,
    firstReviewH: [],
    reviewed: [],
    large: 0,
    largeIds: [],
    silent: 0,
    silentIds: [],
    merged_ids: [],
  }));
  for (const r of result.rows) {
    const mapped = r.repo ? repos.get(r.repo.toLowerCase()) : undefined;
    const component = r.component ?? mapped?.component ?? null;
    const team = r.team ?? mapped?.team ?? (component ? teamOfComponent(ctx, component) : null);
    if (!inTeams(scope, team)) continue;
    const week = weekOf(Date.parse(r.merged_at));
    const approved = num(r.approved) > 0;
    const large = num(r.size) > LARGE_PR_LINES;
    const silent = large && approved && num(r.discussed) === 0;
    const hours =
      r.opened_at && r.first_review_at && r.first_review_at >= r.opened_at
        ? (Date.parse(r.first_review_at) - Date.parse(r.opened_at)) / 3_600_000
        : null;
    for (const a of buckets.both(team, component, week)) {
      a.merged += 1;
      pushCapped(a.merged_ids, r.pr_key);
      if (!approved) {
        a.unreviewedCount += 1;
        pushCapped(a.unreviewed, r.pr_key);
      }
      if (hours !== null) {
        a.firstReviewH.push(hours);
        pushCapped(a.reviewed, r.pr_key);
      }
      if (large) {
        a.large += 1;
        pushCapped(a.largeIds, r.pr_key);
      }
      if (silent) {
        a.silent += 1;
        pushCapped(a.silentIds, r.pr_key);
      }
    }
  }
  const rows: SignalRow[] = [];
  for (const s of buckets.scopes.values()) {
    for (const week of weeks) {
      const a = buckets.peek(s.team, s.component, week);
      const merged = a?.merged ?? 0;
      rows.push(
        row(
          'review.unreviewed_share',
          s,
          week,
          ratio(a?.unreviewedCount ?? 0, merged),
          a?.unreviewedCount ?? 0,
          merged,
          {
            prs: a?.unreviewed ?? [],
          },
        ),
        row(
          'review.first_review_median_h',
          s,
          week,
          round(quantile(a?.firstReviewH ?? [], 0.5)),
          null,
          a?.firstReviewH.length ?? 0,
          {
            prs: a?.reviewed ?? [],
          },
        ),
        row(
          'review.first_review_p90_h',
          s,
          week,
          round(quantile(a?.firstReviewH ?? [], 0.9)),
          null,
          a?.firstReviewH.length ?? 0,
          {
            prs: a?.reviewed ?? [],
          },
        ),
        row('review.large_pr_share', s, week, ratio(a?.large ?? 0, merged), a?.large ?? 0, merged, {
          prs: a?.largeIds ?? [],
          threshold_lines: LARGE_PR_LINES,
        }),
        row(
          'review.silent_large_approvals',
          s,
          week,
          ratio(a?.silent ?? 0, a?.large ?? 0),
          a?.silent ?? 0,
          a?.large ?? 0,
          {
            prs: a?.silentIds ?? [],
          },
        ),
      );
    }
  }
  return rows;
};

// ---------------------------------------------------------------- coverage

interface CoverageEventRow {
  id: string;
  occurred_at: string;
  data: string | null;
  team: string | null;
  component: string | null;
}

const countOf = (v: unknown): { covered: number; total: number } | null => {
  if (typeof v !== 'object' || v === null) return null;
  const c = Number((v as Record<string, unknown>).covered);
  const t = Number((v as Record<string, unknown>).total);
  return Number.isFinite(c) && Number.isFinite(t) && t >= 0 ? { covered: c, total: t } : null;
};
const pctOf = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Line and branch coverage per component and week: the latest `coverage_report`
 * of the week (component from the report, else its repository's mapping, else
 * its item). Team level: covered ÷ total over the team's components' latest reports.
 */
export const computeCoverageSignals = async (ctx: ServiceContext, tx: Tx, scope: SignalScope): Promise<SignalRow[]> => {
  const weeks = weeksOf(scope);
  const since = new Date(weekStart(weeks[0]!)).toISOString();
  const result = await sql<CoverageEventRow>`
    select e.id, e.occurred_at, e.data, i.team, i.component
    from event e left join item i on i.key = e.item_key
    where e.kind = 'coverage_report' and e.occurred_at >= ${since}
    order by e.occurred_at, e.id
  `.execute(tx.trx);
  const settings = settingsOf(ctx);
  const repos = repoScopes(ctx);
  interface Report {
    id: string;
    line: number | null;
    branch: number | null;
    lines: { covered: number; total: number } | null;
    branches: { covered: number; total: number } | null;
  }
  // Latest report per (team, component, week): rows come in time order.
  const latest = new Map<string, Cell & { report: Report }>();
  for (const r of result.rows) {
    let data: Record<string, unknown>;
    try {
      data = r.data ? (JSON.parse(r.data) as Record<string, unknown>) : {};
    } catch {
      continue;
    }
    const repo = typeof data.repo === 'string' ? data.repo.toLowerCase() : null;
    const mapped = repo ? repos.get(repo) : undefined;
    const component = (typeof data.component === 'string' ? data.component : null) ?? mapped?.component ?? r.component;
    if (component === null) continue;
    const team =
      (typeof data.team === 'string' ? data.team : null) ?? mapped?.team ?? r.team ?? teamOfComponent(ctx, component);
    if (!inTeams(scope, team)) continue;
    const lines = countOf(data.lines);
    const branches = countOf(data.branches);
    const report: Report = {
      id: r.id,
      lines,
      branches,
      line: lines ? (lines.total > 0 ? (100 * lines.covered) / lines.total : null) : pctOf(data.lines_pct),
      branch: branches
        ? branches.total > 0
          ? (100 * branches.covered) / branches.total
          : null
        : pctOf(data.branches_pct),
    };
    const week = weekOf(Date.parse(r.occurred_at));
    latest.set(cellKey(team, component, week), { team, component, week, report });
  }
  // Team level: sum the counts of the components' latest reports; reports that only carry percentages are averaged.
  const teamCells = new Map<string, { team: string; week: string; reports: Report[] }>();
  for (const c of latest.values()) {
    const key = cellKey(c.team, null, c.week);
    let t = teamCells.get(key);
    if (!t) teamCells.set(key, (t = { team: c.team, week: c.week, reports: [] }));
    t.reports.push(c.report);
  }
  const combine = (reports: Report[], which: 'line' | 'branch') => {
    const counts = reports.map((r) => (which === 'line' ? r.lines : r.branches));
    if (counts.every((c) => c !== null)) {
      const covered = counts.reduce((s, c) => s + c!.covered, 0);
      const total = counts.reduce((s, c) => s + c!.total, 0);
      return { value: total > 0 ? (100 * covered) / total : null, numerator: covered, denominator: total };
    }
    const pcts = reports.map((r) => r[which]).filter((v): v is number => v !== null);
    return {
      value: pcts.length > 0 ? pcts.reduce((s, v) => s + v, 0) / pcts.length : null,
      numerator: null,
      denominator: null,
    };
  };
  const scopes = new Map<string, { team: string; component: string | null }>();
  for (const c of latest.values()) {
    scopes.set(`${c.team}\u0001${c.component}`, { team: c.team, component: c.component });
    scopes.set(`${c.team}\u0001`, { team: c.team, component: null });
  }
  const rows: SignalRow[] = [];
  for (const s of scopes.values()) {
    const guard = s.component === null ? undefined : settings.coverage[s.component];
    for (const week of weeks) {
      const reports =
        s.component === null
          ? (teamCells.get(cellKey(s.team, null, week))?.reports ?? [])
          : [latest.get(cellKey(s.team, s.component, week))?.report].filter((r): r is Report => r !== undefined);
      for (const which of ['line', 'branch'] as const) {
        const { value, numerator, denominator } = combine(reports, which);
        rows.push(
          row(`coverage.${which}`, s, week, round(value), numerator, denominator, {
            reports: reports.map((r) => r.id),
            guardrail: guard?.[which] ?? null,
          }),
        );
      }
    }
  }
  return rows;
};

// ---------------------------------------------------------------- bug flow

interface WeekCountRow {
  team: string | null;
  component: string | null;
  week: string;
  n: number | string;
}
interface BugRow {
  key: string;
  team: string | null;
  component: string | null;
  created_at: string;
  closed_at: string | null;
  labels: string;
}

const PAGE = 20_000;
/** Some teams' open bugs are read in one go (a page re-reads and sorts them all). */
const TEAM_PAGE = 100_000;

/**
 * Bug flow per component and week. Inflow, escaped defects and regressions by
 * creation week; outflow (a bug's fix going live: stage change into `live` or
 * `verified`) and reopens (`reopened` events) grouped by week in SQL; open
 * count and open-bug age at the end of each week from the bugs' created and
 * closed times, read a page at a time.
 */
export const computeBugSignals = async (ctx: ServiceContext, tx: Tx, scope: SignalScope): Promise<SignalRow[]> => {
  const weeks = weeksOf(scope);
  const since = new Date(weekStart(weeks[0]!)).toISOString();
  const settings = settingsOf(ctx);
  const escaped = new Set(settings.escaped_labels.map((l) => l.toLowerCase()));
  const regression = new Set(settings.regression_labels.map((l) => l.toLowerCase()));
  const weekIndex = new Map(weeks.map((w, i) => [w, i]));
  const firstMs = weekStart(weeks[0]!);
  const endOf = (i: number) => firstMs + (i + 1) * WEEK;

  interface Acc {
    inflow: number;
    inflowIds: string[];
    outflow: number;
    reopened: number;
    escaped: number;
    escapedIds: string[];
    regressions: number;
    regressionIds: string[];
    open: number;
    openIds: string[];
    ages: number[];
  }
  const buckets = new Buckets<Acc>(() => ({
    inflow: 0,
    inflowIds: [],
    outflow: 0,
    reopened: 0,
    escaped: 0,
    escapedIds: [],
    regressions: 0,
    regressionIds: [],
    open: 0,
    openIds: [],
    ages: [],
  }));

  const weekOfStage = weekSql(tx, 's.occurred_at');
  const outflow = await sql<WeekCountRow>`
    select i.team, i.component, ${weekOfStage} as week, count(*) as n
    from item_stage_change s join item i on i.key = s.item_key
    where s.to_stage in ('fixed', 'live', 'verified') and (s.from_stage is null or s.from_stage not in ('fixed', 'live', 'verified'))
      and s.occurred_at >= ${since} and i.kind = 'bug' and ${teamFilter('i.team', scope.teams)}
    group by i.team, i.component, ${weekOfStage}
  `.execute(tx.trx);
  for (const r of outflow.rows) {
    if (!inTeams(scope, r.team) || !weekIndex.has(r.week)) continue;
    for (const a of buckets.both(r.team, r.component, r.week)) a.outflow += num(r.n);
  }
  const weekOfEvent = weekSql(tx, 'e.occurred_at');
  const reopened = await sql<WeekCountRow>`
    select i.team, i.component, ${weekOfEvent} as week, count(*) as n
    from event e join item i on i.key = e.item_key
    where e.kind = 'reopened' and e.occurred_at >= ${since} and i.kind = 'bug' and ${teamFilter('i.team', scope.teams)}
    group by i.team, i.component, ${weekOfEvent}
  `.execute(tx.trx);
  for (const r of reopened.rows) {
    if (!inTeams(scope, r.team) || !weekIndex.has(r.week)) continue;
    for (const a of buckets.both(r.team, r.component, r.week)) a.reopened += num(r.n);
  }

  // Bugs that were open at some point of the range, a page at a time (keyset on key). For all teams `kind || ''`
  // keeps the planners on the primary key: with the kind index they sort every bug for each page (10× slower at 1M
  // items). For some teams their open and their recently closed bugs are two ranges of the (team, kind, closed_at)
  // index, written apart so that SQLite reads those rather than every bug of the teams.
  const columns = sql`key, team, component, created_at, closed_at, labels`;
  const bugs =
    scope.teams === undefined
      ? sql`select ${columns} from item where kind || '' = 'bug' and (closed_at is null or closed_at >= ${since})`
      : sql`select ${columns} from item where ${teamFilter('team', scope.teams)} and kind = 'bug' and closed_at is null
          union all
          select ${columns} from item where ${teamFilter('team', scope.teams)} and kind = 'bug' and closed_at >= ${since}`;
  const pageSize = scope.teams === undefined ? PAGE : TEAM_PAGE;
  // Each scope's accumulators (its own and its team's) per week, looked up once rather than per bug and week.
  const scopeWeeks = new Map<string, Acc[][]>();
  let after = '';
  for (;;) {
    const page = await sql<BugRow>`
      select ${columns} from (${bugs}) b where key > ${after} order by key limit ${pageSize}
    `.execute(tx.trx);
    for (const b of page.rows) {
      if (!inTeams(scope, b.team)) continue;
      const team = b.team;
      const scopeKey = `${team}\u0001${b.component ?? ''}`;
      let byWeek = scopeWeeks.get(scopeKey);
      if (!byWeek) scopeWeeks.set(scopeKey, (byWeek = []));
      const cells = (i: number): Acc[] => (byWeek[i] ??= buckets.both(team, b.component, weeks[i]!));
      const created = Date.parse(b.created_at);
      const closed = b.closed_at === null ? Infinity : Date.parse(b.closed_at);
      const createdWeek = weekIndex.get(weekOf(created));
      if (createdWeek !== undefined) {
        let labels: string[];
        try {
          labels = (JSON.parse(b.labels) as unknown[]).map((l) => String(l).toLowerCase());
        } catch {
          labels = [];
        }
        const isEscaped = labels.some((l) => escaped.has(l));
        const isRegression = labels.some((l) => regression.has(l));
        for (const a of cells(createdWeek)) {
          a.inflow += 1;
          pushCapped(a.inflowIds, b.key);
          if (isEscaped) {
            a.escaped += 1;
            pushCapped(a.escapedIds, b.key);
          }
          if (isRegression) {
            a.regressions += 1;
            pushCapped(a.regressionIds, b.key);
          }
        }
      }
      // Open at the end of week i: created before the end, not closed by it.
      const from = Math.max(0, Math.floor((created - firstMs) / WEEK));
      for (let i = from; i < weeks.length && endOf(i) > created; i++) {
        const end = endOf(i);
        if (closed <= end) break;
        for (const a of cells(i)) {
          a.open += 1;
          pushCapped(a.openIds, b.key);
          a.ages.push((end - created) / DAY);
        }
      }
    }
    if (page.rows.length < pageSize) break;
    after = page.rows[page.rows.length - 1]!.key;
  }

  // The full computation has rows for every team and component whose bugs moved (came in, were open, went live,
  // reopened) in any of its weeks. Weeks before the first one asked for are not read above: a component not seen
  // yet is looked up there, one indexed probe each.
  const fullFirst = weeksOf({ now: scope.now })[0]!;
  if (weeks[0]! > fullFirst) {
    const from = new Date(weekStart(fullFirst)).toISOString();
    const firstEnd = new Date(weekStart(fullFirst) + WEEK).toISOString();
    const candidates = await sql<{ team: string | null; component: string | null }>`
      select distinct team, component from item
      where ${scope.teams === undefined ? sql`team is not null and kind || '' = 'bug'` : sql`${teamFilter('team', scope.teams)} and kind = 'bug'`}
    `.execute(tx.trx);
    for (const c of candidates.rows) {
      if (!inTeams(scope, c.team) || buckets.scopes.has(`${c.team}\u0001${c.component ?? ''}`)) continue;
      const same = sql`i.team = ${c.team} and i.kind = 'bug' and ${c.component === null ? sql`i.component is null` : sql`i.component = ${c.component}`}`;
      const moved = await sql<{ one: number }>`
        select 1 as one where exists (
          select 1 from item i
          where ${same} and i.created_at < ${since} and (i.closed_at is null or i.closed_at >= ${from})
            and (i.created_at >= ${from} or i.closed_at is null or i.closed_at > ${firstEnd})
        ) or exists (
          select 1 from item i cross join item_stage_change s
          where ${same} and s.item_key = i.key and s.to_stage in ('fixed', 'live', 'verified')
            and (s.from_stage is null or s.from_stage not in ('fixed', 'live', 'verified')) and s.occurred_at >= ${from} and s.occurred_at < ${since}
        ) or exists (
          select 1 from item i cross join event e
          where ${same} and e.item_key = i.key and e.kind = 'reopened' and e.occurred_at >= ${from} and e.occurred_at < ${since}
        )
      `.execute(tx.trx);
      if (moved.rows.length > 0) buckets.both(c.team, c.component, weeks[0]!);
    }
  }

  const rows: SignalRow[] = [];
  for (const s of buckets.scopes.values()) {
    for (const week of weeks) {
      const a = buckets.peek(s.team, s.component, week);
      rows.push(
        row('bugs.inflow', s, week, a?.inflow ?? 0, a?.inflow ?? 0, null, { items: a?.inflowIds ?? [] }),
        row('bugs.outflow', s, week, a?.outflow ?? 0, a?.outflow ?? 0, null, null),
        row('bugs.open', s, week, a?.open ?? 0, a?.open ?? 0, null, { items: a?.openIds ?? [] }),
        row('bugs.open_age_median_d', s, week, round(quantile(a?.ages ?? [], 0.5), 1), null, a?.open ?? 0, null),
        row(
          'bugs.reopen_rate',
          s,
          week,
          ratio(a?.reopened ?? 0, a?.outflow ?? 0),
          a?.reopened ?? 0,
          a?.outflow ?? 0,
          null,
        ),
        row('bugs.escaped', s, week, a?.escaped ?? 0, a?.escaped ?? 0, a?.inflow ?? 0, { items: a?.escapedIds ?? [] }),
        row('bugs.regressions', s, week, a?.regressions ?? 0, a?.regressions ?? 0, a?.inflow ?? 0, {
          items: a?.regressionIds ?? [],
        }),
      );
    }
  }
  return rows;
};

// ---------------------------------------------------------------- sustainable pace

interface StartedRow {
  team: string | null;
  week: string;
  started: number | string;
  unplanned: number | string;
  closed_week: string | null;
}
interface CarriedRow {
  team: string | null;
  closed_week: string | null;
  started: number | string;
  finished: number | string | null;
}
interface ActivityRow {
  team: string | null;
  zone: string;
  hour: string;
  n: number | string;
}
const STARTED_STAGES = sql`('being_fixed', 'fix_in_review', 'fix_ready')`;
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/**
 * Local weekday and hour of a UTC hour (`YYYY-MM-DDTHH`) in a time zone. The
 * zone's offset is looked up once per day (twice when it changes within the
 * day, at a daylight-saving switch, then per hour): formatting dates is costly.
 */
const localClock = () => {
  const formatters = new Map<string, Intl.DateTimeFormat>();
  const offsets = new Map<string, number | null>();
  const formatter = (timeZone: string): Intl.DateTimeFormat => {
    let f = formatters.get(timeZone);
    if (!f) {
      const options = {
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        hourCycle: 'h23',
      } as const satisfies Intl.DateTimeFormatOptions;
      try {
        f = new Intl.DateTimeFormat('en-US', { ...options, timeZone });
      } catch {
        f = new Intl.DateTimeFormat('en-US', { ...options, timeZone: 'UTC' });
      }
      formatters.set(timeZone, f);
    }
    return f;
  };
  /** Local time minus UTC, in hours, at `ms`. */
  const offsetAt = (timeZone: string, ms: number): number => {
    const parts = formatter(timeZone).formatToParts(new Date(ms));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
    const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24);
    return Math.round((local - Math.floor(ms / 3_600_000) * 3_600_000) / 3_600_000);
  };
  return (timeZone: string, utcHour: string): { day: string; hour: number } => {
    const ms = Date.parse(`${utcHour}:00:00.000Z`);
    const dayKey = `${timeZone}\u0001${utcHour.slice(0, 10)}`;
    let offset = offsets.get(dayKey);
    if (offset === undefined) {
      const dayStart = Date.parse(`${utcHour.slice(0, 10)}T00:00:00.000Z`);
      const first = offsetAt(timeZone, dayStart);
      offset = first === offsetAt(timeZone, dayStart + 23 * 3_600_000) ? first : null;
      offsets.set(dayKey, offset);
    }
    const local = new Date(ms + (offset ?? offsetAt(timeZone, ms)) * 3_600_000);
    return { day: DAY_NAMES[local.getUTCDay()]!, hour: local.getUTCHours() };
  };
};

/**
 * Sustainable pace, team level only (never per person): work in progress at
 * the end of each week, unplanned share of the work started, after-hours share
 * of people's activity, and on-call pages.
 */
export const computePaceSignals = async (ctx: ServiceContext, tx: Tx, scope: SignalScope): Promise<SignalRow[]> => {
  const weeks = weeksOf(scope);
  const since = new Date(weekStart(weeks[0]!)).toISOString();
  const weekIndex = new Map(weeks.map((w, i) => [w, i]));
  const settings = settingsOf(ctx);
  interface Acc {
    started: number;
    unplanned: number;
    wipIn: number;
    wipOut: number;
    events: number;
    afterHours: number;
    pages: number;
    pageIds: string[];
  }
  const buckets = new Buckets<Acc>(() => ({
    started: 0,
    unplanned: 0,
    wipIn: 0,
    wipOut: 0,
    events: 0,
    afterHours: 0,
    pages: 0,
    pageIds: [],
  }));
  // Before the first week, WIP carries over: started minus finished so far.
  const carried = new Map<string, number>();
  const last = weeks[weeks.length - 1]!;
  const first = weeks[0]!;
  const startedBefore = (key: string, until: RawBuilder<unknown>, inclusive = false): RawBuilder<unknown> =>
    sql`exists (select 1 from item_stage_change p where p.item_key = ${sql.ref(key)} and p.to_stage in ${STARTED_STAGES} and p.occurred_at ${sql.raw(inclusive ? '<=' : '<')} ${until})`;

  // Work started: an item's first move into being fixed (or further); finished: its closed time (an item closed
  // before it started never finishes). For all teams: every item's first start, read in item order. For some teams:
  // only their items touched since the first week (an item's updated_at is its latest event, so no stage change of
  // it is later), those first started since then; the items started before are counted below.
  const firstStarts =
    scope.teams === undefined
      ? sql`
          select i.team, i.kind, i.closed_at, s.started_at
          from (
            select item_key, min(occurred_at) as started_at from item_stage_change
            where to_stage in ${STARTED_STAGES} group by item_key
          ) s
          cross join item i
          where i.key = s.item_key`
      : sql`
          select i.team, i.kind, i.closed_at, min(p.occurred_at) as started_at
          from item i cross join item_stage_change p
          where ${teamFilter('i.team', scope.teams)} and i.updated_at >= ${first}
            and p.item_key = i.key and p.to_stage in ${STARTED_STAGES}
          group by i.key, i.team, i.kind, i.closed_at
          having min(p.occurred_at) >= ${first}`;
  const startedWeek = weekSql(tx, 'f.started_at');
  const closedWeek = sql<
    string | null
  >`case when f.closed_at is null or f.closed_at < f.started_at then null else ${weekSql(tx, 'f.closed_at')} end`;
  const started = await sql<StartedRow>`
    select f.team, ${startedWeek} as week, ${closedWeek} as closed_week, count(*) as started,
      sum(case when f.kind in ('bug', 'incident') then 1 else 0 end) as unplanned
    from (${firstStarts}) f
    group by f.team, ${startedWeek}, ${closedWeek}
  `.execute(tx.trx);
  for (const r of started.rows) {
    if (!inTeams(scope, r.team)) continue;
    const n = num(r.started);
    if (r.week >= first) {
      if (weekIndex.has(r.week)) {
        const a = buckets.get(r.team, null, r.week);
        a.started += n;
        a.unplanned += num(r.unplanned);
        a.wipIn += n;
      }
    } else {
      carried.set(r.team, (carried.get(r.team) ?? 0) + n);
    }
    if (r.closed_week !== null) {
      if (r.closed_week < first) carried.set(r.team, (carried.get(r.team) ?? 0) - n);
      else if (weekIndex.has(r.closed_week)) buckets.get(r.team, null, r.closed_week).wipOut += n;
    }
    buckets.get(r.team, null, last);
  }

  // Some teams, items first started before the first week: a count per team, less those finished before it, and
  // their finishing weeks in the range. An item closed before the first week and not touched since cannot have
  // started after its close: started, then finished before the range, it counts for nothing. So only open, recently
  // closed and since touched items are looked at, from the (team, kind, closed_at, …, updated_at, key) index.
  if (scope.teams !== undefined) {
    const before = await sql<CarriedRow>`
      select i.team, case when i.closed_at >= ${first} then ${weekSql(tx, 'i.closed_at')} end as closed_week,
        count(*) as started,
        sum(case when i.closed_at < ${first} and ${startedBefore('i.key', sql.ref('i.closed_at'), true)} then 1 else 0 end) as finished
      from item i
      where ${teamFilter('i.team', scope.teams)}
        and (i.closed_at is null or i.closed_at >= ${first} or i.updated_at > i.closed_at)
        and ${startedBefore('i.key', sql`${first}`)}
      group by 1, 2
    `.execute(tx.trx);
    for (const r of before.rows) {
      if (!inTeams(scope, r.team)) continue;
      carried.set(r.team, (carried.get(r.team) ?? 0) + num(r.started) - num(r.finished));
      if (r.closed_week !== null && weekIndex.has(r.closed_week)) {
        buckets.get(r.team, null, r.closed_week).wipOut += num(r.started);
      }
      buckets.get(r.team, null, last);
    }
  }

  // After-hours: people's comments and activity, counted per UTC hour in SQL, judged in their own time zone.
  const charter = ctx.charter()?.charter;
  const zoneOf = new Map(
    (charter?.people ?? []).map((p) => [p.id, p.timezone ?? charter?.workspace.timezone ?? 'UTC']),
  );
  const defaultZone = charter?.workspace.timezone ?? 'UTC';
  const working = settings.working_hours;
  const workDays = new Set<string>(working.days);
  const clock = localClock();
  const hourOf = sql<string>`substr(e.occurred_at, 1, 13)`;
  // Grouped by time zone rather than person: fewer groups, and nothing per person leaves the query.
  const zones = [...zoneOf.entries()].filter(([, zone]) => zone !== defaultZone);
  const zoneSql =
    zones.length === 0
      ? sql<string>`${defaultZone}`
      : sql<string>`case e.actor_person_id ${sql.join(
          zones.map(([person, zone]) => sql`when ${person} then ${zone}`),
          sql` `,
        )} else ${defaultZone} end`;
  // For some teams, their items touched since the first week, then each one's events since (no event of an item is
  // later than its updated_at); for all teams, the events of those kinds.
  const people = sql`e.kind in ('commented', 'activity') and e.actor_person_id is not null and e.occurred_at >= ${since}
    and (e.actor_identity is null or e.actor_identity not like 'bot:%')`;
  const activity = await sql<ActivityRow>`
    select i.team, ${zoneSql} as zone, ${hourOf} as hour, count(*) as n
    ${
      scope.teams === undefined
        ? sql`from event e join item i on i.key = e.item_key where ${people}`
        : sql`from item i cross join event e
          where ${teamFilter('i.team', scope.teams)} and i.updated_at >= ${since} and e.item_key = i.key and ${people}`
    }
    group by 1, 2, 3
  `.execute(tx.trx);
  for (const r of activity.rows) {
    if (!inTeams(scope, r.team)) continue;
    const week = weekOf(Date.parse(`${r.hour}:00:00.000Z`));
    if (!weekIndex.has(week)) continue;
    const local = clock(r.zone, r.hour);
    const inHours = workDays.has(local.day) && local.hour >= working.start && local.hour < working.end;
    const a = buckets.get(r.team, null, week);
    a.events += num(r.n);
    if (!inHours) a.afterHours += num(r.n);
  }

  // Pages: incidents declared in the week.
  const incidents = await sql<{ key: string; team: string | null; created_at: string }>`
    select key, team, created_at from item
    where kind = 'incident' and created_at >= ${since} and ${teamFilter('team', scope.teams)}
    order by created_at, key
  `.execute(tx.trx);
  for (const r of incidents.rows) {
    if (!inTeams(scope, r.team)) continue;
    const week = weekOf(Date.parse(r.created_at));
    if (!weekIndex.has(week)) continue;
    const a = buckets.get(r.team, null, week);
    a.pages += 1;
    pushCapped(a.pageIds, r.key);
  }

  // The full computation has rows for every team with work ever started, or with people's activity or pages in one
  // of its weeks. What was not read above (work started before the first week of some teams, weeks before the first
  // one asked for) is looked up for the teams not seen yet.
  const fullFirst = weeksOf({ now: scope.now })[0]!;
  const older = first > fullFirst;
  if (scope.teams !== undefined || older) {
    const from = new Date(weekStart(fullFirst)).toISOString();
    const seen = new Set([...buckets.scopes.values()].map((c) => c.team));
    const found = (team: string): RawBuilder<unknown>[] => [
      ...(scope.teams !== undefined
        ? [sql`exists (select 1 from item i where i.team = ${team} and ${startedBefore('i.key', sql`${first}`)})`]
        : []),
      ...(older
        ? [
            sql`exists (
              select 1 from item i cross join event e
              where i.team = ${team} and i.updated_at >= ${from} and e.item_key = i.key
                and e.kind in ('commented', 'activity') and e.actor_person_id is not null
                and (e.actor_identity is null or e.actor_identity not like 'bot:%')
                and e.occurred_at >= ${from} and e.occurred_at < ${since}
            )`,
            sql`exists (
              select 1 from item where kind = 'incident' and team = ${team} and created_at >= ${from} and created_at < ${since}
            )`,
          ]
        : []),
    ];
    const candidates =
      scope.teams ??
      (await sql<{ team: string }>`select distinct team from item where team is not null`.execute(tx.trx)).rows.map(
        (r) => r.team,
      );
    for (const team of candidates) {
      if (seen.has(team)) continue;
      const hit = await sql<{ one: number }>`select 1 as one where ${sql.join(found(team), sql` or `)}`.execute(tx.trx);
      if (hit.rows.length > 0) buckets.get(team, null, last);
    }
  }

  const rows: SignalRow[] = [];
  const teams = new Set([...buckets.scopes.values()].map((s) => s.team));
  for (const team of teams) {
    const s = { team, component: null };
    let wip = carried.get(team) ?? 0;
    for (const week of weeks) {
      const a = buckets.peek(team, null, week);
      wip += (a?.wipIn ?? 0) - (a?.wipOut ?? 0);
      rows.push(
        row('pace.wip', s, week, wip, wip, null, null),
        row(
          'pace.unplanned_share',
          s,
          week,
          ratio(a?.unplanned ?? 0, a?.started ?? 0),
          a?.unplanned ?? 0,
          a?.started ?? 0,
          null,
        ),
        row(
          'pace.after_hours_share',
          s,
          week,
          ratio(a?.afterHours ?? 0, a?.events ?? 0),
          a?.afterHours ?? 0,
          a?.events ?? 0,
          {
            working_hours: working,
          },
        ),
        row('pace.pages', s, week, a?.pages ?? 0, a?.pages ?? 0, null, { incidents: capped(a?.pageIds ?? []) }),
      );
    }
  }
  return rows;
};
