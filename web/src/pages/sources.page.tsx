import type { ReactNode } from 'react';
import { api, type SourceView } from '../api';
import {
  EmptyState,
  ErrorNotice,
  formatDuration,
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
 * What each connected source has delivered (`GET /api/v1/sources`): events and
 * freshness, webhook deliveries, sync runs, values the mapping does not know,
 * and the latest errors. Everything from the API is rendered as text.
 */

type Sync = SourceView['syncs'][number];

/** The trackers Lanes has webhooks and `lanes sync` for. */
const PROVIDERS: Record<string, { label: string; secret: string; scopeFlag: string; example: string }> = {
  github: { label: 'GitHub', secret: 'LANES_GITHUB_WEBHOOK_SECRET', scopeFlag: '--repo', example: 'owner/name' },
  jira: { label: 'Jira', secret: 'LANES_JIRA_WEBHOOK_SECRET', scopeFlag: '--project', example: 'KEY' },
  linear: { label: 'Linear', secret: 'LANES_LINEAR_WEBHOOK_SECRET', scopeFlag: '--team', example: 'KEY' },
};
const providerOf = (source: string) => (Object.hasOwn(PROVIDERS, source) ? PROVIDERS[source] : undefined);

const CATEGORY_LABELS: Record<string, string> = {
  scope: 'Scope (repository, project or team)',
  label: 'Label',
  state: 'Workflow state',
  issue_type: 'Issue type',
  priority: 'Priority',
  severity: 'Severity',
  identity: 'Person',
  event_type: 'Event type',
  field: 'Field',
};
const categoryLabel = (category: string): string =>
  Object.hasOwn(CATEGORY_LABELS, category) ? CATEGORY_LABELS[category]! : category;

const hookUrl = (source: string): string => `${window.location.origin}/hooks/${encodeURIComponent(source)}`;

/** The command that resumes (or repeats) one sync stream. A shell would need quotes around odd scopes. */
const syncCommand = (source: string, sync: Sync): string => {
  const flag = providerOf(source)?.scopeFlag;
  const scope = /^[\w./@:-]+$/.test(sync.scope) ? sync.scope : `'${sync.scope.replace(/'/g, `'\\''`)}'`;
  const stream = /^[\w.-]+$/.test(sync.stream) ? sync.stream : `'${sync.stream.replace(/'/g, `'\\''`)}'`;
  return `lanes sync ${source}${flag ? ` ${flag}` : ''} ${scope} --stream ${stream}`;
};

const plural = (n: number, one: string, many = `${one}s`): string => `${formatNumber(n)} ${n === 1 ? one : many}`;

export const SourcesPage = () => {
  useTitle('Sources');
  const { data, error, loading, reload } = useApi((signal) => api.sources(signal), []);
  if (isForbidden(error)) return <NoAccess forWhom="members and admins of the workspace" />;
  return (
    <section className="page" aria-labelledby="sources-title" aria-busy={loading}>
      <header className="page-header page-header-row">
        <div>
          <h1 id="sources-title">Sources</h1>
          <p className="muted">
            What each connected source has delivered: events stored, how fresh they are, webhook deliveries, sync runs,
            values the mapping in <code>lanes.yaml</code> does not know, and the latest errors.
          </p>
        </div>
        {data && (
          <button type="button" className="button" onClick={reload} disabled={loading}>
            {loading ? 'Refreshing…' : 'Refresh'}
          </button>
        )}
      </header>
      {error !== undefined && <ErrorNotice title="The sources could not be loaded" error={error} onRetry={reload} />}
      {loading && !data && <Loading label="Loading the sources…" />}
      {data && data.sources.length === 0 && <NoSources />}
      {data && data.sources.length > 0 && (
        <div className="stack-lg" data-testid="sources">
          {data.sources.map((source, i) => (
            <SourceCard key={source.source} source={source} id={`source-${i}`} />
          ))}
        </div>
      )}
    </section>
  );
};

const NoSources = () => (
  <EmptyState title="No sources connected yet">
    <p>A source appears here once it has delivered events or its webhook is configured. To connect one:</p>
    <ul className="connect-steps">
      <li>
        <strong>Webhooks</strong> for live changes: set <code>LANES_GITHUB_WEBHOOK_SECRET</code> (or the Jira or Linear
        one) where the server runs, and point the tracker at <code>{hookUrl('github')}</code>, <code>/hooks/jira</code>{' '}
        or <code>/hooks/linear</code>.
      </li>
      <li>
        <strong>Backfill</strong> the history: <code>lanes sync github --repo acme/payments</code>,{' '}
        <code>lanes sync jira --project PAY</code> or <code>lanes sync linear --team ENG</code>.
      </li>
      <li>
        <strong>Files</strong> from any other tracker: <code>lanes import tickets.csv --map tickets.map.yaml</code>.
      </li>
      <li>
        <strong>Anything else</strong> (deployments, incidents): send events to <code>POST /api/v1/events</code>.
      </li>
    </ul>
    <p>The details are in docs/connectors.md.</p>
  </EmptyState>
);

const Fact = ({ label, children, note }: { label: string; children: ReactNode; note?: ReactNode }) => (
  <div className="fact">
    <dt>{label}</dt>
    <dd>
      {children}
      {note && <span className="meta block">{note}</span>}
    </dd>
  </div>
);

const SourceCard = ({ source, id }: { source: SourceView; id: string }) => {
  const provider = providerOf(source.source);
  const label = provider?.label ?? source.source;
  // Parts with nothing to show are summed up in one line instead of four empty sections.
  const showWebhooks = Boolean(provider) || source.webhooks.active || source.webhooks.deliveries > 0;
  const showSyncs = Boolean(provider) || source.syncs.length > 0;
  const quiet = [
    showWebhooks ? null : 'no webhook',
    showSyncs ? null : 'no sync runs',
    source.unmapped.length > 0 ? null : 'no unmapped values',
    source.errors.length > 0 ? null : 'no errors',
  ].filter((part): part is string => part !== null);
  return (
    <section className="card source" aria-labelledby={`${id}-title`} data-testid={`source-${source.source}`}>
      <header className="card-header">
        <div>
          <h2 id={`${id}-title`}>{label}</h2>
          {provider && (
            <span className="meta">
              source <code>{source.source}</code>
            </span>
          )}
        </div>
        <ul className="source-badges" aria-label={`${label} status`}>
          <li>
            {source.webhooks.active ? (
              <span className="badge badge-ok">webhook active</span>
            ) : (
              <span className="badge badge-muted">no webhook</span>
            )}
          </li>
          {source.syncs.some((s) => s.inProgress) && (
            <li>
              <span className="badge badge-warn">sync stopped part-way</span>
            </li>
          )}
          {source.unmapped.length > 0 && (
            <li>
              <span className="badge badge-warn">{plural(source.unmappedValues, 'unmapped value')}</span>
            </li>
          )}
          {source.errors.length > 0 && (
            <li>
              <span className="badge sev-critical">{plural(source.errors.length, 'error')}</span>
            </li>
          )}
        </ul>
      </header>

      <dl className="facts">
        <Fact label="Events stored">{formatNumber(source.events)}</Fact>
        <Fact label="Duplicates skipped">{formatNumber(source.duplicates)}</Fact>
        <Fact
          label="Newest event"
          note={
            source.lastReceivedAt ? (
              <>
                received <Time iso={source.lastReceivedAt} relativeTo="now" />
              </>
            ) : undefined
          }
        >
          {source.lastEventAt ? <Time iso={source.lastEventAt} relativeTo="now" /> : 'none yet'}
        </Fact>
        <Fact label="Lag" note={source.lagSeconds === null ? undefined : 'how far behind Lanes may be'}>
          {source.lagSeconds === null ? <span className="muted">—</span> : formatDuration(source.lagSeconds)}
        </Fact>
      </dl>

      {showWebhooks && <Webhooks source={source} id={id} />}
      {showSyncs && <Syncs source={source} id={id} />}
      {source.unmapped.length > 0 && <Unmapped source={source} id={id} />}
      {source.errors.length > 0 && <Errors source={source} id={id} />}
      {quiet.length > 0 && <p className="muted source-part source-quiet">{sentence(quiet)}</p>}
    </section>
  );
};

/** "No webhook, no sync runs and no errors." */
const sentence = (parts: string[]): string => {
  const text = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
};

const Webhooks = ({ source, id }: { source: SourceView; id: string }) => {
  const w = source.webhooks;
  const provider = providerOf(source.source);
  const outcomes = [
    { label: 'Received', value: w.deliveries },
    { label: 'Mapped into events', value: w.mapped },
    { label: 'Unknown type, kept raw', value: w.unknown },
    { label: 'Failed', value: w.failed },
    { label: 'Waiting to be mapped', value: w.pending },
  ];
  return (
    <section className="source-part" aria-labelledby={`${id}-webhook`}>
      <h3 id={`${id}-webhook`}>Webhook</h3>
      {w.active ? (
        <p>
          Active. Deliveries arrive at <code>{hookUrl(source.source)}</code>.
        </p>
      ) : provider ? (
        <p>
          Not configured. For live changes, set <code>{provider.secret}</code> where the server runs and point a{' '}
          {provider.label} webhook at <code>{hookUrl(source.source)}</code>.
        </p>
      ) : (
        <p className="muted">Not configured.</p>
      )}
      {(w.active || w.deliveries > 0) && (
        <>
          <dl className="facts facts-small">
            {outcomes.map((o) => (
              <Fact key={o.label} label={o.label}>
                {formatNumber(o.value)}
              </Fact>
            ))}
            <Fact label="Last delivery">
              {w.lastDeliveryAt ? <Time iso={w.lastDeliveryAt} relativeTo="now" /> : 'none yet'}
            </Fact>
          </dl>
          {w.unknownTypes.length > 0 && (
            <>
              <p>Lanes does not map these event types. Their deliveries are kept raw, nothing is lost:</p>
              <TableWrap label={`Unknown event types from ${source.source}`}>
                <table className="compact">
                  <caption className="sr-only">Unknown event types from {source.source}, kept raw</caption>
                  <thead>
                    <tr>
                      <th scope="col">Event type</th>
                      <th scope="col" className="num">
                        Deliveries kept raw
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {w.unknownTypes.map((t) => (
                      <tr key={t.eventType}>
                        <th scope="row">
                          <code>{t.eventType}</code>
                        </th>
                        <td className="num">{formatNumber(t.count)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            </>
          )}
        </>
      )}
    </section>
  );
};

const Syncs = ({ source, id }: { source: SourceView; id: string }) => {
  const provider = providerOf(source.source);
  return (
    <section className="source-part" aria-labelledby={`${id}-syncs`}>
      <h3 id={`${id}-syncs`}>Sync runs</h3>
      {source.syncs.length === 0 ? (
        <p className="muted">
          No sync has run for this source.
          {provider && (
            <>
              {' '}
              Backfill its history with{' '}
              <code>
                lanes sync {source.source} {provider.scopeFlag} {provider.example}
              </code>
              .
            </>
          )}
        </p>
      ) : (
        <TableWrap label={`Sync runs of ${source.source}`}>
          <table>
            <caption className="sr-only">Sync runs of {source.source}, per scope and stream</caption>
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col">Stream</th>
                <th scope="col">Last synced</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Units
                </th>
                <th scope="col" className="num">
                  Events
                </th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {source.syncs.map((s) => (
                <tr key={`${s.scope}\u0000${s.stream}`}>
                  <th scope="row" className="wrap-anywhere">
                    {s.scope}
                  </th>
                  <td>{s.stream}</td>
                  <td className="nowrap">
                    {s.lastSyncedAt ? (
                      <Time iso={s.lastSyncedAt} relativeTo="now" />
                    ) : (
                      <span className="muted">never completed</span>
                    )}
                    <span className="meta block">
                      last run started <Time iso={s.lastRunStartedAt} relativeTo="now" />
                    </span>
                  </td>
                  <td className="sync-status">
                    {s.inProgress ? (
                      <>
                        <span className="badge badge-warn">in progress or stopped</span>
                        <span className="meta block">
                          Run <code>{syncCommand(source.source, s)}</code> again to resume.
                        </span>
                      </>
                    ) : (
                      <span className="badge badge-ok">complete</span>
                    )}
                  </td>
                  <td className="num">{formatNumber(s.units)}</td>
                  <td className="num">{formatNumber(s.events)}</td>
                  <td className="message-cell">{s.lastError ?? <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
};

const Unmapped = ({ source, id }: { source: SourceView; id: string }) => (
  <section className="source-part" aria-labelledby={`${id}-unmapped`}>
    <h3 id={`${id}-unmapped`}>Unmapped values</h3>
    <p>
      The events were kept, but the mapping does not know these values. To map them, add them to{' '}
      {providerOf(source.source) ? (
        <>
          <code>connectors.{source.source}</code> in <code>lanes.yaml</code>
        </>
      ) : (
        'the import map of this source'
      )}
      .
      {source.unmappedValues > source.unmapped.length &&
        ` The ${source.unmapped.length} most frequent of ${formatNumber(source.unmappedValues)} are listed.`}
    </p>
    <TableWrap label={`Unmapped values from ${source.source}`}>
      <table>
        <caption className="sr-only">Unmapped values from {source.source}</caption>
        <thead>
          <tr>
            <th scope="col">Category</th>
            <th scope="col">Value</th>
            <th scope="col" className="num">
              Count
            </th>
            <th scope="col">Last seen</th>
          </tr>
        </thead>
        <tbody>
          {source.unmapped.map((u) => (
            <tr key={`${u.category}\u0000${u.value}`}>
              <td>{categoryLabel(u.category)}</td>
              <td className="wrap-anywhere">
                <code className="unmapped-value">{u.value}</code>
              </td>
              <td className="num">{formatNumber(u.count)}</td>
              <td className="nowrap">
                <Time iso={u.lastSeenAt} relativeTo="now" />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  </section>
);

const Errors = ({ source, id }: { source: SourceView; id: string }) => (
  <section className="source-part" aria-labelledby={`${id}-errors`}>
    <h3 id={`${id}-errors`}>Latest errors</h3>
    <ol className="source-errors">
      {source.errors.map((e, i) => (
        <li key={`${e.at}-${i}`}>
          <span className="meta block">
            <Time iso={e.at} relativeTo="now" />
          </span>
          <span className="message-cell">{e.message}</span>
        </li>
      ))}
    </ol>
  </section>
);
