import { useEffect, useMemo } from 'react';
import { Link } from 'react-router';
import { KIND_LABELS, KINDS, STAGE_LABELS, STAGES, takeOverview, type Overview } from '../api';
import { useDirectory } from '../directory';
import { actorName, describeEvent } from '../events';
import { EmptyState, ErrorNotice, formatNumber, KindBadge, Loading, TableWrap, Time, useApi, useTitle } from '../ui';

const DAY_MS = 24 * 3600 * 1000;

const itemsLink = (params: Record<string, string>): string => `/items?${new URLSearchParams(params).toString()}`;

export const OverviewPage = () => {
  const { data, error, loading, reload } = useApi((signal) => takeOverview(signal), []);
  useTitle(data ? `Overview — ${data.workspace.name}` : 'Overview');

  return (
    <section className="page" aria-labelledby="overview-title" aria-busy={loading}>
      <header className="page-header">
        <h1 id="overview-title">{data ? data.workspace.name : 'Overview'}</h1>
        <p className="muted">
          The workspace at a glance: teams, items by kind and stage, recent activity and data freshness.
        </p>
      </header>
      {error !== undefined && <ErrorNotice title="The overview could not be loaded" error={error} onRetry={reload} />}
      {loading && !data && <Loading label="Loading the overview…" />}
      {data && <OverviewBody overview={data} />}
    </section>
  );
};

const OverviewBody = ({ overview }: { overview: Overview }) => {
  const directory = useDirectory();
  // The benchmark and the tests watch for this: the numbers are on screen.
  useEffect(() => {
    if (performance.getEntriesByName('overview-ready').length === 0) performance.mark('overview-ready');
  }, []);

  const open = overview.teams.reduce((sum, t) => sum + t.open, 0);
  const stats = [
    { label: 'Items', value: overview.totals.items },
    { label: 'Open items', value: open },
    { label: 'Events', value: overview.totals.events },
    { label: 'Teams', value: overview.teams.length },
  ];

  return (
    <div className="stack-lg" data-testid="overview-ready">
      <dl className="stats">
        {stats.map((s) => (
          <div className="stat" key={s.label}>
            <dt>{s.label}</dt>
            <dd>{formatNumber(s.value)}</dd>
          </div>
        ))}
      </dl>

      <section aria-labelledby="teams-title" className="card">
        <h2 id="teams-title">Teams</h2>
        {overview.teams.length === 0 ? (
          <EmptyState title="No teams yet">Teams are declared in lanes.yaml.</EmptyState>
        ) : (
          <TableWrap label="Teams">
            <table>
              <caption className="sr-only">Teams</caption>
              <thead>
                <tr>
                  <th scope="col">Team</th>
                  <th scope="col">Components</th>
                  <th scope="col" className="num">
                    People
                  </th>
                  <th scope="col" className="num">
                    Open
                  </th>
                  <th scope="col" className="num">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {overview.teams.map((team) => (
                  <tr key={team.id}>
                    <th scope="row">
                      <Link to={itemsLink({ team: team.id })}>{team.name}</Link>
                    </th>
                    <td>
                      <ul className="chips">
                        {team.components.map((c) => (
                          <li key={c}>
                            <Link className="chip" to={itemsLink({ component: c })}>
                              {c}
                            </Link>
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td className="num">{formatNumber(team.members)}</td>
                    <td className="num">{formatNumber(team.open)}</td>
                    <td className="num">{formatNumber(team.total)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </section>

      <KindStageTable overview={overview} />

      <div className="grid-2">
        <section aria-labelledby="recent-title" className="card">
          <h2 id="recent-title">Recent activity</h2>
          {overview.recent.length === 0 ? (
            <EmptyState title="No activity yet">Events appear here as connectors deliver them.</EmptyState>
          ) : (
            <ol className="activity">
              {overview.recent.map(({ event, itemKey, itemTitle }) => (
                <li key={event.id}>
                  <p>
                    <strong>{actorName(event, directory.person)}</strong> {describeEvent(event)}
                    {itemKey && (
                      <>
                        {' on '}
                        <Link to={`/items/${encodeURIComponent(itemKey)}`}>{itemKey}</Link>
                        {itemTitle && <span className="muted"> · {itemTitle}</span>}
                      </>
                    )}
                  </p>
                  <p className="meta">
                    <Time iso={event.occurredAt} relativeTo="now" /> · {event.source}
                  </p>
                </li>
              ))}
            </ol>
          )}
        </section>

        <section aria-labelledby="freshness-title" className="card">
          <h2 id="freshness-title">Data freshness</h2>
          {overview.freshness.length === 0 ? (
            <EmptyState title="No data received yet">
              Connect a source or send events to <code>POST /api/v1/events</code>.
            </EmptyState>
          ) : (
            <TableWrap label="Data freshness per source">
              <table>
                <caption className="sr-only">Data freshness per source</caption>
                <thead>
                  <tr>
                    <th scope="col">Source</th>
                    <th scope="col" className="num">
                      Events
                    </th>
                    <th scope="col" className="num">
                      Duplicates
                    </th>
                    <th scope="col">Last received</th>
                  </tr>
                </thead>
                <tbody>
                  {overview.freshness.map((f) => {
                    const stale = Date.now() - new Date(f.lastReceivedAt).getTime() > DAY_MS;
                    return (
                      <tr key={f.source}>
                        <th scope="row">{f.source}</th>
                        <td className="num">{formatNumber(f.eventCount)}</td>
                        <td className="num">{formatNumber(f.duplicateCount)}</td>
                        <td>
                          <Time iso={f.lastReceivedAt} relativeTo="now" />{' '}
                          {stale && <span className="badge badge-warn">stale</span>}
                          {f.lastOccurredAt && (
                            <span className="meta block">
                              latest event <Time iso={f.lastOccurredAt} relativeTo="now" />
                            </span>
                          )}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </TableWrap>
          )}
        </section>
      </div>
    </div>
  );
};

const KindStageTable = ({ overview }: { overview: Overview }) => {
  const { counts, stages, kinds } = useMemo(() => {
    const counts = new Map<string, number>();
    for (const row of overview.byKindStage) counts.set(`${row.kind}/${row.stage}`, row.count);
    const used = (pred: (key: string) => boolean) => [...counts.entries()].some(([k, n]) => n > 0 && pred(k));
    return {
      counts,
      stages: STAGES.filter((s) => used((k) => k.endsWith(`/${s}`))),
      kinds: KINDS.filter((kind) => used((k) => k.startsWith(`${kind}/`))),
    };
  }, [overview.byKindStage]);

  return (
    <section aria-labelledby="kind-stage-title" className="card">
      <h2 id="kind-stage-title">Items by kind and stage</h2>
      {kinds.length === 0 ? (
        <EmptyState title="No items yet">Items appear once a tracker is connected or events are sent.</EmptyState>
      ) : (
        <TableWrap label="Items by kind and stage">
          <table className="matrix-counts">
            <caption className="sr-only">Items by kind and stage</caption>
            <thead>
              <tr>
                <th scope="col">Kind</th>
                {stages.map((s) => (
                  <th scope="col" className="num" key={s}>
                    {STAGE_LABELS[s]}
                  </th>
                ))}
                <th scope="col" className="num">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {kinds.map((kind) => {
                const total = stages.reduce((sum, s) => sum + (counts.get(`${kind}/${s}`) ?? 0), 0);
                return (
                  <tr key={kind}>
                    <th scope="row">
                      <KindBadge kind={kind} />
                    </th>
                    {stages.map((stage) => {
                      const n = counts.get(`${kind}/${stage}`) ?? 0;
                      return (
                        <td className="num" key={stage}>
                          {n === 0 ? (
                            <span className="muted">
                              <span aria-hidden="true">·</span>
                              <span className="sr-only">none</span>
                            </span>
                          ) : (
                            <Link
                              to={itemsLink({ kind, stage })}
                              aria-label={`${formatNumber(n)} ${KIND_LABELS[kind]} items ${STAGE_LABELS[stage]}`}
                            >
                              {formatNumber(n)}
                            </Link>
                          )}
                        </td>
                      );
                    })}
                    <td className="num strong">
                      <Link to={itemsLink({ kind })}>{formatNumber(total)}</Link>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
};
