import { useState } from 'react';
import { Link } from 'react-router';
import { STAGE_LABELS, type Stage } from '../api';
import { useSession } from '../session';
import { subscriptionsApi, type Delivery } from '../subscriptions.api';
import { EmptyState, ErrorNotice, isForbidden, Loading, NoAccess, TableWrap, Time, useApi, useTitle } from '../ui';

/** Admins: notifications Lanes gave up on, with the reason, and a button to try each again. */
export const DeadLettersPage = () => {
  useTitle('Dead letters');
  const { data, error, loading, reload } = useApi((signal) => subscriptionsApi.dead(signal), []);
  const [said, setSaid] = useState('');
  if (isForbidden(error)) return <NoAccess />;
  return (
    <section className="page" aria-labelledby="dead-title" aria-busy={loading}>
      <header className="page-header">
        <h1 id="dead-title">Dead letters</h1>
        <p className="muted">
          Notifications that failed for good (a refused address, a missing Slack channel, a webhook answering 4xx) or
          ran out of retries. Fix the cause, then try again: each is sent at most once.
        </p>
      </header>
      <p className="sr-only" role="status" aria-live="polite">
        {said}
      </p>
      {error !== undefined && <ErrorNotice title="Dead letters could not be loaded" error={error} onRetry={reload} />}
      {loading && !data && <Loading label="Loading dead letters…" />}
      {data && data.deliveries.length === 0 && (
        <EmptyState title="No dead letters">Every notification was delivered or is still being tried.</EmptyState>
      )}
      {data && data.deliveries.length > 0 && (
        <div className="card flush">
          <TableWrap label="Dead letters">
            <table data-testid="dead-letters">
              <caption className="sr-only">Dead letters</caption>
              <thead>
                <tr>
                  <th scope="col">Item</th>
                  <th scope="col">New stage</th>
                  <th scope="col">Why it failed</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Planned</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.deliveries.map((d) => (
                  <DeadRow
                    key={d.id}
                    delivery={d}
                    onRetried={() => {
                      setSaid(`The notification about ${d.itemKey} will be sent again.`);
                      reload();
                    }}
                  />
                ))}
              </tbody>
            </table>
          </TableWrap>
        </div>
      )}
    </section>
  );
};

const DeadRow = ({ delivery: d, onRetried }: { delivery: Delivery; onRetried: () => void }) => {
  const session = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const retry = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await subscriptionsApi.retry(d.id, session.session.csrfToken);
      onRetried();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <tr>
      <th scope="row">
        <Link to={`/portal/items/${encodeURIComponent(d.itemKey)}`}>{d.itemKey}</Link>
      </th>
      <td>{STAGE_LABELS[d.toStage as Stage] ?? d.toStage}</td>
      <td>
        <span className="meta">{d.lastError ?? 'unknown'}</span>
      </td>
      <td>{d.attempts}</td>
      <td>
        <Time iso={d.createdAt} relativeTo="now" />
      </td>
      <td className="actions">
        <button
          type="button"
          className="button"
          onClick={retry}
          disabled={busy}
          aria-label={`Retry the notification about ${d.itemKey}`}
        >
          {busy ? 'Retrying…' : 'Retry'}
        </button>
        {error !== undefined && <ErrorNotice title="Could not retry" error={error} />}
      </td>
    </tr>
  );
};
