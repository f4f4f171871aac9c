/**
 * The DORA four keys (PRODUCT.md C6, docs/dora.md): which changes a production
 * deployment carried, which deployment an incident is attributed to, per-PR
 * timings, deployment days per week and the benchmark bands of the State of
 * DevOps reports. Pure: plain arrays in, plain values out; times are epoch ms.
 */

const MINUTE = 60_000;
const HOUR = 3_600_000;

// ---------------------------------------------------------------- deployments

export interface DeploymentRecord {
  id: string;
  /** What the deployment ships: a repository (`owner/name`), or `service:<name>`; DevLake adds its CI/CD scope. */
  group: string;
  environment: string;
  production: boolean;
  success: boolean;
  /** When it went out (finished), epoch ms. */
  at: number;
  /** When it started, for ordering (DevLake orders by start); defaults to `at`. */
  startedAt?: number | undefined;
  /** Commits it names (its head and any listed), lower case. */
  shas?: readonly string[] | undefined;
  /** PR keys it names explicitly (e.g. `data.pr`). */
  prs?: readonly string[] | undefined;
}

const orderOf = (d: DeploymentRecord): number => d.startedAt ?? d.at;
const byOrder = (a: DeploymentRecord, b: DeploymentRecord): number =>
  orderOf(a) - orderOf(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * For every deployment, the previous successful deployment of the same group
 * and environment (null for the first one and for failed ones), as DevLake's
 * `prev_success_deployment_commit_id`.
 */
export const previousSuccessful = (deployments: readonly DeploymentRecord[]): Map<string, string | null> => {
  const out = new Map<string, string | null>();
  const last = new Map<string, string>();
  for (const d of [...deployments].sort(byOrder)) {
    if (!d.success) {
      out.set(d.id, null);
      continue;
    }
    const key = `${d.group}\u0000${d.environment.toLowerCase()}`;
    out.set(d.id, last.get(key) ?? null);
    last.set(key, d.id);
  }
  return out;
};

export interface PrRecord {
  /** `owner/name#number`. */
  key: string;
  /** The repository (the deployment group it is shipped in). */
  group: string;
  openedAt: number | null;
  mergedAt: number | null;
  mergeCommitSha?: string | null | undefined;
  firstCommitAt?: number | null | undefined;
  firstReviewAt?: number | null | undefined;
}

export interface CarriedChanges {
  deployment: string;
  previous: string | null;
  prs: string[];
  /**
   * False when the deployment named its PRs or commits; true when they are the
   * PRs of its repository merged after the previous successful production
   * deployment and at or before it (Lanes has no commit graph).
   */
  inferred: boolean;
}

const upperBound = (sorted: readonly PrRecord[], t: number): number => {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid]!.mergedAt ?? 0) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

/** What each successful production deployment carried: named PRs/commits first, else the merge window. */
export const carriedChanges = (
  deployments: readonly DeploymentRecord[],
  prs: readonly PrRecord[],
): Map<string, CarriedChanges> => {
  const live = deployments.filter((d) => d.production && d.success);
  const previous = previousSuccessful(live);
  const byId = new Map(live.map((d) => [d.id, d]));
  const bySha = new Map<string, string>();
  const byGroup = new Map<string, PrRecord[]>();
  const known = new Set<string>();
  for (const pr of prs) {
    known.add(pr.key);
    if (pr.mergeCommitSha) bySha.set(pr.mergeCommitSha.toLowerCase(), pr.key);
    if (pr.mergedAt === null) continue;
    let list = byGroup.get(pr.group);
    if (!list) byGroup.set(pr.group, (list = []));
    list.push(pr);
  }
  for (const list of byGroup.values()) list.sort((a, b) => a.mergedAt! - b.mergedAt!);
  const out = new Map<string, CarriedChanges>();
  for (const d of live) {
    const prev = previous.get(d.id) ?? null;
    const named = new Set<string>();
    for (const key of d.prs ?? []) if (known.has(key)) named.add(key);
    for (const sha of d.shas ?? []) {
      const key = bySha.get(sha.toLowerCase());
      if (key) named.add(key);
    }
    if (named.size > 0) {
      out.set(d.id, { deployment: d.id, previous: prev, prs: [...named], inferred: false });
      continue;
    }
    const list = byGroup.get(d.group) ?? [];
    const from = prev === null ? 0 : upperBound(list, byId.get(prev)!.at);
    const to = upperBound(list, d.at);
    out.set(d.id, {
      deployment: d.id,
      previous: prev,
      prs: list.slice(from, to).map((p) => p.key),
      inferred: true,
    });
  }
  return out;
};

// ---------------------------------------------------------------- incidents

export interface IncidentRecord {
  id: string;
  /** The scope it happened in: `team/component`, or `team` when no component is known (DevLake: the project). */
  scope: string;
  declaredAt: number;
  resolvedAt: number | null;
  /** Deployment ids or PR keys the incident names (a link, `data.deploymentId`). */
  references?: readonly string[] | undefined;
}

export interface AttributableDeployment {
  id: string;
  /** Every scope it belongs to, e.g. `['payments', 'payments/api']`. */
  scopes: readonly string[];
  at: number;
  production: boolean;
  success: boolean;
}

export interface Attribution {
  incident: string;
  deployment: string | null;
  /** True when found by the window rule rather than named by the incident. */
  inferred: boolean;
}

/**
 * Attributes each incident to a deployment: an explicit reference first (a
 * deployment id, or a PR key resolved through `deploymentOfPr`), else the last
 * successful production deployment of its scope strictly before it was
 * declared and no more than `windowHours` before (edge included), marked inferred.
 */
export const attributeIncidents = (
  incidents: readonly IncidentRecord[],
  deployments: readonly AttributableDeployment[],
  windowHours: number,
  deploymentOfPr: ReadonlyMap<string, string> = new Map(),
): Attribution[] => {
  const ids = new Set(deployments.map((d) => d.id));
  const byScope = new Map<string, AttributableDeployment[]>();
  for (const d of deployments) {
    if (!d.production || !d.success) continue;
    for (const s of d.scopes) {
      let list = byScope.get(s);
      if (!list) byScope.set(s, (list = []));
      list.push(d);
    }
  }
  for (const list of byScope.values()) list.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const window = windowHours * HOUR;
  return incidents.map((incident) => {
    for (const ref of incident.references ?? []) {
      if (ids.has(ref)) return { incident: incident.id, deployment: ref, inferred: false };
      const viaPr = deploymentOfPr.get(ref);
      if (viaPr !== undefined) return { incident: incident.id, deployment: viaPr, inferred: false };
    }
    const list = byScope.get(incident.scope) ?? [];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.at < incident.declaredAt) lo = mid + 1;
      else hi = mid;
    }
    const candidate = lo > 0 ? list[lo - 1]! : undefined;
    if (candidate && candidate.at >= incident.declaredAt - window)
      return { incident: incident.id, deployment: candidate.id, inferred: true };
    return { incident: incident.id, deployment: null, inferred: false };
  });
};

// ---------------------------------------------------------------- pull requests

/** Minutes from start to end rounded up, null when either is missing or the span is negative (as DevLake). */
export const spanMinutes = (start: number | null | undefined, end: number | null | undefined): number | null => {
  if (start === null || start === undefined || end === null || end === undefined) return null;
  const minutes = Math.ceil((end - start) / MINUTE);
  return minutes < 0 ? null : minutes;
};

export interface PrTimingInput {
  openedAt: number | null;
  mergedAt: number | null;
  firstCommitAt?: number | null | undefined;
  firstReviewAt?: number | null | undefined;
  /** When the production deployment that carried it finished. */
  deployedAt?: number | null | undefined;
}

export interface PrTimings {
  coding: number | null;
  pickup: number | null;
  review: number | null;
  deploy: number | null;
  cycle: number | null;
}

/**
 * DevLake's change_lead_time in minutes: coding = first commit → opened,
 * pickup = opened → first review, review = first review → merged, deploy =
 * merged → deployed, cycle = (first commit, else opened) → (deployed, else merged).
 */
export const prTimings = (pr: PrTimingInput): PrTimings => {
  const coding = spanMinutes(pr.firstCommitAt, pr.openedAt);
  const pickup = spanMinutes(pr.openedAt, pr.firstReviewAt);
  const review = spanMinutes(pr.firstReviewAt, pr.mergedAt);
  const deploy = spanMinutes(pr.mergedAt, pr.deployedAt);
  const start = coding !== null ? pr.firstCommitAt : pr.openedAt;
  const end = deploy !== null ? pr.deployedAt : pr.mergedAt;
  return { coding, pickup, review, deploy, cycle: pr.mergedAt === null ? null : spanMinutes(start, end) };
};

/** Lead time for changes in ms: first commit (or opened, whichever is earlier) → production deployment. */
export const leadTimeMs = (pr: PrTimingInput): number | null => {
  const starts = [pr.firstCommitAt, pr.openedAt, pr.mergedAt].filter((t): t is number => typeof t === 'number');
  if (starts.length === 0 || pr.deployedAt === null || pr.deployedAt === undefined) return null;
  const span = pr.deployedAt - Math.min(...starts);
  return span < 0 ? null : span;
};

// ---------------------------------------------------------------- weeks and days

export const median = (values: readonly number[]): number | null => {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const QUARTER_HOUR = 900_000;
const localDates = new Map<string, string>();
const formatters = new Map<string, Intl.DateTimeFormat>();
/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export const localDate = (ms: number, timeZone: string): string => {
  // Every zone's offset is a whole number of quarter hours, so a quarter hour of UTC lies within one local date:
  // formatting is costly and a recompute asks for the same quarters many times.
  const key = `${timeZone}\u0000${Math.floor(ms / QUARTER_HOUR)}`;
  const hit = localDates.get(key);
  if (hit !== undefined) return hit;
  let f = formatters.get(timeZone);
  if (!f)
    formatters.set(
      timeZone,
      (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })),
    );
  const day = f.format(ms);
  if (localDates.size >= 200_000) localDates.clear();
  localDates.set(key, day);
  return day;
};

/** Monday of the week of a calendar date (YYYY-MM-DD). */
export const mondayOf = (date: string): string => {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
};

/** The week (its Monday) of an instant, by the calendar of the time zone. */
const weeksOfDays = new Map<string, string>();
export const weekOf = (ms: number, timeZone = 'UTC'): string => {
  const day = localDate(ms, timeZone);
  let week = weeksOfDays.get(day);
  if (week === undefined) {
    if (weeksOfDays.size >= 100_000) weeksOfDays.clear();
    weeksOfDays.set(day, (week = mondayOf(day)));
  }
  return week;
};

/** Weeks (Mondays) from `from` to `to`, both included. */
export const weeksBetween = (from: string, to: string): string[] => {
  const out: string[] = [];
  const d = new Date(`${mondayOf(from)}T00:00:00Z`);
  const end = mondayOf(to);
  for (let i = 0; i < 10_000; i++) {
    const w = d.toISOString().slice(0, 10);
    if (w > end) break;
    out.push(w);
    d.setUTCDate(d.getUTCDate() + 7);
  }
  return out;
};

/** Deployment days per week: distinct local calendar days with a deployment, by the week of that day. */
export const deployDaysByWeek = (times: readonly number[], timeZone: string): Map<string, string[]> => {
  const days = new Map<string, Set<string>>();
  for (const t of times) {
    const day = localDate(t, timeZone);
    const week = mondayOf(day);
    let set = days.get(week);
    if (!set) days.set(week, (set = new Set()));
    set.add(day);
  }
  return new Map([...days].map(([w, s]) => [w, [...s].sort()]));
};

/** Change failure rate: deployments with at least one attributed incident ÷ deployments (null when none). */
export const changeFailureRate = (
  deployments: readonly string[],
  attributions: readonly Attribution[],
): { failed: string[]; rate: number | null } => {
  const hit = new Set(attributions.map((a) => a.deployment).filter((d): d is string => d !== null));
  const failed = deployments.filter((d) => hit.has(d));
  return { failed, rate: deployments.length === 0 ? null : failed.length / deployments.length };
};

/** Failed-deployment recovery time in ms: incident declared → resolved, for incidents attributed to a deployment. */
export const recoveryMs = (incident: IncidentRecord, attribution: Attribution): number | null =>
  attribution.deployment === null || incident.resolvedAt === null || incident.resolvedAt < incident.declaredAt
    ? null
    : incident.resolvedAt - incident.declaredAt;

// ---------------------------------------------------------------- bands

export type DoraYear = '2023' | '2024';
export type DoraMetric = 'deployment_frequency' | 'lead_time' | 'change_failure_rate' | 'recovery_time';
export type DoraBand = 'elite' | 'high' | 'medium' | 'low';

interface BandEdges {
  /** true: bigger is better (deployment days per week); edges are minimums. */
  higherIsBetter: boolean;
  elite: number;
  high: number;
  medium: number;
}

/**
 * Band edges derived from the software delivery performance clusters of the
 * 2023 and 2024 Accelerate State of DevOps reports (docs/dora.md, "Benchmark
 * bands", has the cluster values, the sources and why each edge sits where it
 * does). Units: deployment_frequency in deployment days per week, lead_time and
 * recovery_time in hours, change_failure_rate as a ratio (0..1).
 *
 * - deployment_frequency: 5 days a week (every working day) stands in for "on
 *   demand", 1 for once a week, 12/52 for once a month; both years.
 * - lead_time: one day, one week, one month (30 days); both years.
 * - change_failure_rate: each cluster's typical rate is its band's ceiling. 2024
 *   lists medium (10 %) below high (20 %), so medium runs from 20 % up to the
 *   low cluster's 40 %.
 * - recovery_time: one hour, one day, one week; both years.
 */
export const DORA_BANDS: Record<DoraYear, Record<DoraMetric, BandEdges>> = {
  '2023': {
    deployment_frequency: { higherIsBetter: true, elite: 5, high: 1, medium: 12 / 52 },
    lead_time: { higherIsBetter: false, elite: 24, high: 24 * 7, medium: 24 * 30 },
    change_failure_rate: { higherIsBetter: false, elite: 0.05, high: 0.1, medium: 0.15 },
    recovery_time: { higherIsBetter: false, elite: 1, high: 24, medium: 24 * 7 },
  },
  '2024': {
    deployment_frequency: { higherIsBetter: true, elite: 5, high: 1, medium: 12 / 52 },
    lead_time: { higherIsBetter: false, elite: 24, high: 24 * 7, medium: 24 * 30 },
    change_failure_rate: { higherIsBetter: false, elite: 0.05, high: 0.2, medium: 0.4 },
    recovery_time: { higherIsBetter: false, elite: 1, high: 24, medium: 24 * 7 },
  },
};

/**
 * The band of a value. Deployment days per week need at least the edge. For the
 * other metrics a value on an edge goes to the better band, except where the
 * reports word that band "less than": elite lead time (< 1 day), elite recovery
 * (< 1 hour) and high recovery (< 1 day) leave their edge to the band below.
 */
export const doraBand = (year: DoraYear, metric: DoraMetric, value: number): DoraBand => {
  const e = DORA_BANDS[year][metric];
  if (e.higherIsBetter) {
    if (value >= e.elite) return 'elite';
    if (value >= e.high) return 'high';
    if (value >= e.medium) return 'medium';
    return 'low';
  }
  const within = (edge: number, strict: boolean): boolean => (strict ? value < edge : value <= edge);
  if (within(e.elite, metric !== 'change_failure_rate')) return 'elite';
  if (within(e.high, metric === 'recovery_time')) return 'high';
  if (within(e.medium, false)) return 'medium';
  return 'low';
};
