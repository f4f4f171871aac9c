import type { ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { api, ApiError, type EventDto, type ItemDto } from '../api';
import { useDirectory, type Directory } from '../directory';
import { actorName, describeEvent, safeHttpUrl } from '../events';
import {
  EmptyState,
  ErrorNotice,
  formatNumber,
  KindBadge,
  Loading,
  SeverityBadge,
  StageBadge,
  Time,
  useApi,
  useTitle,
} from '../ui';

export const ItemPage = () => {
  const { key = '' } = useParams();
  const { data, error, loading, reload } = useApi((signal) => api.item(key, signal), [key]);
  const directory = useDirectory();
  useTitle(data ? `${data.item.key}: ${data.item.title}` : key);

  const notFound = error instanceof ApiError && error.status === 404;
  return (
    <section className="page" aria-labelledby="item-title" aria-busy={loading}>
      <p className="breadcrumb">
        <Link to="/items">← Items</Link>
      </p>
      {loading && !data && (
        <>
          <h1 id="item-title">{key}</h1>
          <Loading label="Loading the item…" />
        </>
      )}
      {notFound && (
        <>
          <h1 id="item-title">{key}</h1>
          <EmptyState title="No item with this key">
            <p>
              Lanes has no item <code>{key}</code>. It may not have been imported yet.{' '}
              <Link to="/items">Search the items</Link>.
            </p>
          </EmptyState>
        </>
      )}
      {error !== undefined && !notFound && (
        <>
          <h1 id="item-title">{key}</h1>
          <ErrorNotice title="The item could not be loaded" error={error} onRetry={reload} />
        </>
      )}
      {data && <ItemDetailView item={data.item} events={data.events} directory={directory} />}
    </section>
  );
};

const Field = ({ label, children }: { label: string; children: ReactNode }) => (
  <div className="field-row">
    <dt>{label}</dt>
    <dd>{children}</dd>
  </div>
);

const plural = (n: number, word: string) => `${formatNumber(n)} ${word}${n === 1 ? '' : 's'}`;

const orDash = (value: string | null) => value ?? <span className="muted">—</span>;

const ItemDetailView = ({ item, events, directory }: { item: ItemDto; events: EventDto[]; directory: Directory }) => {
  const url = safeHttpUrl(item.url);
  return (
    <>
      <header className="page-header item-header">
        <p className="item-key">
          <code>{item.key}</code>
        </p>
        <h1 id="item-title" data-testid="item-title">
          {item.title}
        </h1>
        <p className="badges">
          <KindBadge kind={item.kind} />
          <StageBadge stage={item.stage} label={item.stageLabel} />
          <SeverityBadge severity={item.severity} />
        </p>
      </header>
      <div className="grid-item">
        <section className="card" aria-labelledby="history-title">
          <h2 id="history-title">History</h2>
          {events.length === 0 ? (
            <EmptyState title="No events recorded for this item" />
          ) : (
            <ol className="timeline" data-testid="item-history">
              {events.map((event) => (
                <li key={event.id} className={`timeline-event ev-${event.kind}`}>
                  <p>
                    <strong>{actorName(event, directory.person)}</strong> {describeEvent(event)}
                  </p>
                  {event.kind === 'commented' && event.text && (
                    <blockquote className="comment">{event.text}</blockquote>
                  )}
                  <p className="meta">
                    <Time iso={event.occurredAt} /> · {event.source}
                    {event.reportedBy && <> · reported through the API by {event.reportedBy.user}</>}
                  </p>
                </li>
              ))}
            </ol>
          )}
        </section>
        <aside className="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl className="fields">
            <Field label="Stage">{item.stageLabel}</Field>
            <Field label="Tracker state">{item.state}</Field>
            {item.resolution && <Field label="Resolution">{item.resolution}</Field>}
            <Field label="Team">
              {item.team ? (
                <Link to={`/items?team=${encodeURIComponent(item.team)}`}>{directory.team(item.team)}</Link>
              ) : (
                orDash(null)
              )}
            </Field>
            <Field label="Component">
              {item.component ? (
                <Link to={`/items?component=${encodeURIComponent(item.component)}`}>{item.component}</Link>
              ) : (
                orDash(null)
              )}
            </Field>
            <Field label="Priority">{orDash(item.priority)}</Field>
            <Field label="Assignee">{orDash(directory.person(item.assignee))}</Field>
            <Field label="Reporter">{orDash(directory.person(item.reporter))}</Field>
            <Field label="Customer">{orDash(item.customer)}</Field>
            <Field label="Created">
              <Time iso={item.createdAt} />
            </Field>
            <Field label="Updated">
              <Time iso={item.updatedAt} />
            </Field>
            {item.mergedAt && (
              <Field label="Fix merged">
                <Time iso={item.mergedAt} />
              </Field>
            )}
            {item.deployedAt && (
              <Field label="Fix deployed">
                <Time iso={item.deployedAt} />
              </Field>
            )}
            {item.verifiedAt && (
              <Field label="Verified">
                <Time iso={item.verifiedAt} />
              </Field>
            )}
            {item.closedAt && (
              <Field label="Closed">
                <Time iso={item.closedAt} />
              </Field>
            )}
            <Field label="Activity">
              {plural(item.eventCount, 'event')} · {plural(item.commentCount, 'comment')}
              {item.reopenCount > 0 && ` · reopened ${item.reopenCount}×`}
            </Field>
            {item.url && (
              <Field label="In the tracker">
                {url ? (
                  <a href={url} target="_blank" rel="noopener noreferrer">
                    Open in the tracker
                  </a>
                ) : (
                  <span className="muted">{item.url}</span>
                )}
              </Field>
            )}
          </dl>
        </aside>
      </div>
    </>
  );
};
