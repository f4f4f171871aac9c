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
import { deploymentFactsOf } from '../domain/stage.evidence.js';
import type { Tx } from '../store/event.repository.js';
import type { ServiceContext } from './context.js';

/**
 * The DORA four keys per team and component, one row per signal, scope and
 * week (docs/dora.md). Reads only the event kinds it needs, row by row, and
 * keeps one small record per deployment, pull request and incident.
 */

export const DORA_SIGNALS = SIGNALS.dora;

const HOUR = 3_600_000;
const DETAIL_CAP = 200;
const PAGE = 5000;
const SCAN_KINDS = ['deployed', 'pr_opened', 'review_submitted', 'pr_merged'] as const;
const INCIDENT_KINDS = ['created', 'incident_declared', 'incident_resolved', 'linked'] as const;

interface ScanRow {
  id: string;
  kind: string;
  occurred_at: string;
  data: string | null;
}

/** Rows of the given kinds, unordered; SQLite streams a prepared statement, PostgreSQL pages by id. */
async function* scanEvents(tx: Tx, kinds: readonly string[]): AsyncGenerator<ScanRow> {
  if (tx.engine === 'sqlite' && tx.sqlite) {
    const statement = tx.sqlite.prepare(
      `SELECT id, kind, occurred_at, data FROM event WHERE kind IN (${kinds.map(() => '?').join(', ')})`,
    );
    for (const row of statement.iterate(...kinds)) yield row as ScanRow;
    return;
  }
  let after = '';
  for (;;) {
    const rows = await tx.trx
      .selectFrom('event')
      .select(['id', 'kind', 'occurred_at', 'data'])
      .where('kind', 'in', [...kinds])
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    for (const row of rows) yield row;
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

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
  return { deployment };
};

interface Deployment extends DeploymentRecord, Owner {}

interface PrAcc {
  key: string;
  group: string;
  openedAt: number | null;
  mergedAt: number | null;
  mergeCommitSha: string | null;
  firstCommitAt: number | null;
  firstReviewAt: number | null;
}

const min = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

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
  const charter = ctx.charter()?.charter;
  const settings = charter?.quality ?? defaultQualitySettings();
  const timeZone = charter?.workspace.timezone ?? 'UTC';
  const owners = ownersOf(charter);
  const teams = scope.teams ? new Set(scope.teams) : null;

  // 1. One pass over deployments and pull-request events.
  const deployments = new Map<string, Deployment>();
  const prs = new Map<string, PrAcc>();
  for await (const row of scanEvents(tx, SCAN_KINDS)) {
    const data = parse(row.data);
    const at = Date.parse(row.occurred_at);
    if (row.kind === 'deployed') {
      const facts = deploymentFactsOf({ kind: 'deployed', data });
      if (!facts?.production) continue;
      const owner = owners.deployment(data);
      if (!owner) continue;
      const key = `${owner.group}@${facts.id ?? row.id}`;
      let d = deployments.get(key);
      if (!d) {
        d = {
          id: key,
          group: owner.group,
          team: owner.team,
          component: owner.component,
          environment: facts.environment,
          production: true,
          success: false,
          at,
          shas: [],
          prs: [],
        };
        deployments.set(key, d);
      }
      if (facts.success) d.at = d.success ? Math.min(d.at, at) : at;
      else if (!d.success) d.at = Math.min(d.at, at);
      d.success ||= facts.success;
      for (const sha of facts.shas) if (!d.shas!.includes(sha)) (d.shas as string[]).push(sha);
      const named = [data['pr'], ...(Array.isArray(data['prs']) ? data['prs'] : [])]
        .map(idOf)
        .filter((p): p is string => p !== null);
      for (const pr of named) {
        const prKey = pr.includes('#') ? pr : owner.repo ? `${owner.repo}#${pr}` : null;
        if (prKey && !d.prs!.includes(prKey)) (d.prs as string[]).push(prKey);
      }
      continue;
    }
    const repo = str(data['repo']);
    const number = idOf(data['pr']);
    if (!repo || number === null) continue;
    const key = `${repo}#${number}`;
    let pr = prs.get(key);
    if (!pr) {
      pr = {
        key,
        group: repo,
        openedAt: null,
        mergedAt: null,
        mergeCommitSha: null,
        firstCommitAt: null,
        firstReviewAt: null,
      };
      prs.set(key, pr);
    }
    pr.firstCommitAt = min(pr.firstCommitAt, ms(data['firstCommitAt']));
    if (row.kind === 'pr_opened') pr.openedAt = min(pr.openedAt, at);
    else if (row.kind === 'review_submitted') pr.firstReviewAt = min(pr.firstReviewAt, at);
    else {
      pr.mergedAt = min(pr.mergedAt, at);
      pr.mergeCommitSha ??= str(data['mergeCommitSha'])?.toLowerCase() ?? null;
    }
  }
  const live = [...deployments.values()].filter((d) => d.success);
  const liveById = new Map(live.map((d) => [d.id, d]));

  // 2. What each deployment carried; each PR's first production deployment.
  const carried = carriedChanges(live, [...prs.values()] as PrRecord[]);
  const firstDeployOfPr = new Map<string, Deployment>();
  for (const d of [...live].sort((a, b) => a.at - b.at))
    for (const pr of carried.get(d.id)?.prs ?? []) if (!firstDeployOfPr.has(pr)) firstDeployOfPr.set(pr, d);

  // 3. Incidents and their events (index on item_key), attributed to deployments.
  const incidentItems = await tx.trx
    .selectFrom('item')
    .select(['key', 'team', 'component', 'created_at'])
    .where('kind', '=', 'incident')
    .execute();
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
  if (incidents.size > 0) {
    const rows = await tx.trx
      .selectFrom('event as e')
      .innerJoin('item as i', 'i.key', 'e.item_key')
      .select(['e.item_key', 'e.kind', 'e.occurred_at', 'e.target', 'e.data'])
      .where('i.kind', '=', 'incident')
      .where('e.kind', 'in', [...INCIDENT_KINDS])
      .execute();
    for (const r of rows) {
      const incident = incidents.get(r.item_key!);
      if (!incident) continue;
      const at = Date.parse(r.occurred_at);
      const data = parse(r.data);
      const refs = incident.references as string[];
      for (const v of [data['deploymentId'], data['deployment']]) {
        const ref = idOf(v);
        if (ref) refs.push(...live.filter((d) => d.id.endsWith(`@${ref}`)).map((d) => d.id));
      }
      if (r.kind === 'linked' && r.target) refs.push(r.target);
      if (r.kind === 'incident_declared' && !declared.has(incident.id)) {
        declared.add(incident.id);
        incident.declaredAt = at;
      } else if (r.kind === 'incident_resolved') incident.resolvedAt = Math.max(incident.resolvedAt ?? 0, at);
    }
  }
  const attributable: AttributableDeployment[] = live.map((d) => ({
    id: d.id,
    scopes: d.component ? [d.team, `${d.team}/${d.component}`] : [d.team],
    at: d.at,
    production: true,
    success: true,
  }));
  const deploymentOfPr = new Map([...firstDeployOfPr].map(([pr, d]) => [pr, d.id]));
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
