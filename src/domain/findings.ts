import { addWeeks } from './week.js';
import { DORA_BANDS } from './dora.js';
import type { QualitySettings } from './quality.settings.js';

/**
 * The findings catalog (docs/findings.md): rules that turn the weekly quality
 * signals of one team (and its components) into systemic findings. Pure: the
 * rows, the settings and the current week are passed in. A finding names a
 * pattern, never a person; every rule reads team- or component-level rows.
 * The shapes mirror `SignalRow` and `Finding` of src/api/quality.contract.ts
 * (the domain does not import the HTTP contract).
 */

/** One weekly signal row (`SignalRow` of the contract). */
export interface SignalRow {
  signal: string;
  team: string;
  component: string | null;
  week: string;
  value: number | null;
  numerator: number | null;
  denominator: number | null;
  details: Record<string, unknown> | null;
}

export type RootCause = 'staffing' | 'skills' | 'code_health' | 'ci_cd' | 'observability' | 'process_design';
export type Severity = 'low' | 'medium' | 'high';
interface Cause {
  category: RootCause;
  weight: number;
  reason: string;
}
interface Figure {
  label: string;
  value: string;
}
interface Link {
  kind: string;
  id: string;
  label: string;
  url: string | null;
}
interface TrendPoint {
  week: string;
  value: number | null;
}

/** A finding as the catalog makes it (the contract's `Finding` without its lifecycle fields). */
export interface FindingDraft {
  id: string;
  rule: string;
  team: string;
  component: string | null;
  severity: Severity;
  pattern: string;
  guardrail: string;
  evidence: { figures: Figure[]; trend: TrendPoint[]; links: Link[] };
  causes: Cause[];
  /** The newest week of signal data that shows the pattern (YYYY-MM-DD). */
  dataWeek: string;
}

/** Every threshold by name, with its default; `quality.thresholds` in lanes.yaml overrides by name. */
export const DEFAULT_THRESHOLDS = {
  /** Consecutive weeks (up to the newest) in which a component's bug inflow exceeds its outflow. */
  'bug_flow.min_weeks': 4,
  /** Weeks of the recent reopen rate, and of the baseline before them. */
  'reopen.recent_weeks': 4,
  'reopen.baseline_weeks': 8,
  /** The recent reopen rate must be at least this share… */
  'reopen.floor': 0.1,
  /** …and at least this many times the baseline… */
  'reopen.rise_ratio': 1.5,
  /** …over enough bugs to mean something: this many fixed, and this many reopened, in the recent weeks. */
  'reopen.min_fixed': 8,
  'reopen.min_reopened': 3,
  /** Change failure rate over these weeks, when at least `min_deployments` deployments happened. */
  'change_failure_rate.weeks': 4,
  'change_failure_rate.min_deployments': 5,
  /** Upper limit of the change failure rate; 0 means "the DORA year's high-performance level" (2023: 10 %, 2024: 20 %). */
  'change_failure_rate.max': 0,
  /** An error budget at or below this share (of the budget) is exhausted. */
  'slo.budget_remaining.min': 0,
  /** Customer-reported incidents and escaped bugs counted over these weeks… */
  'customer_reported.weeks': 4,
  /** …and the count from which it is a finding. */
  'customer_reported.min': 2,
  'unreviewed.weeks': 4,
  'unreviewed.max_share': 0.05,
  /** Enough merges to judge a share, and more than a single slip. */
  'unreviewed.min_prs': 20,
  'unreviewed.min_count': 2,
  /** Coverage guardrails when the charter's `quality.coverage` names none for a component (0: no guardrail). */
  'coverage.line.min': 0,
  'coverage.branch.min': 0,
  'after_hours.weeks': 4,
  'after_hours.max_share': 0.15,
  /** High severity only when the share is this many times the limit in every week of the window. */
  'after_hours.high_ratio': 2,
  /** Rows older than this many weeks before the current week no longer raise findings. */
  stale_weeks: 3,
} as const;
export type ThresholdName = keyof typeof DEFAULT_THRESHOLDS;
export type Thresholds = Record<ThresholdName, number>;

export const resolveThresholds = (overrides: Record<string, number> = {}): Thresholds => {
  const out = { ...DEFAULT_THRESHOLDS } as Thresholds;
  for (const name of Object.keys(DEFAULT_THRESHOLDS) as ThresholdName[]) {
    const v = overrides[name];
    if (typeof v === 'number' && Number.isFinite(v)) out[name] = v;
  }
  return out;
};

/** Threshold names in `overrides` the catalog does not know (for `lanes check`). */
export const unknownThresholds = (overrides: Record<string, number> = {}): string[] =>
  Object.keys(overrides).filter((k) => !(k in DEFAULT_THRESHOLDS));

/** The DORA year's high-performance change failure rate (the report's "high" band edge, src/domain/dora.ts). */
export const cfrHighLevel = (year: '2023' | '2024'): number => DORA_BANDS[year].change_failure_rate.high;

export const findingIdOf = (rule: string, team: string, component: string | null): string =>
  `${rule}:${team}:${component ?? '-'}`;

const pct = (share: number): string => `${(Math.round(share * 1000) / 10).toString()} %`;
const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;

const causes = (...list: [Cause['category'], number, string][]): Cause[] =>
  list.map(([category, weight, reason]) => ({ category, weight, reason }));

/**
 * Links read from the `details` of signal rows: arrays under `items`, `prs`,
 * `pullRequests`, `deployments`, `incidents`, `commits` (strings or
 * `{ id, url?, label? }`). Deduplicated, at most `max`.
 */
export const linksOf = (rows: readonly SignalRow[], max = 20): Link[] => {
  const kinds: Record<string, string> = {
    items: 'item',
    bugs: 'item',
    prs: 'pull_request',
    pullRequests: 'pull_request',
    deployments: 'deployment',
    incidents: 'incident',
    commits: 'commit',
  };
  const out: Link[] = [];
  const seen = new Set<string>();
  for (const row of [...rows].sort((a, b) => (a.week < b.week ? 1 : -1))) {
    for (const [key, kind] of Object.entries(kinds)) {
      const list = row.details?.[key];
      if (!Array.isArray(list)) continue;
      for (const entry of list) {
        let link: Link | undefined;
        if (typeof entry === 'string' || typeof entry === 'number') {
          link = { kind, id: String(entry), label: String(entry), url: null };
        } else if (entry && typeof entry === 'object') {
          const e = entry as Record<string, unknown>;
          const id = e['id'] ?? e['key'] ?? e['sha'];
          if (typeof id !== 'string' && typeof id !== 'number') continue;
          link = {
            kind,
            id: String(id),
            label:
              typeof e['label'] === 'string' ? e['label'] : typeof e['title'] === 'string' ? e['title'] : String(id),
            url: typeof e['url'] === 'string' && /^https?:\/\//.test(e['url']) ? e['url'] : null,
          };
        }
        if (!link || seen.has(`${link.kind}:${link.id}`)) continue;
        seen.add(`${link.kind}:${link.id}`);
        out.push(link);
        if (out.length >= max) return out;
      }
    }
  }
  return out;
};

/** The rows of one signal in one scope, oldest first. */
interface Scope {
  team: string;
  component: string | null;
  bySignal: Map<string, SignalRow[]>;
}

const scopesOf = (team: string, rows: readonly SignalRow[]): Scope[] => {
  const scopes = new Map<string, Scope>();
  for (const row of rows) {
    if (row.team !== team) continue;
    const key = row.component ?? '';
    let scope = scopes.get(key);
    if (!scope) scopes.set(key, (scope = { team, component: row.component, bySignal: new Map() }));
    let list = scope.bySignal.get(row.signal);
    if (!list) scope.bySignal.set(row.signal, (list = []));
    list.push(row);
  }
  for (const scope of scopes.values()) for (const list of scope.bySignal.values()) list.sort(byWeek);
  return [...scopes.values()].sort((a, b) => ((a.component ?? '') < (b.component ?? '') ? -1 : 1));
};

const byWeek = (a: SignalRow, b: SignalRow): number => (a.week < b.week ? -1 : a.week > b.week ? 1 : 0);

const trendOf = (rows: readonly SignalRow[]): TrendPoint[] => rows.map((r) => ({ week: r.week, value: r.value }));

/** The ratio over rows: Σ numerator ÷ Σ denominator when they are there, else the mean of values. */
const ratioOver = (rows: readonly SignalRow[]): { value: number | null; numerator: number; denominator: number } => {
  const withParts = rows.filter((r) => r.numerator !== null && r.denominator !== null);
  if (withParts.length === rows.length && rows.length > 0) {
    const numerator = withParts.reduce((s, r) => s + r.numerator!, 0);
    const denominator = withParts.reduce((s, r) => s + r.denominator!, 0);
    return { value: denominator > 0 ? numerator / denominator : null, numerator, denominator };
  }
  const values = rows.map((r) => r.value).filter((v): v is number => v !== null);
  return {
    value: values.length ? values.reduce((s, v) => s + v, 0) / values.length : null,
    numerator: 0,
    denominator: 0,
  };
};

/** The rows of the last `weeks` weeks up to and including `lastWeek`. */
const lastWeeks = (rows: readonly SignalRow[], lastWeek: string, weeks: number): SignalRow[] => {
  const from = addWeeks(lastWeek, -(weeks - 1));
  return rows.filter((r) => r.week >= from && r.week <= lastWeek);
};

export interface CatalogInput {
  team: string;
  /** Display name of the team, for sentences. */
  teamName?: string;
  rows: readonly SignalRow[];
  settings: Pick<QualitySettings, 'dora_year' | 'coverage' | 'thresholds'>;
  /** The current week (Monday, YYYY-MM-DD): rows after it are ignored, rows much older are stale. */
  currentWeek: string;
}

interface RuleContext {
  scope: Scope;
  where: string;
  t: Thresholds;
  input: CatalogInput;
  /** The newest week a rule may still use (rows older than `stale_weeks` raise nothing). */
  fresh: (rows: readonly SignalRow[]) => SignalRow[] | null;
}

type Rule = (c: RuleContext) => Omit<FindingDraft, 'id' | 'team' | 'component'> | null;

const bugInflowExceedsOutflow: Rule = ({ scope, where, t, fresh }) => {
  if (scope.component === null) return null;
  const inflow = fresh(scope.bySignal.get('bugs.inflow') ?? []);
  const outflow = scope.bySignal.get('bugs.outflow') ?? [];
  if (!inflow) return null;
  const outByWeek = new Map(outflow.map((r) => [r.week, r.value ?? 0]));
  const inByWeek = new Map(inflow.map((r) => [r.week, r.value ?? 0]));
  const last = inflow[inflow.length - 1]!.week;
  let weeks = 0;
  for (let w = last; inByWeek.has(w) || outByWeek.has(w); w = addWeeks(w, -1)) {
    if ((inByWeek.get(w) ?? 0) > (outByWeek.get(w) ?? 0)) weeks += 1;
    else break;
  }
  if (weeks < t['bug_flow.min_weeks']) return null;
  const window = inflow.filter((r) => r.week > addWeeks(last, -weeks));
  const totalIn = window.reduce((s, r) => s + (r.value ?? 0), 0);
  const totalOut = window.reduce((s, r) => s + (outByWeek.get(r.week) ?? 0), 0);
  const open = scope.bySignal.get('bugs.open') ?? [];
  const openNow = open.length ? open[open.length - 1]!.value : null;
  const figures: Figure[] = [
    { label: 'Weeks in a row with more bugs in than out', value: String(weeks) },
    { label: `Bugs reported (last ${weeks} weeks)`, value: String(totalIn) },
    { label: `Bugs closed (last ${weeks} weeks)`, value: String(totalOut) },
  ];
  if (openNow !== null) figures.push({ label: 'Open bugs now', value: String(openNow) });
  const trendRows = inflow.slice(-12);
  return {
    rule: 'bug-inflow-exceeds-outflow',
    severity: weeks >= 2 * t['bug_flow.min_weeks'] || totalIn >= 2 * Math.max(totalOut, 1) ? 'high' : 'medium',
    pattern: `${where}: more bugs arrive than are closed, ${weeks} weeks in a row (${totalIn} in, ${totalOut} out).`,
    guardrail: `Bug outflow keeps up with inflow (no more than ${t['bug_flow.min_weeks'] - 1} weeks in a row of net growth).`,
    evidence: {
      figures,
      trend: trendRows.map((r) => ({ week: r.week, value: (r.value ?? 0) - (outByWeek.get(r.week) ?? 0) })),
      links: linksOf(window),
    },
    causes: causes(
      ['code_health', 0.35, 'A component that keeps producing defects usually has fragile or poorly understood code.'],
      [
        'staffing',
        0.35,
        'Closing fewer bugs than arrive, week after week, points at too little capacity for the load.',
      ],
      [
        'process_design',
        0.3,
        'Bug intake and triage may let in work nobody plans to take on (no cap, no triage rota).',
      ],
    ),
    dataWeek: last,
  };
};

const reopenRateRising: Rule = ({ scope, where, t, fresh }) => {
  const rows = fresh(scope.bySignal.get('bugs.reopen_rate') ?? []);
  if (!rows) return null;
  const last = rows[rows.length - 1]!.week;
  const recentWeeks = t['reopen.recent_weeks'];
  const recent = ratioOver(lastWeeks(rows, last, recentWeeks));
  const baselineRows = rows.filter(
    (r) =>
      r.week <= addWeeks(last, -recentWeeks) && r.week > addWeeks(last, -(recentWeeks + t['reopen.baseline_weeks'])),
  );
  const baseline = ratioOver(baselineRows);
  if (recent.value === null || recent.value < t['reopen.floor']) return null;
  if (
    recent.denominator > 0 &&
    (recent.denominator < t['reopen.min_fixed'] || recent.numerator < t['reopen.min_reopened'])
  ) {
    return null;
  }
  if (baseline.value !== null && baseline.value > 0 && recent.value < baseline.value * t['reopen.rise_ratio']) {
    return null;
  }
  if (baseline.value === null && baselineRows.length === 0 && rows.length < recentWeeks) return null;
  return {
    rule: 'reopen-rate-rising',
    severity: recent.value >= 2 * t['reopen.floor'] ? 'high' : 'medium',
    pattern: `${where}: fixed bugs are reopened more and more often — ${pct(recent.value)} over the last ${recentWeeks} weeks${
      baseline.value === null
        ? ''
        : `, against ${pct(baseline.value)} in the ${t['reopen.baseline_weeks']} weeks before`
    }.`,
    guardrail: `Reopen rate below ${pct(t['reopen.floor'])} and not rising (less than ×${t['reopen.rise_ratio']} its baseline).`,
    evidence: {
      figures: [
        { label: `Reopen rate, last ${recentWeeks} weeks`, value: pct(recent.value) },
        { label: 'Reopen rate, baseline', value: baseline.value === null ? '–' : pct(baseline.value) },
        ...(recent.denominator > 0
          ? [{ label: 'Reopened ÷ fixed (recent)', value: `${recent.numerator} ÷ ${recent.denominator}` }]
          : []),
      ],
      trend: trendOf(rows.slice(-(recentWeeks + t['reopen.baseline_weeks']))),
      links: linksOf(lastWeeks(rows, last, recentWeeks)),
    },
    causes: causes(
      ['code_health', 0.35, 'Fixes that do not hold are typical of tangled code where a change has side effects.'],
      ['ci_cd', 0.3, 'Missing regression tests let a fix be closed before it is proven, in CI, to work.'],
      ['process_design', 0.2, 'A definition of done without verification (by QA or the reporter) closes bugs early.'],
      ['skills', 0.15, 'Unfamiliarity with the component can lead to fixing symptoms rather than the cause.'],
    ),
    dataWeek: last,
  };
};

const changeFailureRate: Rule = ({ scope, where, t, input, fresh }) => {
  const rows = fresh(scope.bySignal.get('dora.change_failure_rate') ?? []);
  if (!rows) return null;
  const last = rows[rows.length - 1]!.week;
  const window = lastWeeks(rows, last, t['change_failure_rate.weeks']);
  const rate = ratioOver(window);
  const deployments =
    rate.denominator > 0
      ? rate.denominator
      : lastWeeks(scope.bySignal.get('dora.deployments') ?? [], last, t['change_failure_rate.weeks']).reduce(
          (s, r) => s + (r.value ?? 0),
          0,
        );
  const year = input.settings.dora_year;
  const max = t['change_failure_rate.max'] > 0 ? t['change_failure_rate.max'] : cfrHighLevel(year);
  if (rate.value === null || deployments < t['change_failure_rate.min_deployments'] || rate.value <= max) return null;
  return {
    rule: 'change-failure-rate-above-band',
    severity: rate.value >= 2 * max ? 'high' : 'medium',
    pattern: `${where}: ${pct(rate.value)} of production deployments over the last ${t['change_failure_rate.weeks']} weeks led to an incident, above the ${pct(max)} of the DORA ${year} high band.`,
    guardrail: `Change failure rate within the DORA ${year} high band (≤ ${pct(max)}).`,
    evidence: {
      figures: [
        { label: `Change failure rate, last ${t['change_failure_rate.weeks']} weeks`, value: pct(rate.value) },
        ...(rate.denominator > 0
          ? [{ label: 'Deployments with an incident ÷ deployments', value: `${rate.numerator} ÷ ${rate.denominator}` }]
          : [{ label: 'Deployments', value: String(deployments) }]),
      ],
      trend: trendOf(rows.slice(-12)),
      links: linksOf(window),
    },
    causes: causes(
      [
        'ci_cd',
        0.45,
        'Failures that reach production were not caught by the pipeline: tests, staging or progressive rollout.',
      ],
      ['code_health', 0.3, 'Changes in fragile code fail more often whatever the pipeline.'],
      [
        'process_design',
        0.25,
        'Large batches and changes merged without review raise the chance that a deployment fails.',
      ],
    ),
    dataWeek: last,
  };
};

const errorBudgetExhausted: Rule = ({ scope, where, t, fresh }) => {
  const rows = fresh(scope.bySignal.get('slo.budget_remaining') ?? []);
  if (!rows) return null;
  const last = rows[rows.length - 1]!.week;
  // One row per SLO and week is not possible under the key, so an SLO is named in details.slo of its scope's row.
  const latest = rows.filter((r) => r.week === last);
  const exhausted = latest.filter((r) => r.value !== null && r.value <= t['slo.budget_remaining.min']);
  if (exhausted.length === 0) return null;
  const names = exhausted.map((r) => (typeof r.details?.['slo'] === 'string' ? r.details['slo'] : 'the SLO'));
  const worst = Math.min(...exhausted.map((r) => r.value!));
  const alerts = lastWeeks(scope.bySignal.get('slo.burn_alerts') ?? [], last, 4).reduce(
    (s, r) => s + (r.value ?? 0),
    0,
  );
  return {
    rule: 'error-budget-exhausted',
    severity: 'high',
    pattern: `${where}: the error budget of ${names.join(', ')} is used up (${pct(worst)} remaining).`,
    guardrail: `Error budget remaining above ${pct(t['slo.budget_remaining.min'])} over the SLO's window.`,
    evidence: {
      figures: [
        { label: 'Error budget remaining', value: pct(worst) },
        { label: 'SLOs', value: names.join(', ') },
        { label: 'Burn-rate alerts, last 4 weeks', value: String(alerts) },
      ],
      trend: trendOf(rows.slice(-12)),
      links: linksOf(lastWeeks(rows, last, 4)),
    },
    causes: causes(
      ['code_health', 0.3, 'Unreliable behaviour in the service itself is the most direct way to burn a budget.'],
      [
        'process_design',
        0.25,
        'An exhausted budget means the error-budget policy (slow down, fix first) did not take effect.',
      ],
      [
        'ci_cd',
        0.25,
        'Bad changes reaching production unnoticed, without canaries or quick rollback, burn budget fast.',
      ],
      ['staffing', 0.2, 'Reliability work loses out when the team has no capacity beyond feature work.'],
    ),
    dataWeek: last,
  };
};

const customerCount = (row: SignalRow): number => {
  const v = row.details?.['customerReported'];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (Array.isArray(v)) return v.length;
  return 0;
};

const customerReported: Rule = ({ scope, where, t, fresh }) => {
  const pages = scope.bySignal.get('pace.pages') ?? [];
  const escaped = scope.bySignal.get('bugs.escaped') ?? [];
  const all = fresh([...pages, ...escaped].sort(byWeek));
  if (!all) return null;
  const last = all[all.length - 1]!.week;
  const weeks = t['customer_reported.weeks'];
  const pageRows = lastWeeks(pages, last, weeks);
  const escapedRows = lastWeeks(escaped, last, weeks);
  const fromPages = pageRows.reduce((s, r) => s + customerCount(r), 0);
  const fromEscaped = escapedRows.reduce((s, r) => s + customerCount(r), 0);
  const count = fromPages + fromEscaped;
  if (count < t['customer_reported.min']) return null;
  const totalPages = pageRows.reduce((s, r) => s + (r.value ?? 0), 0);
  const byWeekCount = new Map<string, number>();
  for (const r of [...pages, ...escaped]) byWeekCount.set(r.week, (byWeekCount.get(r.week) ?? 0) + customerCount(r));
  return {
    rule: 'customer-reported-incidents',
    severity: count >= 2 * t['customer_reported.min'] ? 'high' : 'medium',
    pattern: `${where}: ${count} incidents and production bugs in the last ${weeks} weeks were first reported by customers, not by monitoring.`,
    guardrail: `Fewer than ${t['customer_reported.min']} customer-reported incidents or escaped bugs in ${weeks} weeks: monitoring sees problems first.`,
    evidence: {
      figures: [
        { label: 'Incidents first reported by customers', value: String(fromPages) },
        ...(totalPages > 0 ? [{ label: 'All on-call pages', value: String(totalPages) }] : []),
        { label: 'Escaped bugs reported by customers', value: String(fromEscaped) },
      ],
      trend: [...byWeekCount.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .slice(-12)
        .map(([week, value]) => ({ week, value })),
      links: linksOf([...pageRows, ...escapedRows]),
    },
    causes: causes(
      ['observability', 0.6, 'When customers notice first, alerts and dashboards do not cover what users experience.'],
      ['ci_cd', 0.2, 'Defects that reach customers also slipped through the pipeline.'],
      ['code_health', 0.2, 'Failure modes that are hard to detect often come from code without clear error paths.'],
    ),
    dataWeek: last,
  };
};

const unreviewedMerges: Rule = ({ scope, where, t, fresh }) => {
  const rows = fresh(scope.bySignal.get('review.unreviewed_share') ?? []);
  if (!rows) return null;
  const last = rows[rows.length - 1]!.week;
  const window = lastWeeks(rows, last, t['unreviewed.weeks']);
  const share = ratioOver(window);
  if (share.value === null || share.value <= t['unreviewed.max_share']) return null;
  if (
    share.denominator > 0 &&
    (share.denominator < t['unreviewed.min_prs'] || share.numerator < t['unreviewed.min_count'])
  ) {
    return null;
  }
  return {
    rule: 'unreviewed-merges',
    severity: share.value >= 4 * t['unreviewed.max_share'] ? 'high' : 'medium',
    pattern: `${where}: ${pct(share.value)} of pull requests merged over the last ${t['unreviewed.weeks']} weeks had no approving review.`,
    guardrail: `At most ${pct(t['unreviewed.max_share'])} of merges without an approving review.`,
    evidence: {
      figures: [
        { label: 'Merged without approval', value: pct(share.value) },
        ...(share.denominator > 0
          ? [{ label: 'Unreviewed ÷ merged', value: `${share.numerator} ÷ ${share.denominator}` }]
          : []),
      ],
      trend: trendOf(rows.slice(-12)),
      links: linksOf(window),
    },
    causes: causes(
      ['process_design', 0.4, 'Branch protection or the review policy lets merges through without approval.'],
      ['staffing', 0.3, 'Unreviewed merges often mean no reviewer was available in time.'],
      ['ci_cd', 0.3, 'The merge gate does not require an approving review as a status check.'],
    ),
    dataWeek: last,
  };
};

/** Coverage is read in percent; a value ≤ 1 is taken as a fraction (0.82 → 82 %). */
const asPercent = (v: number): number => (v <= 1 ? v * 100 : v);

const coverageBelowGuardrail: Rule = ({ scope, where, t, input, fresh }) => {
  if (scope.component === null) return null;
  const guard = input.settings.coverage[scope.component] ?? {};
  const out: { kind: 'line' | 'branch'; value: number; min: number; rows: SignalRow[] }[] = [];
  let dataWeek = '';
  for (const kind of ['line', 'branch'] as const) {
    const min = guard[kind] ?? t[`coverage.${kind}.min`];
    if (!min || min <= 0) continue;
    const rows = fresh((scope.bySignal.get(`coverage.${kind}`) ?? []).filter((r) => r.value !== null));
    if (!rows) continue;
    const latest = rows[rows.length - 1]!;
    if (latest.week > dataWeek) dataWeek = latest.week;
    const value = asPercent(latest.value!);
    if (value < min) out.push({ kind, value, min, rows });
  }
  if (out.length === 0) return null;
  const first = out[0]!;
  return {
    rule: 'coverage-below-guardrail',
    severity: out.some((o) => o.value < o.min - 10) ? 'high' : 'low',
    pattern: `${where}: ${out.map((o) => `${o.kind} coverage is ${round(o.value, 1)} %, below its ${o.min} % guardrail`).join('; ')}.`,
    guardrail: out.map((o) => `${o.kind} coverage ≥ ${o.min} %`).join(', '),
    evidence: {
      figures: out.flatMap((o) => [
        { label: `${o.kind === 'line' ? 'Line' : 'Branch'} coverage now`, value: `${round(o.value, 1)} %` },
        { label: `${o.kind === 'line' ? 'Line' : 'Branch'} coverage guardrail`, value: `${o.min} %` },
      ]),
      trend: first.rows.slice(-12).map((r) => ({ week: r.week, value: round(asPercent(r.value!), 1) })),
      links: linksOf(out.flatMap((o) => o.rows.slice(-2))),
    },
    causes: causes(
      ['ci_cd', 0.3, 'Coverage falls when the pipeline does not gate on it.'],
      ['code_health', 0.3, 'Code that is hard to test gets left untested.'],
      ['process_design', 0.2, 'Tests are not part of the definition of done for a change.'],
      ['staffing', 0.2, 'Under delivery pressure, tests are the first thing a stretched team skips.'],
    ),
    dataWeek,
  };
};

const afterHours: Rule = ({ scope, where, t, fresh }) => {
  if (scope.component !== null) return null; // sustainable pace is team-level only
  const rows = fresh(scope.bySignal.get('pace.after_hours_share') ?? []);
  if (!rows) return null;
  const last = rows[rows.length - 1]!.week;
  const window = lastWeeks(rows, last, t['after_hours.weeks']);
  const share = ratioOver(window);
  if (share.value === null || share.value <= t['after_hours.max_share']) return null;
  return {
    rule: 'after-hours-share',
    // A bad week (an incident at night) is not a pattern: high only when every week of the window is far over.
    severity: window.every(
      (r) => r.value !== null && r.value >= t['after_hours.high_ratio'] * t['after_hours.max_share'],
    )
      ? 'high'
      : 'medium',
    pattern: `${where}: ${pct(share.value)} of the team's activity over the last ${t['after_hours.weeks']} weeks happened outside working hours.`,
    guardrail: `After-hours activity at most ${pct(t['after_hours.max_share'])} of the team's activity.`,
    evidence: {
      figures: [{ label: 'After-hours share (team)', value: pct(share.value) }],
      trend: trendOf(rows.slice(-12)),
      links: [],
    },
    causes: causes(
      ['staffing', 0.5, 'Sustained after-hours work means the load does not fit the team in its working hours.'],
      ['process_design', 0.3, 'Planning and on-call arrangements may push urgent work into evenings and weekends.'],
      ['code_health', 0.2, 'Firefighting in fragile systems tends to happen whenever things break, not when planned.'],
    ),
    dataWeek: last,
  };
};

/** The catalog, in the order findings are listed. */
export const RULES: readonly { id: string; run: Rule }[] = [
  { id: 'error-budget-exhausted', run: errorBudgetExhausted },
  { id: 'change-failure-rate-above-band', run: changeFailureRate },
  { id: 'bug-inflow-exceeds-outflow', run: bugInflowExceedsOutflow },
  { id: 'reopen-rate-rising', run: reopenRateRising },
  { id: 'customer-reported-incidents', run: customerReported },
  { id: 'unreviewed-merges', run: unreviewedMerges },
  { id: 'coverage-below-guardrail', run: coverageBelowGuardrail },
  { id: 'after-hours-share', run: afterHours },
];

/** Runs every rule over every scope of one team: at most one finding per rule and scope. */
export const runCatalog = (input: CatalogInput): FindingDraft[] => {
  const t = resolveThresholds(input.settings.thresholds);
  const oldest = addWeeks(input.currentWeek, -t['stale_weeks']);
  const rows = input.rows.filter((r) => r.week <= input.currentWeek);
  const out: FindingDraft[] = [];
  for (const scope of scopesOf(input.team, rows)) {
    const teamName = input.teamName ?? input.team;
    const where = scope.component === null ? `Team ${teamName}` : `${scope.component} (${teamName})`;
    const fresh = (list: readonly SignalRow[]) => {
      const known = list.filter(
        (r) => r.value !== null || (r.numerator !== null && r.denominator !== null) || customerCount(r) > 0,
      );
      return known.length > 0 && known[known.length - 1]!.week >= oldest ? known : null;
    };
    for (const rule of RULES) {
      const draft = rule.run({ scope, where, t, input, fresh });
      if (!draft) continue;
      const total = draft.causes.reduce((s, c) => s + c.weight, 0);
      out.push({
        ...draft,
        causes: draft.causes.map((c) => ({ ...c, weight: round(c.weight / total, 4) })),
        id: findingIdOf(draft.rule, input.team, scope.component),
        team: input.team,
        component: scope.component,
      });
    }
  }
  return out;
};
