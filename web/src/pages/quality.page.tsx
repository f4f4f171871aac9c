import { useEffect, useRef } from 'react';
import { Link, useSearchParams } from 'react-router';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api } from '../api';
import {
  escalationPath,
  qualityApi,
  STATE_LABELS,
  type CurrentFigure,
  type QualityOverview,
  type SignalRow,
  type SloView,
} from '../quality.api';
import { EmptyState, ErrorNotice, formatNumber, isForbidden, Loading, NoAccess, useApi, useTitle } from '../ui';

/**
 * The Quality page (`GET /api/v1/quality`): the guardrails engineering
 * leadership owns, per team and component — DORA tiles with their benchmark
 * bands, SLO budgets and burn, review and coverage trends, bug flow, the
 * team's sustainable pace (team level only) and the open findings. Every
 * figure is a team's or a component's; nothing here is per person or ranks
 * anyone.
 */

const percentFormat = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });
const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : percentFormat.format(v));
const hours = (v: number | null | undefined): string =>
  v === null || v === undefined
    ? '—'
    : v < 48
      ? `${formatNumber(Math.round(v * 10) / 10)} h`
      : `${formatNumber(Math.round(v / 24))} d`;
const num = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : formatNumber(Math.round(v * 10) / 10);
const coveragePct = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : `${formatNumber(Math.round((v <= 1 ? v * 100 : v) * 10) / 10)} %`;

const DORA_TILES: readonly { signal: string; label: string; format: (v: number | null) => string; unit: string }[] = [
  { signal: 'dora.deploy_days', label: 'Deployment frequency', format: num, unit: 'deploy days a week' },
  { signal: 'dora.lead_time_median_h', label: 'Lead time for changes', format: hours, unit: 'median' },
  { signal: 'dora.change_failure_rate', label: 'Change failure rate', format: pct, unit: 'of deployments' },
  { signal: 'dora.recovery_median_h', label: 'Failed-deployment recovery', format: hours, unit: 'median' },
];

const PACE_TILES: readonly { signal: string; label: string; format: (v: number | null) => string }[] = [
  { signal: 'pace.wip', label: 'Work in progress', format: num },
  { signal: 'pace.unplanned_share', label: 'Unplanned work', format: pct },
  { signal: 'pace.after_hours_share', label: 'After-hours activity', format: pct },
  { signal: 'pace.pages', label: 'On-call pages a week', format: num },
];

const WEEK_OPTIONS = [13, 26, 52] as const;

export const QualityPage = () => {
  useTitle('Quality');
  const [params, setParams] = useSearchParams();
  const overview = useApi((signal) => api.overview(signal), []);
  const teams = overview.data?.teams ?? [];
  const teamId = params.get('team')?.trim() || teams[0]?.id || '';
  const component = params.get('component')?.trim() || '';
  const weeks = Number(params.get('weeks')) || 26;
  const year = params.get('dora_year') ?? '';
  const quality = useApi(
    (signal) =>
      teamId
        ? qualityApi.quality(
            { team: teamId, component: component || undefined, weeks, dora_year: year || undefined },
            signal,
          )
        : Promise.resolve(undefined),
    [teamId, component, weeks, year],
  );

  if (isForbidden(quality.error)) return <NoAccess forWhom="members and admins of the workspace" />;

  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    if (key === 'team') next.delete('component');
    setParams(next);
  };
  const team = teams.find((t) => t.id === teamId);
  const data = quality.data;

  return (
    <section className="page" aria-labelledby="quality-title" aria-busy={quality.loading}>
      <header className="page-header">
        <h1 id="quality-title">Quality</h1>
        <p className="muted">
          The guardrails engineering leadership owns — delivery (DORA), SLOs, review rigor, coverage, bug flow and
          sustainable pace — per team and component, week by week. These are the system&apos;s figures, never a
          person&apos;s: when one breaks, the fix is in the system.
        </p>
      </header>

      <div className="card filters">
        <div className="filter-row quality-filters">
          <div className="field">
            <label htmlFor="q-team">Team</label>
            <select id="q-team" value={teamId} onChange={(e) => setParam('team', e.target.value)}>
              {teams.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="q-component">Component</label>
            <select id="q-component" value={component} onChange={(e) => setParam('component', e.target.value)}>
              <option value="">Whole team</option>
              {(team?.components ?? []).map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="q-weeks">Weeks</label>
            <select id="q-weeks" value={weeks} onChange={(e) => setParam('weeks', e.target.value)}>
              {WEEK_OPTIONS.map((w) => (
                <option key={w} value={w}>
                  Last {w} weeks
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="q-year">DORA bands</label>
            <select id="q-year" value={year} onChange={(e) => setParam('dora_year', e.target.value)}>
              <option value="">Workspace default</option>
              <option value="2024">2024 report</option>
              <option value="2023">2023 report</option>
            </select>
          </div>
        </div>
      </div>

      {overview.error !== undefined && (
        <ErrorNotice title="The teams could not be loaded" error={overview.error} onRetry={overview.reload} />
      )}
      {quality.error !== undefined && (
        <ErrorNotice title="The quality figures could not be loaded" error={quality.error} onRetry={quality.reload} />
      )}
      {(overview.loading || quality.loading) && !data && <Loading label="Loading the quality figures…" />}
      {overview.data && teams.length === 0 && <EmptyState title="No teams in the charter yet" />}
      {data && <QualityBody data={data} component={component || null} />}
    </section>
  );
};

const scopeRows = (data: QualityOverview, signal: string, component: string | null): SignalRow[] =>
  data.signals
    .filter((r) => r.signal === signal && r.component === component)
    .sort((a, b) => (a.week < b.week ? -1 : 1));

const currentOf = (data: QualityOverview, signal: string, component: string | null): CurrentFigure | undefined =>
  data.current.find((c) => c.signal === signal && c.component === component);

const QualityBody = ({ data, component }: { data: QualityOverview; component: string | null }) => {
  // Scopes shown: the component asked for, else the team level and each component with figures.
  const scopes: (string | null)[] = component
    ? [component]
    : [null, ...data.team.components.filter((c) => data.signals.some((r) => r.component === c))];
  const scopeName = (s: string | null) => (s === null ? `${data.team.name} (team level)` : s);
  const hasAny = data.signals.length > 0 || data.slo.length > 0;
  const slos = data.slo.filter((s) => component === null || s.component === component || s.component === null);

  return (
    <div className="stack-lg" data-testid={`quality-team-${data.team.id}`}>
      <section className="card" aria-labelledby="q-findings" data-testid="quality-findings">
        <div className="card-header">
          <h2 id="q-findings">Open findings</h2>
          <Link to={`/escalations?team=${encodeURIComponent(data.team.id)}`}>All escalations</Link>
        </div>
        {data.findings.length === 0 ? (
          <p className="muted">No guardrail of {data.team.name} is broken right now.</p>
        ) : (
          <ul className="finding-list">
            {data.findings.map((f) => (
              <li key={f.id} className={`finding finding-${f.finding.severity}`} data-rule={f.finding.rule}>
                <span className={`badge severity-${f.finding.severity}`}>{f.finding.severity}</span>{' '}
                <span className="badge badge-muted">{STATE_LABELS[f.state]}</span>{' '}
                <Link to={escalationPath(f.id)}>{f.finding.pattern}</Link>
                <p className="meta">Guardrail: {f.finding.guardrail}</p>
              </li>
            ))}
          </ul>
        )}
      </section>

      {!hasAny && (
        <EmptyState title="No quality signals yet">
          <p>Signals appear once deployments, pull requests, bugs, coverage reports or SLO samples arrive.</p>
        </EmptyState>
      )}

      {scopes.map((scope) => {
        const dora = DORA_TILES.map((t) => ({ ...t, current: currentOf(data, t.signal, scope) }));
        if (!dora.some((t) => t.current)) return null;
        return (
          <section key={`dora-${scope ?? ''}`} className="card" aria-label={`Delivery (DORA), ${scopeName(scope)}`}>
            <div className="card-header">
              <h2>Delivery (DORA) — {scopeName(scope)}</h2>
              <span className="meta">Bands of the DORA {data.doraYear} report</span>
            </div>
            <div className="tiles" data-testid="dora-tiles">
              {dora.map((t) => (
                <div key={t.signal} className="tile" data-signal={t.signal}>
                  <div className="tile-label">{t.label}</div>
                  <div className="tile-value">{t.format(t.current?.value ?? null)}</div>
                  <div className="tile-unit">{t.unit}</div>
                  {t.current?.band && <span className={`band band-${t.current.band}`}>{t.current.band}</span>}
                </div>
              ))}
            </div>
          </section>
        );
      })}

      {(slos.length > 0 || data.signals.some((r) => r.signal === 'slo.budget_remaining')) && (
        <section className="card" aria-labelledby="q-slo" data-testid="quality-slo">
          <div className="card-header">
            <h2 id="q-slo">SLOs: error budget and burn</h2>
          </div>
          {slos.length > 0 && (
            <div className="tiles">
              {slos.map((s) => (
                <SloTile key={s.name} slo={s} />
              ))}
            </div>
          )}
          {scopes.map((scope) => {
            const rows = scopeRows(data, 'slo.budget_remaining', scope);
            return rows.length === 0 ? null : (
              <TrendChart
                key={`slo-${scope ?? ''}`}
                title={`Error budget remaining — ${scopeName(scope)}`}
                weeks={rows.map((r) => r.week)}
                series={[
                  { label: 'Budget remaining (%)', values: rows.map((r) => (r.value === null ? null : r.value * 100)) },
                ]}
              />
            );
          })}
        </section>
      )}

      {scopes.map((scope) => {
        const inflow = scopeRows(data, 'bugs.inflow', scope);
        const outflow = scopeRows(data, 'bugs.outflow', scope);
        const reopen = scopeRows(data, 'bugs.reopen_rate', scope);
        if (inflow.length === 0 && outflow.length === 0 && reopen.length === 0) return null;
        const weeks = [...new Set([...inflow, ...outflow, ...reopen].map((r) => r.week))].sort();
        const at = (rows: SignalRow[]) => weeks.map((w) => rows.find((r) => r.week === w)?.value ?? null);
        return (
          <section
            key={`bugs-${scope ?? ''}`}
            className="card"
            aria-label={`Bug flow, ${scopeName(scope)}`}
            data-testid="quality-bugs"
          >
            <div className="card-header">
              <h2>Bug flow — {scopeName(scope)}</h2>
              <span className="meta">
                Open now: {num(currentOf(data, 'bugs.open', scope)?.value)} · median age{' '}
                {num(currentOf(data, 'bugs.open_age_median_d', scope)?.value)} d · escaped{' '}
                {num(currentOf(data, 'bugs.escaped', scope)?.value)} · regressions{' '}
                {num(currentOf(data, 'bugs.regressions', scope)?.value)}
              </span>
            </div>
            <TrendChart
              title={`Bugs in and out per week — ${scopeName(scope)}`}
              weeks={weeks}
              series={[
                { label: 'Inflow', values: at(inflow) },
                { label: 'Outflow', values: at(outflow) },
              ]}
            />
            {reopen.length > 0 && (
              <TrendChart
                title={`Reopen rate — ${scopeName(scope)}`}
                weeks={weeks}
                series={[{ label: 'Reopen rate (%)', values: at(reopen).map((v) => (v === null ? null : v * 100)) }]}
              />
            )}
          </section>
        );
      })}

      {scopes.map((scope) => {
        const unreviewed = scopeRows(data, 'review.unreviewed_share', scope);
        const firstReview = scopeRows(data, 'review.first_review_median_h', scope);
        const line = scopeRows(data, 'coverage.line', scope);
        const branch = scopeRows(data, 'coverage.branch', scope);
        if (unreviewed.length + firstReview.length + line.length + branch.length === 0) return null;
        return (
          <section
            key={`rc-${scope ?? ''}`}
            className="card"
            aria-label={`Review and coverage, ${scopeName(scope)}`}
            data-testid="quality-review"
          >
            <div className="card-header">
              <h2>Review and coverage — {scopeName(scope)}</h2>
              <span className="meta">
                Merged without approval {pct(currentOf(data, 'review.unreviewed_share', scope)?.value)} · large PRs{' '}
                {pct(currentOf(data, 'review.large_pr_share', scope)?.value)} · first review p90{' '}
                {hours(currentOf(data, 'review.first_review_p90_h', scope)?.value)}
              </span>
            </div>
            {(unreviewed.length > 0 || firstReview.length > 0) && (
              <TrendChart
                title={`Review rigor — ${scopeName(scope)}`}
                weeks={[...new Set([...unreviewed, ...firstReview].map((r) => r.week))].sort()}
                series={[
                  {
                    label: 'Unreviewed merges (%)',
                    values: weeksOf(unreviewed, firstReview).map((w) => pctOf(unreviewed, w)),
                  },
                  {
                    label: 'First review, median (h)',
                    values: weeksOf(unreviewed, firstReview).map((w) => valOf(firstReview, w)),
                  },
                ]}
              />
            )}
            {(line.length > 0 || branch.length > 0) && (
              <TrendChart
                title={`Coverage — ${scopeName(scope)}`}
                weeks={weeksOf(line, branch)}
                series={[
                  { label: 'Line coverage (%)', values: weeksOf(line, branch).map((w) => covOf(line, w)) },
                  { label: 'Branch coverage (%)', values: weeksOf(line, branch).map((w) => covOf(branch, w)) },
                ]}
              />
            )}
            <p className="meta">
              Now: line {coveragePct(currentOf(data, 'coverage.line', scope)?.value)}, branch{' '}
              {coveragePct(currentOf(data, 'coverage.branch', scope)?.value)}
            </p>
          </section>
        );
      })}

      {PACE_TILES.some((t) => currentOf(data, t.signal, null)) && (
        <section className="card" aria-labelledby="q-pace" data-testid="quality-pace">
          <div className="card-header">
            <h2 id="q-pace">Sustainable pace — {data.team.name}</h2>
            <span className="meta">Team level only</span>
          </div>
          <div className="tiles">
            {PACE_TILES.map((t) => (
              <div key={t.signal} className="tile" data-signal={t.signal}>
                <div className="tile-label">{t.label}</div>
                <div className="tile-value">{t.format(currentOf(data, t.signal, null)?.value ?? null)}</div>
              </div>
            ))}
          </div>
        </section>
      )}
    </div>
  );
};

const weeksOf = (...lists: SignalRow[][]): string[] => [...new Set(lists.flat().map((r) => r.week))].sort();
const valOf = (rows: SignalRow[], week: string): number | null => rows.find((r) => r.week === week)?.value ?? null;
const pctOf = (rows: SignalRow[], week: string): number | null => {
  const v = valOf(rows, week);
  return v === null ? null : v * 100;
};
const covOf = (rows: SignalRow[], week: string): number | null => {
  const v = valOf(rows, week);
  return v === null ? null : v <= 1 ? v * 100 : v;
};

const SloTile = ({ slo }: { slo: SloView }) => (
  <div className="tile" data-slo={slo.name}>
    <div className="tile-label">{slo.displayName ?? slo.name}</div>
    <div className={`tile-value${slo.budgetRemaining !== null && slo.budgetRemaining <= 0 ? ' tile-bad' : ''}`}>
      {pct(slo.budgetRemaining)}
    </div>
    <div className="tile-unit">
      budget left · target {pct(slo.target)} over {slo.windowDays} days
      {slo.component ? ` · ${slo.component}` : ''}
    </div>
    {(slo.alertsFiring?.length ?? 0) > 0 && (
      <span className="band band-low">{slo.alertsFiring!.length} burn alert(s) firing</span>
    )}
  </div>
);

const SERIES_COLORS = ['#2563eb', '#d97706', '#059669', '#9333ea'];

/** A weekly line chart drawn by uPlot, with the figures also in a hidden table for screen readers. */
const TrendChart = ({
  title,
  weeks,
  series,
}: {
  title: string;
  weeks: string[];
  series: { label: string; values: (number | null)[] }[];
}) => {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || weeks.length === 0) return;
    const xs = weeks.map((w) => Date.parse(`${w}T00:00:00Z`) / 1000);
    const width = Math.max(260, Math.min(el.clientWidth || 600, 900));
    const plot = new uPlot(
      {
        width,
        height: 180,
        legend: { show: true },
        scales: { x: { time: true } },
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: SERIES_COLORS[i % SERIES_COLORS.length]!,
            width: 2,
            spanGaps: true,
          })),
        ],
        axes: [{}, { size: 44 }],
      },
      [xs, ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const onResize = () => plot.setSize({ width: Math.max(260, Math.min(el.clientWidth || 600, 900)), height: 180 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [JSON.stringify(weeks), JSON.stringify(series)]);
  return (
    <figure className="trend-chart">
      <figcaption>{title}</figcaption>
      <div
        ref={ref}
        className="uplot-host"
        role="img"
        aria-label={`${title}: ${weeks.length} weeks`}
        data-testid="quality-chart"
      />
      <table className="sr-only">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Week</th>
            {series.map((s) => (
              <th key={s.label} scope="col">
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {weeks.map((w, i) => (
            <tr key={w}>
              <th scope="row">{w}</th>
              {series.map((s) => (
                <td key={s.label}>{num(s.values[i] ?? null)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
};
