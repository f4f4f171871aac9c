import { SIGNALS, type SignalRow } from '../api/quality.contract.js';
import type { Charter } from '../domain/charter.schema.js';
import {
  attributeIncidents,
  carriedChanges,
  deployDaysByWeek,
  doraBand,
  leadTimeMs,
  median,
  recoveryMs,
  weekOf,
  weeksBetween,
  type AttributableDeployment,
  type DeploymentRecord,
  type DoraBand,
  type DoraYear,
  type IncidentRecord,
  type PrRecord,
} from '../domain/dora.js';
import { defaultQualitySettings } from '../domain/quality.settings.js';
import { chunks, type Tx } from '../store/event.repository.js';
import type { QualityDeploymentTable, QualityPrTable } from '../store/schema.js';
import { weekStart } from '../domain/week.js';
import type { ServiceContext } from './context.js';

/**
 * The DORA four keys per team and component, one row per signal, scope and
 * week (docs/dora.md). Reads only the event kinds it needs, row by row, and
 * keeps one small record per deployment, pull request and incident.
 */

export const DORA_SIGNALS = SIGNALS.dora;

const HOUR = 3_600_000;
const DETAIL_CAP = 200;
const DAY = 86_400_000;
const INCIDENT_KINDS = ['created', 'incident_declared', 'incident_resolved', 'linked'] as const;

const parse = (data: string | null): Record<string, unknown> => {
  if (data === null) return {};
  try {
    const v = JSON.parse(data) as unknown;
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
};
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const idOf = (v: unknown): string | null => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);
const ms = (v: unknown): number | null => {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
};
const hours = (t: number): number => Math.round((t / HOUR) * 100) / 100;

interface Owner {
  team: string;
  component: string | null;
}

/** Where deployments and repositories belong, from the charter. */
const ownersOf = (charter: Charter | undefined) => {
  const repos = new Map<string, Owner>();
  const componentTeam = new Map<string, string>();
  const reposOfComponent = new Map<string, string[]>();
  for (const team of charter?.teams ?? []) for (const c of team.components) componentTeam.set(c, team.id);
  for (const [repo, scope] of Object.entries(charter?.connectors?.github?.repos ?? {})) {
    repos.set(repo, { team: scope.team, component: scope.component ?? null });
    if (scope.component) {
      const key = `${scope.team}/${scope.component}`;
      reposOfComponent.set(key, [...(reposOfComponent.get(key) ?? []), repo]);
    }
  }
  /** A deployment's owner and group: its repository, else its service as a team component. */
  const deployment = (data: Record<string, unknown>): (Owner & { group: string; repo: string | null }) | null => {
    const repo = str(data['repo']);
    if (repo) {
      const owner = repos.get(repo);
      return owner ? { ...owner, group: repo, repo } : null;
    }
    const service = str(data['service']);
    const team = service ? componentTeam.get(service) : undefined;
    if (!service || !team) return null;
    const candidates = reposOfComponent.get(`${team}/${service}`) ?? [];
    const only = candidates.length === 1 ? candidates[0]! : null;
    return { team, component: service, group: only ?? `service:${service}`, repo: only };
  };
  /** The fact rows a deployment group is made of: rows of its repository, or service rows that resolve to it. */
  const sourcesOf = (group: string): { repo: string | null; services: string[] } => {
    if (group.startsWith('service:')) return { repo: null, services: [group.slice('service:'.length)] };
    const services = [...reposOfComponent]
      .filter(([, list]) => list.length === 1 && list[0] === group)
      .map(([key]) => key.slice(key.indexOf('/') + 1));
    return { repo: group, services };
  };
  /** The repositories and services whose deployments belong to these teams. */
  const sourcesOfTeams = (teams: ReadonlySet<string>): { repos: string[]; services: string[] } => ({
    repos: [...repos].filter(([, o]) => teams.has(o.team)).map(([r]) => r),
    services: [...componentTeam].filter(([, t]) => teams.has(t)).map(([c]) => c),
  });
  return { deployment, sourcesOf, sourcesOfTeams };
};

interface Deployment extends DeploymentRecord, Owner {}

const DEPLOYMENT_COLUMNS = ['repo', 'service', 'deployment_id', 'environment', 'at', 'shas', 'prs'] as const;
type DeploymentFactRow = Pick<QualityDeploymentTable, (typeof DEPLOYMENT_COLUMNS)[number]>;
const PR_COLUMNS = [
  'pr_key',
  'repo',
  'opened_at',
  'first_commit_at',
  'first_review_at',
  'merged_at',
  'merge_sha',
] as const;
type PrFactRow = Pick<QualityPrTable, (typeof PR_COLUMNS)[number]>;

interface PrAcc {
  key: string;
  group: string;
  openedAt: number | null;
  mergedAt: number | null;
  mergeCommitSha: string | null;
  firstCommitAt: number | null;
  firstReviewAt: number | null;
}

const capped = <T>(list: readonly T[]): { list: T[]; truncated?: number } =>
  list.length > DETAIL_CAP
    ? { list: list.slice(0, DETAIL_CAP), truncated: list.length - DETAIL_CAP }
    : { list: [...list] };

interface Bucket {
  deployments: { id: string; at: number }[];
  prs: { pr: string; deployment: string; hours: number; inferred: boolean }[];
  failed: { deployment: string; incidents: string[]; inferred: boolean }[];
  recoveries: { incident: string; deployment: string; hours: number; inferred: boolean }[];
}

/**
 * Computes every DORA signal from the log: one row per signal, team,
 * component (and null for the team) and week, from the first week with a
 * deployment (or `sinceWeek`) to the week of `now`.
 */
export const computeDoraSignals = async (
  ctx: ServiceContext,
  tx: Tx,
  scope: { now: Date; teams?: readonly string[]; sinceWeek?: string },
): Promise<SignalRow[]> => {
  const settings = ctx.charter()?.charter.quality ?? defaultQualitySettings();
  const loaded = await loadIncidents(
    tx,
    scope.sinceWeek === undefined ? null : weekStart(scope.sinceWeek) - DAY,
    settings.incident_window_hours * HOUR,
  );
  if (scope.teams !== undefined) return computeDoraOfTeams(ctx, tx, { ...scope, teams: scope.teams }, loaded);
  // One team at a time: a team's deployments and pull requests are all a team's figures need, and memory stays at
  // one team's share of the workspace.
  const out: SignalRow[] = [];
  for (const team of ctx.charter()?.charter.teams ?? [])
    for (const row of await computeDoraOfTeams(ctx, tx, { ...scope, teams: [team.id] }, loaded)) out.push(row);
  return out;
};

interface LoadedIncidents {
  incidents: Map<string, IncidentRecord & { team: string }>;
  events: { key: string; kind: string; at: number; target: string | null; data: Record<string, unknown> }[];
}

/**
 * Incidents (few) with their declared and resolved times and the events that
 * may link them to a deployment. A scoped recompute (`firstMs`) needs only the
 * incidents that can land in its weeks: declared from a window before the
 * first week (failed deployments) or resolved from it on (recoveries); the
 * item's closed time stands for the resolution here.
 */
const loadIncidents = async (tx: Tx, firstMs: number | null, windowMs: number): Promise<LoadedIncidents> => {
  let incidentQuery = tx.trx
    .selectFrom('item')
    .select(['key', 'team', 'component', 'created_at'])
    .where('kind', '=', 'incident');
  if (firstMs !== null) {
    const declaredFrom = new Date(firstMs - windowMs - DAY).toISOString();
    const resolvedFrom = new Date(firstMs).toISOString();
    incidentQuery = incidentQuery.where((eb) =>
      eb.or([eb('created_at', '>=', declaredFrom), eb('closed_at', 'is', null), eb('closed_at', '>=', resolvedFrom)]),
    );
  }
  const incidentItems = await incidentQuery.execute();
  const incidents = new Map<string, IncidentRecord & { team: string }>();
  for (const i of incidentItems) {
    if (!i.team) continue;
    incidents.set(i.key, {
      id: i.key,
      team: i.team,
      scope: i.component ? `${i.team}/${i.component}` : i.team,
      declaredAt: Date.parse(i.created_at),
      resolvedAt: null,
      references: [],
    });
  }
  const declared = new Set<string>();
  const incidentEvents: {
    key: string;
    kind: string;
    at: number;
    target: string | null;
    data: Record<string, unknown>;
  }[] = [];
  for (const part of chunks([...incidents.keys()])) {
    const rows = await tx.trx
      .selectFrom('event')
      .select(['item_key', 'kind', 'occurred_at', 'target', 'data'])
      .where('item_key', 'in', part)
      .execute();
    // Kinds are filtered here: with a kind condition the planners pick the kind index and read every `created` event.
    for (const r of rows) {
      const incident = incidents.get(r.item_key!);
      if (!incident || !(INCIDENT_KINDS as readonly string[]).includes(r.kind)) continue;
      const at = Date.parse(r.occurred_at);
      incidentEvents.push({ key: incident.id, kind: r.kind, at, target: r.target, data: parse(r.data) });
      if (r.kind === 'incident_declared' && !declared.has(incident.id)) {
        declared.add(incident.id);
        incident.declaredAt = at;
      } else if (r.kind === 'incident_resolved') incident.resolvedAt = Math.max(incident.resolvedAt ?? 0, at);
    }
  }
  return { incidents, events: incidentEvents };
};

const computeDoraOfTeams = async (
  ctx: ServiceContext,
  tx: Tx,
  scope: { now: Date; teams: readonly string[]; sinceWeek?: string | undefined },
  loaded: LoadedIncidents,
): Promise<SignalRow[]> => {
  const charter = ctx.charter()?.charter;
  const settings = charter?.quality ?? defaultQualitySettings();
  const timeZone = charter?.workspace.timezone ?? 'UTC';
  const owners = ownersOf(charter);
  const teams = new Set(scope.teams);

  const windowMs = settings.incident_window_hours * HOUR;
  const firstMs = scope.sinceWeek === undefined ? null : weekStart(scope.sinceWeek) - DAY; // a day for the time zone
  // Each team's incidents get their own reference lists (explicit links are resolved per team below).
  const incidents = new Map(
    [...loaded.incidents].map(([key, i]) => [key, { ...i, references: [] as string[] }] as const),
  );
  const incidentEvents = loaded.events;
  let contextStart: number | null = null;
  if (firstMs !== null) {
    contextStart = firstMs;
    for (const i of incidents.values())
      if ((i.resolvedAt !== null && i.resolvedAt >= firstMs) || i.declaredAt >= firstMs - windowMs)
        contextStart = Math.min(contextStart, i.declaredAt - windowMs - DAY);
  }

  // 1. Successful production deployments from the facts table (all, or the teams' from the context start), each
  // scoped deployment group with the last one before that start as its predecessor.
  const deployments = new Map<string, Deployment>();
  const addDeployment = (row: DeploymentFactRow): Deployment | null => {
    const owner = owners.deployment({ repo: row.repo, service: row.service });
    if (!owner || (teams && !teams.has(owner.team))) return null;
    const key = `${owner.group}@${row.deployment_id}`;
    const at = Date.parse(row.at);
    let d = deployments.get(key);
    if (!d) {
      d = {
        id: key,
        group: owner.group,
        team: owner.team,
        component: owner.component,
        environment: row.environment,
        production: true,
        success: true,
        at,
        shas: [],
        prs: [],
      };
      deployments.set(key, d);
    }
    d.at = Math.min(d.at, at);
    for (const sha of JSON.parse(row.shas) as string[]) if (!d.shas!.includes(sha)) (d.shas as string[]).push(sha);
    for (const pr of JSON.parse(row.prs) as string[]) {
      const prKey = pr.includes('#') ? pr : owner.repo ? `${owner.repo}#${pr}` : null;
      if (prKey && !d.prs!.includes(prKey)) (d.prs as string[]).push(prKey);
    }
    return d;
  };
  const sources = teams ? owners.sourcesOfTeams(teams) : null;
  if (!sources || sources.repos.length + sources.services.length > 0) {
    let q = tx.trx.selectFrom('quality_deployment').select(DEPLOYMENT_COLUMNS);
    if (contextStart !== null) q = q.where('at', '>=', new Date(contextStart).toISOString());
    if (sources)
      q = q.where((eb) =>
        eb.or([
          ...(sources.repos.length > 0 ? [eb('repo', 'in', sources.repos)] : []),
          ...(sources.services.length > 0 ? [eb('service', 'in', sources.services)] : []),
        ]),
      );
    for (const row of await q.execute()) addDeployment(row);
  }
  /** Where each group's PRs start to matter: after its predecessor (or from the beginning). */
  const prFrom = new Map<string, string>();
  if (contextStart !== null) {
    const before = new Date(contextStart).toISOString();
    for (const group of new Set([...deployments.values()].map((d) => d.group))) {
      const { repo, services } = owners.sourcesOf(group);
      const candidates: DeploymentFactRow[] = [];
      if (repo !== null) {
        const r = await tx.trx
          .selectFrom('quality_deployment')
          .select(DEPLOYMENT_COLUMNS)
          .where('repo', '=', repo)
          .where('at', '<', before)
          .orderBy('at', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (r) candidates.push(r);
      }
      for (const service of services) {
        const r = await tx.trx
          .selectFrom('quality_deployment')
          .select(DEPLOYMENT_COLUMNS)
          .where('repo', 'is', null)
          .where('service', '=', service)
          .where('at', '<', before)
          .orderBy('at', 'desc')
          .limit(1)
          .executeTakeFirst();
        if (r) candidates.push(r);
      }
      const latest = candidates.sort((a, b) => (a.at < b.at ? 1 : -1))[0];
      if (latest) addDeployment(latest);
      prFrom.set(group, latest?.at ?? '');
    }
  }

  // Pull requests: all, or those each scoped group can have carried (merged after its predecessor), plus the ones
  // the deployments name by commit or number.
  const prs = new Map<string, PrAcc>();
  const addPr = (r: PrFactRow): void => {
    if (r.repo === null || prs.has(r.pr_key)) return;
    prs.set(r.pr_key, {
      key: r.pr_key,
      group: r.repo,
      openedAt: ms(r.opened_at),
      mergedAt: ms(r.merged_at),
      mergeCommitSha: r.merge_sha,
      firstCommitAt: ms(r.first_commit_at),
      firstReviewAt: ms(r.first_review_at),
    });
  };
  const prQuery = () => tx.trx.selectFrom('quality_pr').select(PR_COLUMNS);
  const scoped = [...deployments.values()];
  for (const group of new Set(scoped.map((d) => d.group))) {
    if (group.startsWith('service:')) continue;
    let q = prQuery().where('repo', '=', group);
    const from = prFrom.get(group);
    if (from !== undefined) q = q.where('merged_at', '>=', from);
    for (const r of await q.execute()) addPr(r);
  }
  for (const part of chunks([...new Set(scoped.flatMap((d) => d.shas ?? []))]))
    for (const r of await prQuery().where('merge_sha', 'in', part).execute()) addPr(r);
  for (const part of chunks([...new Set(scoped.flatMap((d) => d.prs ?? []))].filter((k) => !prs.has(k))))
    for (const r of await prQuery().where('pr_key', 'in', part).execute()) addPr(r);

  // In time order (then id), so lists in the details read the same whatever order the rows came in.
  const live = [...deployments.values()].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const liveById = new Map(live.map((d) => [d.id, d]));

  // 2. What each deployment carried; each PR's first production deployment.
  const carried = carriedChanges(live, [...prs.values()] as PrRecord[]);
  const firstDeployOfPr = new Map<string, Deployment>();
  for (const d of live)
    for (const pr of carried.get(d.id)?.prs ?? []) if (!firstDeployOfPr.has(pr)) firstDeployOfPr.set(pr, d);

  // 3. Incidents attributed to deployments: an explicit reference first, else the window (domain/dora.ts).
  // Only the deployment ids and PRs that incidents name are indexed: the lists are long, the references few.
  const named = new Set<string>();
  for (const e of incidentEvents)
    for (const v of [e.data['deploymentId'], e.data['deployment']]) {
      const ref = idOf(v);
      if (ref) named.add(ref);
    }
  const liveByDeploymentId = new Map<string, string[]>();
  if (named.size > 0)
    for (const d of live) {
      const ref = d.id.slice(d.id.lastIndexOf('@') + 1);
      if (named.has(ref)) liveByDeploymentId.set(ref, [...(liveByDeploymentId.get(ref) ?? []), d.id]);
    }
  const deploymentOfPr = new Map<string, string>();
  const linkedTargets = new Set<string>();
  for (const e of incidentEvents) {
    const refs = incidents.get(e.key)!.references as string[];
    for (const v of [e.data['deploymentId'], e.data['deployment']]) {
      const ref = idOf(v);
      if (ref) refs.push(...(liveByDeploymentId.get(ref) ?? []));
    }
    if (e.kind === 'linked' && e.target) {
      refs.push(e.target);
      linkedTargets.add(e.target);
      const viaPr = firstDeployOfPr.get(e.target);
      if (viaPr) deploymentOfPr.set(e.target, viaPr.id);
    }
  }
  // Only deployments in a scope that has incidents can be attributed one.
  const incidentScopes = new Set([...incidents.values()].map((i) => i.scope));
  const attributable: AttributableDeployment[] = [];
  for (const d of live) {
    const scopes = d.component ? [d.team, `${d.team}/${d.component}`] : [d.team];
    if (
      scopes.some((x) => incidentScopes.has(x)) ||
      linkedTargets.has(d.id) ||
      liveByDeploymentId.has(d.id.slice(d.id.lastIndexOf('@') + 1))
    )
      attributable.push({ id: d.id, scopes, at: d.at, production: true, success: true });
  }
  const incidentList = [...incidents.values()];
  const attributions = attributeIncidents(incidentList, attributable, settings.incident_window_hours, deploymentOfPr);

  // 4. Buckets per scope and week.
  const buckets = new Map<string, Map<string, Bucket>>();
  const bucket = (team: string, component: string | null, week: string): Bucket => {
    const scopeKey = `${team}\u0000${component ?? ''}`;
    let weeks = buckets.get(scopeKey);
    if (!weeks) buckets.set(scopeKey, (weeks = new Map()));
    let b = weeks.get(week);
    if (!b) weeks.set(week, (b = { deployments: [], prs: [], failed: [], recoveries: [] }));
    return b;
  };
  const scopesOf = (o: Owner): [string, string | null][] =>
    teams && !teams.has(o.team)
      ? []
      : o.component
        ? [
            [o.team, o.component],
            [o.team, null],
          ]
        : [[o.team, null]];

  for (const d of live) {
    const week = weekOf(d.at, timeZone);
    for (const [t, c] of scopesOf(d)) bucket(t, c, week).deployments.push({ id: d.id, at: d.at });
  }
  for (const [prKey, d] of firstDeployOfPr) {
    const pr = prs.get(prKey)!;
    const lead = leadTimeMs({ ...pr, deployedAt: d.at });
    if (lead === null) continue;
    const entry = { pr: prKey, deployment: d.id, hours: hours(lead), inferred: carried.get(d.id)!.inferred };
    const week = weekOf(d.at, timeZone);
    for (const [t, c] of scopesOf(d)) bucket(t, c, week).prs.push(entry);
  }
  const incidentsOfDeployment = new Map<string, { incidents: string[]; inferred: boolean }>();
  attributions.forEach((a, i) => {
    if (a.deployment === null) return;
    const entry = incidentsOfDeployment.get(a.deployment) ?? { incidents: [], inferred: true };
    entry.incidents.push(a.incident);
    entry.inferred &&= a.inferred;
    incidentsOfDeployment.set(a.deployment, entry);
    const incident = incidentList[i]!;
    const recovery = recoveryMs(incident, a);
    const d = liveById.get(a.deployment)!;
    if (recovery === null) return;
    const week = weekOf(incident.resolvedAt!, timeZone);
    const entry2 = { incident: a.incident, deployment: a.deployment, hours: hours(recovery), inferred: a.inferred };
    for (const [t, c] of scopesOf(d)) bucket(t, c, week).recoveries.push(entry2);
  });
  for (const [id, hit] of incidentsOfDeployment) {
    const d = liveById.get(id)!;
    const week = weekOf(d.at, timeZone);
    for (const [t, c] of scopesOf(d)) bucket(t, c, week).failed.push({ deployment: id, ...hit });
  }

  // 5. Rows, with empty weeks filled so a week without deployments reads 0.
  const nowWeek = weekOf(scope.now.getTime(), timeZone);
  const out: SignalRow[] = [];
  for (const [scopeKey, weeks] of buckets) {
    const [team, componentText] = scopeKey.split('\u0000') as [string, string];
    const component = componentText === '' ? null : componentText;
    const first = [...weeks.keys()].sort()[0]!;
    const from = scope.sinceWeek && scope.sinceWeek > first ? scope.sinceWeek : first;
    for (const week of weeksBetween(from, nowWeek)) {
      const b = weeks.get(week) ?? { deployments: [], prs: [], failed: [], recoveries: [] };
      const ids = b.deployments.map((d) => d.id);
      const days =
        deployDaysByWeek(
          b.deployments.map((d) => d.at),
          timeZone,
        ).get(week) ?? [];
      const base = { team, component, week };
      const n = ids.length;
      const deps = capped(ids);
      out.push({
        ...base,
        signal: 'dora.deploy_days',
        value: days.length,
        numerator: days.length,
        denominator: null,
        details: { days, timeZone, deployments: deps.list, ...(deps.truncated ? { truncated: deps.truncated } : {}) },
      });
      out.push({
        ...base,
        signal: 'dora.deployments',
        value: n,
        numerator: n,
        denominator: null,
        details: { deployments: deps.list, ...(deps.truncated ? { truncated: deps.truncated } : {}) },
      });
      const leads = capped(b.prs);
      out.push({
        ...base,
        signal: 'dora.lead_time_median_h',
        value: median(b.prs.map((p) => p.hours)),
        numerator: null,
        denominator: b.prs.length,
        details: { prs: leads.list, ...(leads.truncated ? { truncated: leads.truncated } : {}) },
      });
      const failed = capped(b.failed);
      out.push({
        ...base,
        signal: 'dora.change_failure_rate',
        value: n === 0 ? null : b.failed.length / n,
        numerator: b.failed.length,
        denominator: n,
        details: {
          failed: failed.list,
          windowHours: settings.incident_window_hours,
          ...(failed.truncated ? { truncated: failed.truncated } : {}),
        },
      });
      const rec = capped(b.recoveries);
      out.push({
        ...base,
        signal: 'dora.recovery_median_h',
        value: median(b.recoveries.map((r) => r.hours)),
        numerator: null,
        denominator: b.recoveries.length,
        details: { incidents: rec.list, ...(rec.truncated ? { truncated: rec.truncated } : {}) },
      });
    }
  }
  return out;
};

// ---------------------------------------------------------------- summary

export interface DoraFigure {
  value: number | null;
  band: DoraBand | null;
}

export interface DoraSummary {
  team: string;
  component: string | null;
  /** The weeks (Mondays) the figures cover, oldest first. */
  weeks: string[];
  /** Deployment days per week, averaged. */
  deploymentFrequency: DoraFigure;
  /** Median hours, first commit → production deployment. */
  leadTimeHours: DoraFigure;
  /** Ratio 0..1. */
  changeFailureRate: DoraFigure;
  /** Median hours, incident declared → resolved. */
  recoveryHours: DoraFigure;
}

const hoursOfDetails = (rows: readonly SignalRow[], key: 'prs' | 'incidents'): number[] =>
  rows.flatMap((r) => {
    const list = r.details?.[key];
    return Array.isArray(list)
      ? list.map((e) => (e as { hours?: unknown }).hours).filter((h): h is number => typeof h === 'number')
      : [];
  });

/** The current figure of each key over the last `weeks` weeks of each scope, with its band in `year`'s report. */
export const doraSummary = (rows: readonly SignalRow[], year: DoraYear, weeks = 4): DoraSummary[] => {
  const scopes = new Map<string, SignalRow[]>();
  for (const r of rows) {
    if (!r.signal.startsWith('dora.')) continue;
    const key = `${r.team}\u0000${r.component ?? ''}`;
    scopes.set(key, [...(scopes.get(key) ?? []), r]);
  }
  const figure = (metric: Parameters<typeof doraBand>[1], value: number | null): DoraFigure => ({
    value,
    band: value === null ? null : doraBand(year, metric, value),
  });
  return [...scopes.values()].map((list) => {
    const recent = [...new Set(list.map((r) => r.week))].sort().slice(-weeks);
    const inWeeks = (signal: string) => list.filter((r) => r.signal === signal && recent.includes(r.week));
    const days = inWeeks('dora.deploy_days');
    const cfr = inWeeks('dora.change_failure_rate');
    const num = cfr.reduce((s, r) => s + (r.numerator ?? 0), 0);
    const den = cfr.reduce((s, r) => s + (r.denominator ?? 0), 0);
    return {
      team: list[0]!.team,
      component: list[0]!.component,
      weeks: recent,
      deploymentFrequency: figure(
        'deployment_frequency',
        days.length === 0 ? null : days.reduce((s, r) => s + (r.value ?? 0), 0) / recent.length,
      ),
      leadTimeHours: figure('lead_time', median(hoursOfDetails(inWeeks('dora.lead_time_median_h'), 'prs'))),
      changeFailureRate: figure('change_failure_rate', den === 0 ? null : num / den),
      recoveryHours: figure('recovery_time', median(hoursOfDetails(inWeeks('dora.recovery_median_h'), 'incidents'))),
    };
  });
};
