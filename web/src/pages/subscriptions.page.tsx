import { Fragment, useState } from 'react';
import { Link } from 'react-router';
import { useSession } from '../session';
import {
  deliveryBadgeClass,
  describeDelivery,
  describeTarget,
  DELIVERY_STATUS_LABELS,
  subscriptionsApi,
  type Subscription,
} from '../subscriptions.api';
import { EmptyState, ErrorNotice, Loading, TableWrap, Time, useApi, useTitle } from '../ui';
import { STAGE_LABELS, type Stage } from '../api';

/** "My subscriptions": what I follow and how, each one's delivery log, and unsubscribing. */
export const SubscriptionsPage = () => {
  useTitle('My subscriptions');
  const { data, error, loading, reload } = useApi((signal) => subscriptionsApi.mine(signal), []);
  const [open, setOpen] = useState<string | null>(null);
  const [said, setSaid] = useState('');
  return (
    <section className="page" aria-labelledby="subscriptions-title" aria-busy={loading}>
      <header className="page-header">
        <h1 id="subscriptions-title">My subscriptions</h1>
        <p className="muted">
          You hear about stage changes of what you follow — not every tracker edit. Every message has a one-click
          unsubscribe link; you can also stop here. E-mail to someone else's address starts once they confirm the
          request Lanes sends them.
        </p>
      </header>
      <p className="sr-only" role="status" aria-live="polite">
        {said}
      </p>
      {error !== undefined && (
        <ErrorNotice title="Your subscriptions could not be loaded" error={error} onRetry={reload} />
      )}
      {loading && !data && <Loading label="Loading your subscriptions…" />}
      {data && data.subscriptions.length === 0 && (
        <EmptyState title="You follow nothing yet">
          Open an item in the <Link to="/portal">status portal</Link> and choose Follow.
        </EmptyState>
      )}
      {data && data.subscriptions.length > 0 && (
        <div className="card flush">
          <TableWrap label="Your subscriptions">
            <table data-testid="subscriptions-table">
              <caption className="sr-only">Your subscriptions</caption>
              <thead>
                <tr>
                  <th scope="col">Following</th>
                  <th scope="col">How</th>
                  <th scope="col">Since</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.subscriptions.map((s) => (
                  <Fragment key={s.id}>
                    <SubscriptionRow
                      subscription={s}
                      open={open === s.id}
                      onToggle={() => setOpen(open === s.id ? null : s.id)}
                      onUnsubscribed={() => {
                        setSaid(`Unsubscribed from ${describeTarget(s)}.`);
                        if (open === s.id) setOpen(null);
                        reload();
                      }}
                    />
                    {open === s.id && (
                      <tr>
                        <td colSpan={4}>
                          <DeliveryLog subscription={s} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </div>
      )}
    </section>
  );
};

const SubscriptionRow = ({
  subscription: s,
  open,
  onToggle,
  onUnsubscribed,
}: {
  subscription: Subscription;
  open: boolean;
  onToggle: () => void;
  onUnsubscribed: () => void;
}) => {
  const session = useSession();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const name = describeTarget(s);
  const unsubscribe = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await subscriptionsApi.unsubscribe(s.id, session.session.csrfToken);
      onUnsubscribed();
    } catch (e) {
      setError(e);
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <tr>
      <th scope="row">
        {s.target.kind === 'item' ? (
          <Link to={`/portal/items/${encodeURIComponent(s.target.value)}`}>{name}</Link>
        ) : (
          name
        )}
      </th>
      <td>
        {describeDelivery(s)}
        {s.confirmation === 'pending' && (
          <>
            {' '}
            <span className="badge badge-warn" data-testid="subscription-pending">
              waiting for confirmation by {s.address}
            </span>
          </>
        )}
      </td>
      <td>
        <Time iso={s.createdAt} />
      </td>
      <td className="actions">
        {s.channel !== 'feed' && (
          <button
            type="button"
            className="button button-quiet"
            aria-expanded={open}
            aria-label={`${open ? 'Hide' : 'Show'} the delivery log of ${name}`}
            onClick={onToggle}
          >
            {open ? 'Hide log' : 'Delivery log'}
          </button>
        )}
        {!confirming && (
          <button
            type="button"
            className="button button-quiet"
            onClick={() => setConfirming(true)}
            aria-label={`Unsubscribe from ${name}`}
          >
            Unsubscribe
          </button>
        )}
        {confirming && (
          <span className="confirm">
            <span>Stop hearing about {name}?</span>
            <button type="button" className="button button-danger" onClick={unsubscribe} disabled={busy}>
              {busy ? 'Unsubscribing…' : 'Yes, unsubscribe'}
            </button>
            <button type="button" className="button button-quiet" onClick={() => setConfirming(false)} disabled={busy}>
              Cancel
            </button>
          </span>
        )}
        {error !== undefined && <ErrorNotice title="Could not unsubscribe" error={error} />}
      </td>
    </tr>
  );
};

const stageLabel = (stage: string): string => STAGE_LABELS[stage as Stage] ?? stage;

const DeliveryLog = ({ subscription }: { subscription: Subscription }) => {
  const { data, error, loading, reload } = useApi(
    (signal) => subscriptionsApi.deliveries(subscription.id, signal),
    [subscription.id],
  );
  const title = `Delivery log of ${describeTarget(subscription)}`;
  if (error !== undefined)
    return <ErrorNotice title="The delivery log could not be loaded" error={error} onRetry={reload} />;
  if (loading && !data) return <Loading label="Loading the delivery log…" />;
  if (!data || data.deliveries.length === 0)
    return <p className="muted">Nothing was sent yet: you will hear when a stage changes.</p>;
  return (
    <TableWrap label={title}>
      <table data-testid="delivery-log">
        <caption className="sr-only">{title}</caption>
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col">New stage</th>
            <th scope="col">Status</th>
            <th scope="col">Attempts</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {data.deliveries.map((d) => (
            <tr key={d.id}>
              <th scope="row">
                <Link to={`/portal/items/${encodeURIComponent(d.itemKey)}`}>{d.itemKey}</Link>
              </th>
              <td>{stageLabel(d.toStage)}</td>
              <td>
                <span className={deliveryBadgeClass(d.status)}>{DELIVERY_STATUS_LABELS[d.status]}</span>
                {d.lastError && d.status !== 'sent' && <span className="meta"> {d.lastError}</span>}
              </td>
              <td>{d.attempts}</td>
              <td>
                {d.sentAt ? (
                  <Time iso={d.sentAt} relativeTo="now" />
                ) : d.nextAttemptAt && (d.status === 'pending' || d.status === 'failed') ? (
                  <>
                    next try <Time iso={d.nextAttemptAt} />
                  </>
                ) : (
                  <Time iso={d.createdAt} relativeTo="now" />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
};
