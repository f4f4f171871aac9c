import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useSearchParams } from 'react-router';
import {
  api,
  type BoundaryReport,
  type CrossingExample,
  type DirectionCounts,
  type DomainReport,
  type MiddlemanReport,
  type MiddlemanTeam,
  type TeamBoundaryReport,
} from '../api';
import {
  EmptyState,
  ErrorNotice,
  formatDateTime,
  formatNumber,
  isForbidden,
  Loading,
  NoAccess,
  TableWrap,
  Time,
  useApi,
  useTitle,
} from '../ui';

/**
 * The boundary monitor (`GET /api/v1/boundaries`, `GET /api/v1/middleman`):
 * decisions held against the charter per team, domain, week and direction, and
 * how much status relaying lands on product managers. Everything here counts
 * decisions, never a person's decisions; names appear only inside the example
 * sentences and in the product-manager load table, which keeps the API's order.
 */

const SINCE_OPTIONS: readonly (readonly [string, string])[] = [
  ['30d', 'Last 30 days'],
  ['90d', 'Last 90 days'],
  ['180d', 'Last 180 days'],
  ['365d', 'Last 365 days'],
];
const DEFAULT_SINCE = '90d';

type Direction = keyof DirectionCounts;
const DIRECTIONS: readonly { key: Direction; label: string; note: string }[] = [
  {
    key: 'product_to_engineering',
    label: 'Product → engineering',
    note: 'Product made a call the charter gives to engineering.',
  },
  {
    key: 'engineering_to_product',
    label: 'Engineering → product',
    note: 'Engineering made a call the charter gives to product.',
  },
  { key: 'other', label: 'Other', note: 'Any other crossing, for example a stakeholder deciding.' },
];
const directionLabel = (key: Direction): string => DIRECTIONS.find((d) => d.key === key)?.label ?? key;

const percentFormat = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 0 });
const percent = (share: number | null): string => (share === null ? '—' : percentFormat.format(share));

// Weeks and `since` are calendar days in UTC; formatting them in local time could show the day before.
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
const shortDayFormat = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
const formatDay = (day: string, short = false): string => {
  const d = new Date(`${day.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return (short ? shortDayFormat : dayFormat).format(d);
};

const plural = (n: number, one: string, many = `${one}s`): string => `${formatNumber(n)} ${n === 1 ? one : many}`;

export const BoundariesPage = () => {
  useTitle('Boundaries');
  const [params, setParams] = useSearchParams();
  const since = params.get('since')?.trim() || DEFAULT_SINCE;
  const teamId = params.get('team')?.trim() || '';
  // Both reports are loaded for every team: the picker lists the teams of the report, and switching team is instant.
  const report = useApi((signal) => api.boundaries({ since }, signal), [since]);
  const middleman = useApi((signal) => api.middleman({ since }, signal), [since]);

  if (isForbidden(report.error) || isForbidden(middleman.error)) {
    return <NoAccess forWhom="members and admins of the workspace" />;
  }

  const setParam = (key: 'team' | 'since', value: string) => {
    const next = new URLSearchParams(params);
    if (value && !(key === 'since' && value === DEFAULT_SINCE)) next.set(key, value);
    else next.delete(key);
    setParams(next);
  };

  const allTeams = report.data?.teams ?? [];
  const teams = teamId ? allTeams.filter((t) => t.team.id === teamId) : allTeams;
  const teamOptions = allTeams.map((t) => [t.team.id, t.team.name] as const);
  if (teamId && !teamOptions.some(([id]) => id === teamId)) teamOptions.push([teamId, teamId]);
  const sinceOptions = SINCE_OPTIONS.some(([v]) => v === since)
    ? SINCE_OPTIONS
    : [...SINCE_OPTIONS, [since, `Since ${DAY_RE.test(since) ? formatDay(since) : since}`] as const];
  const busy = report.loading || middleman.loading;

  return (
    <section className="page" aria-labelledby="boundaries-title" aria-busy={busy}>
      <header className="page-header">
        <h1 id="boundaries-title">Boundaries</h1>
        <p className="muted">
          Who made each decision, held against who the charter says decides it. Crossings are worth a conversation, not
          a verdict: often there was a good reason. Lanes counts decisions per team, domain and role, never per person,
          and never blocks anyone.
        </p>
      </header>

      <div className="card filters">
        <div className="filter-row boundary-filters">
          <div className="field">
            <label htmlFor="b-team">Team</label>
            <select id="b-team" value={teamId} onChange={(e) => setParam('team', e.target.value)}>
              <option value="">All teams</option>
              {teamOptions.map(([id, name]) => (
                <option key={id} value={id}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="b-since">Period</label>
            <select id="b-since" value={since} onChange={(e) => setParam('since', e.target.value)}>
              {sinceOptions.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </div>
        </div>
        {report.data && (
          <p className="meta">
            Counting from {formatDay(report.data.since)}. Computed{' '}
            <Time iso={report.data.generatedAt} relativeTo="now" />.
          </p>
        )}
      </div>

      {report.data && !report.data.current && <NotCurrent report={report.data} />}

      {report.error !== undefined && (
        <ErrorNotice title="The boundary report could not be loaded" error={report.error} onRetry={report.reload} />
      )}
      {report.loading && !report.data && <Loading label="Loading the boundary report…" />}
      {report.data && allTeams.length === 0 && <NoTeams />}
      {report.data && allTeams.length > 0 && teams.length === 0 && (
        <EmptyState title="This team is not in the charter">
          <p>
            There is no team with the id <code>{teamId}</code>.{' '}
            <button type="button" className="link-button" onClick={() => setParam('team', '')}>
              Show all teams
            </button>
          </p>
        </EmptyState>
      )}
      {teams.length > 0 && (
        <div className={`stack-lg${report.loading ? ' stale' : ''}`}>
          {teams.map((team) => (
            <TeamBoundaries
              key={team.team.id}
              team={team}
              since={report.data!.since}
              until={report.data!.generatedAt}
            />
          ))}
        </div>
      )}

      <MiddlemanSection
        report={middleman.data}
        teamId={teamId}
        error={middleman.error}
        loading={middleman.loading}
        reload={middleman.reload}
      />
    </section>
  );
};

const NotCurrent = ({ report }: { report: BoundaryReport }) => (
  <div className="notice notice-info" role="status" data-testid="boundaries-not-current">
    <p className="notice-title">The charter changed since the last recompute</p>
    <p>
      {report.recomputedAt ? (
        <>These numbers follow the charter and decision rules as they were on {formatDateTime(report.recomputedAt)}.</>
      ) : (
        <>These numbers have not yet been recomputed with the current charter and decision rules.</>
      )}{' '}
      They will match the current charter after the next recompute.
    </p>
  </div>
);

const NoTeams = () => (
  <EmptyState title="No teams in the charter yet">
    <p>
      The boundary monitor compares each decision with the charter in <code>lanes.yaml</code>: its teams and who decides
      what. Once the charter names teams (<code>lanes init</code> writes a starting one, <code>lanes check</code>{' '}
      validates it), their decisions show up here.
    </p>
  </EmptyState>
);

const TeamBoundaries = ({ team, since, until }: { team: TeamBoundaryReport; since: string; until: string }) => {
  const id = `team-${team.team.id}`;
  const t = team.totals;
  return (
    <section
      className="card boundary-team"
      aria-labelledby={`${id}-title`}
      data-testid={`boundary-team-${team.team.id}`}
    >
      <header className="card-header">
        <h2 id={`${id}-title`}>{team.team.name}</h2>
      </header>
      {t.decisions === 0 ? (
        <EmptyState title={`No decisions recorded for ${team.team.name} in this period`}>
          <p>
            Decisions appear as connected trackers deliver changes: priorities set, people assigned, estimates changed
            and the like.
          </p>
        </EmptyState>
      ) : (
        <>
          <Headline team={team} />
          <div className="grid-2 boundary-grid">
            <section aria-labelledby={`${id}-trend`} data-testid="boundary-trend">
              <h3 id={`${id}-trend`}>Week by week</h3>
              <BoundaryTrend team={team} since={since} until={until} />
            </section>
            <div className="stack-lg">
              <Directions team={team} id={id} />
              <Concentration team={team} id={id} />
            </div>
          </div>
          <Domains team={team} id={id} />
          <Examples team={team} id={id} />
        </>
      )}
    </section>
  );
};

const Headline = ({ team }: { team: TeamBoundaryReport }) => {
  const t = team.totals;
  const judged = t.inLane + t.crossings;
  const apart = [
    t.bots > 0 ? `${plural(t.bots, 'decision')} by bots` : null,
    t.charterGaps > 0 ? `${plural(t.charterGaps, 'decision')} by people the charter does not name yet` : null,
  ].filter((part): part is string => part !== null);
  return (
    <div className="boundary-headline" data-testid="boundary-headline">
      {t.shareInLane === null ? (
        <p className="boundary-share">
          <strong>No decisions by people in the charter yet</strong>
        </p>
      ) : (
        <p className="boundary-share">
          <strong>{percent(t.shareInLane)}</strong> of decisions made in lane
        </p>
      )}
      <p>
        {judged > 0 && (
          <>
            {formatNumber(t.inLane)} of {plural(judged, 'decision')} were made by whoever the charter says decides;{' '}
            {t.crossings === 0 ? 'none crossed into another lane.' : `${plural(t.crossings, 'crossing')}.`}{' '}
          </>
        )}
        {apart.length > 0 && (
          <span className="muted">
            Reported apart: {apart.join(' and ')}
            {t.charterGaps > 0 ? ' (a gap in the charter to fill, not a crossing)' : ''}.
          </span>
        )}
      </p>
    </div>
  );
};

// ——— Weekly bars, hand-drawn ———

interface ChartRow {
  week: string;
  values: number[];
}
interface ChartSeries {
  label: string;
  className: string;
}

const addDays = (day: string, n: number): string => {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
};
const mondayOf = (iso: string): string => {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso.slice(0, 10);
  d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  return d.toISOString().slice(0, 10);
};

/** Every week from `since` to the last week with data (or `until`), with zeros for the quiet ones, so gaps show as gaps. */
const fillWeeks = (rows: ChartRow[], since: string, until: string, width: number): ChartRow[] => {
  if (!DAY_RE.test(since)) return rows;
  const byWeek = new Map(rows.map((r) => [r.week.slice(0, 10), r]));
  const last = [mondayOf(until), ...byWeek.keys()].sort().at(-1)!;
  const filled: ChartRow[] = [];
  for (let week = mondayOf(since); week <= last && filled.length < 600; week = addDays(week, 7)) {
    filled.push(byWeek.get(week) ?? { week, values: new Array<number>(width).fill(0) });
  }
  // Rows the calendar walk did not reach (an unexpected week label) are kept rather than dropped.
  const seen = new Set(filled.map((r) => r.week));
  return [...filled, ...rows.filter((r) => !seen.has(r.week.slice(0, 10)))];
};

/** A round top for the scale whose half is a whole number: 2, 4, 6, 8, 10, 20, 40… */
const niceMax = (n: number): number => {
  if (n <= 2) return 2;
  const magnitude = 10 ** Math.floor(Math.log10(n));
  for (const m of [2, 4, 6, 8, 10]) if (m * magnitude >= n) return m * magnitude;
  return 10 * magnitude;
};

const CHART = { height: 200, left: 36, right: 8, top: 10, bottom: 24 } as const;

/** The width of an element in CSS pixels, so a chart draws one unit per pixel and its labels keep their size. */
const useWidth = (fallback: number) => {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = ref.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      const measured = Math.round(entry?.contentRect.width ?? 0);
      if (measured > 0) setWidth(measured);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
};

/** Stacked bars per week: an SVG with an aria-label for the whole and a <title> per week; the numbers are also in a table. */
const WeekBars = ({
  rows,
  series,
  label,
  describe,
  testId,
}: {
  rows: ChartRow[];
  series: ChartSeries[];
  label: string;
  describe: (row: ChartRow) => string;
  testId?: string;
}) => {
  const [ref, measured] = useWidth(560);
  const width = Math.max(measured, 240);
  const plotW = width - CHART.left - CHART.right;
  const plotH = CHART.height - CHART.top - CHART.bottom;
  const max = niceMax(Math.max(0, ...rows.map((r) => r.values.reduce((a, b) => a + b, 0))));
  const slot = plotW / Math.max(rows.length, 1);
  const barW = Math.min(slot * 0.7, 28);
  // About one date per 64 pixels, so they never overlap.
  const labelEvery = Math.ceil(rows.length / Math.max(2, Math.floor(plotW / 64)));
  const y = (v: number) => CHART.top + plotH - (v / max) * plotH;
  return (
    <div className="chart-wrap" ref={ref}>
      <svg
        className="chart"
        width={width}
        height={CHART.height}
        viewBox={`0 0 ${width} ${CHART.height}`}
        role="img"
        aria-label={label}
        data-testid={testId}
      >
        <title>{label}</title>
        {[0, max / 2, max].map((tick) => (
          <g key={tick} className="chart-grid">
            <line x1={CHART.left} x2={width - CHART.right} y1={y(tick)} y2={y(tick)} />
            <text x={CHART.left - 6} y={y(tick)} dy="0.32em" textAnchor="end">
              {formatNumber(tick)}
            </text>
          </g>
        ))}
        {rows.map((row, i) => {
          const x = CHART.left + i * slot;
          let base = 0;
          return (
            <g key={row.week} className="chart-week">
              <title>{describe(row)}</title>
              <rect className="chart-hit" x={x} y={CHART.top} width={slot} height={plotH} />
              {row.values.map((value, s) => {
                if (value <= 0) return null;
                const top = y(base + value);
                const bottom = y(base);
                base += value;
                return (
                  <rect
                    key={s}
                    className={series[s]?.className}
                    x={x + (slot - barW) / 2}
                    y={top}
                    width={barW}
                    height={Math.max(bottom - top, 1)}
                  />
                );
              })}
              {i % labelEvery === 0 && (
                <text className="chart-axis" x={x + slot / 2} y={CHART.height - 6} textAnchor="middle">
                  {formatDay(row.week, true)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <ul className="chart-legend">
        {series.map((s) => (
          <li key={s.label}>
            <svg className="chart-swatch" viewBox="0 0 10 10" aria-hidden="true">
              <rect className={s.className} width="10" height="10" rx="2" />
            </svg>
            {s.label}
          </li>
        ))}
      </ul>
    </div>
  );
};

const BOUNDARY_SERIES: ChartSeries[] = [
  { label: 'In lane', className: 'chart-in-lane' },
  { label: 'Crossings', className: 'chart-crossing' },
];

const BoundaryTrend = ({ team, since, until }: { team: TeamBoundaryReport; since: string; until: string }) => {
  const byWeek = new Map(team.weeks.map((w) => [w.week.slice(0, 10), w]));
  const rows = fillWeeks(
    team.weeks.map((w) => ({ week: w.week, values: [w.inLane, w.crossings] })),
    since,
    until,
    2,
  );
  const inLane = rows.reduce((sum, r) => sum + (r.values[0] ?? 0), 0);
  const crossings = rows.reduce((sum, r) => sum + (r.values[1] ?? 0), 0);
  const describe = (row: ChartRow): string => {
    const [inL = 0, cross = 0] = row.values;
    const w = byWeek.get(row.week.slice(0, 10));
    const share = inL + cross > 0 ? `, ${percent(inL / (inL + cross))} in lane` : '';
    const apart = [
      w && w.bots > 0 ? `${plural(w.bots, 'decision')} by bots` : null,
      w && w.charterGaps > 0 ? plural(w.charterGaps, 'charter gap') : null,
    ].filter(Boolean);
    return `Week of ${formatDay(row.week)}: ${formatNumber(inL)} in lane, ${plural(cross, 'crossing')}${share}${
      apart.length > 0 ? `; also ${apart.join(' and ')}` : ''
    }.`;
  };
  if (rows.length === 0) return <p className="muted">No weeks to show in this period.</p>;
  return (
    <>
      <WeekBars
        rows={rows}
        series={BOUNDARY_SERIES}
        label={`${team.team.name}: decisions per week since ${formatDay(since)}, in lane and crossings stacked. ${plural(
          rows.length,
          'week',
        )}, ${formatNumber(inLane)} in lane and ${plural(crossings, 'crossing')} in all.`}
        describe={describe}
        testId="boundary-chart"
      />
      <details className="chart-numbers">
        <summary>The numbers per week</summary>
        <TableWrap label={`Decisions per week in ${team.team.name}`}>
          <table className="compact">
            <caption className="sr-only">Decisions per week in {team.team.name}</caption>
            <thead>
              <tr>
                <th scope="col">Week of</th>
                <th scope="col" className="num">
                  In lane
                </th>
                <th scope="col" className="num">
                  Crossings
                </th>
                <th scope="col" className="num">
                  Bots
                </th>
                <th scope="col" className="num">
                  Charter gaps
                </th>
                <th scope="col" className="num">
                  Share in lane
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const w = byWeek.get(row.week.slice(0, 10));
                return (
                  <tr key={row.week}>
                    <th scope="row" className="nowrap">
                      {formatDay(row.week)}
                    </th>
                    <td className="num">{formatNumber(w?.inLane ?? 0)}</td>
                    <td className="num">{formatNumber(w?.crossings ?? 0)}</td>
                    <td className="num">{formatNumber(w?.bots ?? 0)}</td>
                    <td className="num">{formatNumber(w?.charterGaps ?? 0)}</td>
                    <td className="num">{percent(w?.shareInLane ?? null)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      </details>
    </>
  );
};

const Directions = ({ team, id }: { team: TeamBoundaryReport; id: string }) => {
  const d = team.totals.directions;
  const total = d.product_to_engineering + d.engineering_to_product + d.other;
  return (
    <section aria-labelledby={`${id}-directions`} data-testid="boundary-directions">
      <h3 id={`${id}-directions`}>Directions of the crossings</h3>
      <dl className="facts facts-small boundary-directions">
        {DIRECTIONS.map((dir) => (
          <div className="fact" key={dir.key} data-direction={dir.key}>
            <dt>{dir.label}</dt>
            <dd>
              {formatNumber(d[dir.key])}
              {total > 0 && <span className="muted"> ({percent(d[dir.key] / total)})</span>}
              <span className="meta block">{dir.note}</span>
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
};

const Concentration = ({ team, id }: { team: TeamBoundaryReport; id: string }) => (
  <section aria-labelledby={`${id}-concentration`} data-testid="boundary-concentration">
    <h3 id={`${id}-concentration`}>Where crossings concentrate</h3>
    {team.concentration.length === 0 ? (
      <p className="muted">No crossings in this period: decisions stayed in their lanes.</p>
    ) : (
      <ol className="share-list">
        {team.concentration.map((c) => (
          <li key={c.domain}>
            <span className="share-label">
              <span className="domain-title">{c.title}</span> <code className="domain-id">{c.domain}</code>
            </span>
            <span className="share-value">
              {plural(c.crossings, 'crossing')} · {percent(c.share)} of the team&apos;s crossings
            </span>
            <ShareBar share={c.share} className="share-bar-crossing" />
          </li>
        ))}
      </ol>
    )}
  </section>
);

const ShareBar = ({ share, className }: { share: number | null; className?: string }) => (
  <span className={`share-bar${className ? ` ${className}` : ''}`} aria-hidden="true">
    <span style={{ width: `${Math.round(Math.min(Math.max(share ?? 0, 0), 1) * 100)}%` }} />
  </span>
);

const Domains = ({ team, id }: { team: TeamBoundaryReport; id: string }) => (
  <section aria-labelledby={`${id}-domains`} className="boundary-part">
    <h3 id={`${id}-domains`}>By domain</h3>
    {team.domains.length === 0 ? (
      <p className="muted">No decisions in any domain of the charter in this period.</p>
    ) : (
      <TableWrap label={`Decisions per domain in ${team.team.name}`}>
        <table data-testid="boundary-domains">
          <caption className="sr-only">Decisions per domain in {team.team.name}, held against the charter</caption>
          <thead>
            <tr>
              <th scope="col">Domain</th>
              <th scope="col">Decided by (charter)</th>
              <th scope="col" className="num">
                Decisions
              </th>
              <th scope="col" className="num">
                In lane
              </th>
              <th scope="col" className="num">
                Crossings
              </th>
              <th scope="col" className="num">
                Bots
              </th>
              <th scope="col" className="num">
                Charter gaps
              </th>
              <th scope="col">Share in lane</th>
            </tr>
          </thead>
          <tbody>
            {team.domains.map((domain) => (
              <DomainRow key={domain.domain} domain={domain} />
            ))}
          </tbody>
        </table>
      </TableWrap>
    )}
  </section>
);

const DomainRow = ({ domain }: { domain: DomainReport }) => {
  const d = domain.directions;
  const directions = DIRECTIONS.filter((dir) => d[dir.key] > 0);
  return (
    <tr data-domain={domain.domain}>
      <th scope="row" className="domain-cell">
        <span className="domain-title">{domain.title}</span>
        <code className="domain-id">{domain.domain}</code>
      </th>
      <td>{domain.decidedBy ?? <span className="muted">not in the charter</span>}</td>
      <td className="num">{formatNumber(domain.decisions)}</td>
      <td className="num">{formatNumber(domain.inLane)}</td>
      <td className="num">
        {formatNumber(domain.crossings)}
        {directions.length > 0 && (
          <span className="meta block">
            {directions.map((dir) => `${dir.label} ${formatNumber(d[dir.key])}`).join(', ')}
          </span>
        )}
      </td>
      <td className="num">{formatNumber(domain.bots)}</td>
      <td className="num">{formatNumber(domain.charterGaps)}</td>
      <td className="share-cell">
        <span className="share-value">{percent(domain.shareInLane)}</span>
        {domain.shareInLane !== null && <ShareBar share={domain.shareInLane} />}
      </td>
    </tr>
  );
};

const Examples = ({ team, id }: { team: TeamBoundaryReport; id: string }) => (
  <section aria-labelledby={`${id}-examples`} className="boundary-part">
    <h3 id={`${id}-examples`}>Recent examples</h3>
    {team.examples.length === 0 ? (
      <p className="muted">No crossings to show in this period.</p>
    ) : (
      <>
        <p className="muted">
          One decision each, told as it happened, so the pattern is concrete. Each links to the item and its history.
        </p>
        <ol className="boundary-examples" data-testid="boundary-examples">
          {team.examples.map((example) => (
            <Example key={example.eventId} example={example} />
          ))}
        </ol>
      </>
    )}
  </section>
);

const Example = ({ example }: { example: CrossingExample }) => (
  <li data-domain={example.domain} data-direction={example.direction}>
    <p className="example-sentence">{example.sentence}</p>
    <p className="meta">
      <time dateTime={example.occurredAt} title={formatDateTime(example.occurredAt)}>
        {formatDay(example.occurredAt)}
      </time>
      {' · '}
      <code className="domain-id">{example.domain}</code>
      {' · '}
      {directionLabel(example.direction)}
      {example.itemKey && (
        <>
          {' · '}
          <Link to={`/items/${encodeURIComponent(example.itemKey)}`}>Open {example.itemKey} and its history</Link>
        </>
      )}
    </p>
  </li>
);

// ——— Middleman load ———

const MIDDLEMAN_SERIES: ChartSeries[] = [
  { label: 'Status pings', className: 'chart-ping' },
  { label: 'Status relays', className: 'chart-relay' },
  { label: 'Portal lookups', className: 'chart-portal' },
];

const MiddlemanSection = ({
  report,
  teamId,
  error,
  loading,
  reload,
}: {
  report: MiddlemanReport | undefined;
  teamId: string;
  error: unknown;
  loading: boolean;
  reload: () => void;
}) => {
  const teams = (report?.teams ?? []).filter((t) => !teamId || t.team.id === teamId);
  let body: ReactNode;
  if (error !== undefined) {
    body = <ErrorNotice title="The middleman load could not be loaded" error={error} onRetry={reload} />;
  } else if (!report) {
    body = loading ? <Loading label="Loading the middleman load…" /> : null;
  } else if (teams.length === 0) {
    body = (
      <EmptyState title="No teams to show">
        <p>Status pings and relays are counted per team once the charter names teams.</p>
      </EmptyState>
    );
  } else {
    body = (
      <div className={`stack-lg${loading ? ' stale' : ''}`}>
        {teams.map((team) => (
          <MiddlemanCard key={team.team.id} team={team} since={report.since} until={report.generatedAt} />
        ))}
      </div>
    );
  }
  return (
    <section aria-labelledby="middleman-title" className="stack-lg" data-testid="middleman">
      <header>
        <h2 id="middleman-title" className="section-title">
          Middleman load
        </h2>
        <p className="muted">
          How much status passes through product managers. Pings are stakeholders asking for status on a team&apos;s
          items; relays are a product manager passing status on or chasing it. Portal lookups are status questions the
          self-serve portal answered without anyone. Less relaying leaves more time for discovery.
        </p>
      </header>
      {body}
    </section>
  );
};

const MiddlemanCard = ({ team, since, until }: { team: MiddlemanTeam; since: string; until: string }) => {
  const id = `middleman-${team.team.id}`;
  const t = team.totals;
  const quiet = t.pings + t.relays + t.portalLookups === 0;
  const rows = fillWeeks(
    team.weeks.map((w) => ({ week: w.week, values: [w.pings, w.relays, w.portalLookups] })),
    since,
    until,
    3,
  );
  const describe = (row: ChartRow): string => {
    const [pings = 0, relays = 0, lookups = 0] = row.values;
    return `Week of ${formatDay(row.week)}: ${plural(pings, 'status ping')}, ${plural(relays, 'relay')}, ${plural(
      lookups,
      'portal lookup',
    )}.`;
  };
  return (
    <section className="card" aria-labelledby={`${id}-title`} data-testid={id}>
      <h3 id={`${id}-title`}>{team.team.name}</h3>
      {quiet ? (
        <EmptyState title="No status pings or relays in this period">
          <p>Nobody had to pass status along by hand here.</p>
        </EmptyState>
      ) : (
        <>
          <dl className="facts facts-small">
            <div className="fact">
              <dt>Status pings</dt>
              <dd>{formatNumber(t.pings)}</dd>
            </div>
            <div className="fact">
              <dt>Status relays</dt>
              <dd>{formatNumber(t.relays)}</dd>
            </div>
            <div className="fact">
              <dt>Portal lookups</dt>
              <dd>{formatNumber(t.portalLookups)}</dd>
            </div>
          </dl>
          <div className="grid-2 boundary-grid">
            <WeekBars
              rows={rows}
              series={MIDDLEMAN_SERIES}
              label={`${team.team.name}: status pings, relays and portal lookups per week since ${formatDay(
                since,
              )}, stacked. ${formatNumber(t.pings)} pings, ${formatNumber(t.relays)} relays and ${formatNumber(
                t.portalLookups,
              )} portal lookups in all.`}
              describe={describe}
              testId="middleman-chart"
            />
            <ProductManagers team={team} />
          </div>
        </>
      )}
    </section>
  );
};

const ProductManagers = ({ team }: { team: MiddlemanTeam }) =>
  team.productManagers.length === 0 ? (
    <p className="muted">The charter names no product manager for {team.team.name}.</p>
  ) : (
    // In the API's order on purpose: this is load a person carries, not a ranking.
    <TableWrap label={`Status load carried by product managers of ${team.team.name}`}>
      <table className="compact" data-testid="middleman-pms">
        <caption className="sr-only">Status load carried by product managers of {team.team.name}</caption>
        <thead>
          <tr>
            <th scope="col">Product manager</th>
            <th scope="col" className="num">
              Pings
            </th>
            <th scope="col" className="num">
              Relays
            </th>
            <th scope="col" className="num">
              Portal lookups
            </th>
          </tr>
        </thead>
        <tbody>
          {team.productManagers.map((pm) => (
            <tr key={pm.personId}>
              <th scope="row">{pm.name}</th>
              <td className="num">{formatNumber(pm.totals.pings)}</td>
              <td className="num">{formatNumber(pm.totals.relays)}</td>
              <td className="num">{formatNumber(pm.totals.portalLookups)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
