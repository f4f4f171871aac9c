import { useContext, useRef, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError } from '../api';
import { useDirectory } from '../directory';
import { safeHttpUrl } from '../events';
import {
  itemFollows,
  itemPath,
  portalApi,
  type PortalItem,
  type PortalItemSummary,
  type ShareLink,
  type StageStep,
} from '../portal.api';
import { SessionContext, type SessionState } from '../session';
import {
  EmptyState,
  ErrorNotice,
  formatDateTime,
  formatRelative,
  KindBadge,
  Loading,
  SeverityBadge,
  StageBadge,
  Time,
  useApi,
  useTitle,
} from '../ui';

/**
 * One item in plain words: `/portal/items/:key` for signed-in people, and
 * `/s/:token` (`shared`) for anyone holding a share link, signed in or not.
 * Only what the portal API returns is shown: no comments, no internal chatter.
 */
export const PortalItemPage = ({ shared = false }: { shared?: boolean }) => {
  const { key = '', token = '' } = useParams();
  const sessionState = useContext(SessionContext);
  const { data, error, loading, reload } = useApi(
    (signal) => (shared ? portalApi.shared(token, signal) : portalApi.item(key, signal)),
    [shared, key, token],
  );
  useTitle(data ? `${data.key}: ${data.title ?? 'Status'}` : shared ? 'Shared item' : key);

  const notFound = error instanceof ApiError && (error.status === 404 || error.status === 410);
  const body = (
    <section className="page portal-item" aria-labelledby="portal-item-title" aria-busy={loading}>
      {!shared && (
        <p className="breadcrumb">
          <Link to="/portal">← Status portal</Link>
        </p>
      )}
      {loading && !data && (
        <>
          <h1 id="portal-item-title">{shared ? 'Shared item' : key}</h1>
          <Loading label="Loading the item…" />
        </>
      )}
      {notFound && <NotShared shared={shared} />}
      {error !== undefined && !notFound && (
        <>
          <h1 id="portal-item-title">{shared ? 'Shared item' : key}</h1>
          <ErrorNotice title="The item could not be loaded" error={error} onRetry={reload} />
        </>
      )}
      {data && <ItemView item={data} session={shared ? null : sessionState} />}
    </section>
  );
  return shared ? <PublicShell signedIn={sessionState !== null} itemKey={data?.key ?? null} body={body} /> : body;
};

const NotShared = ({ shared }: { shared: boolean }) => (
  <>
    <h1 id="portal-item-title">This item does not exist or is not shared with you</h1>
    <EmptyState title={shared ? 'This link does not work' : 'Nothing to show here'}>
      {shared ? (
        <p>
          The link may have been turned off by the person who shared it, or copied only in part. Ask them for a new
          link.
        </p>
      ) : (
        <p>
          Check the key, or <Link to="/portal">search the status portal</Link>.
        </p>
      )}
    </EmptyState>
  </>
);

/** The page around a shared item: no navigation, since the visitor may have no account. */
const PublicShell = ({ signedIn, itemKey, body }: { signedIn: boolean; itemKey: string | null; body: ReactNode }) => (
  <div className="shell portal-public">
    <a className="skip-link" href="#main">
      Skip to content
    </a>
    <header className="topbar">
      <div className="topbar-row">
        <p className="brand">
          <span className="brand-mark" aria-hidden="true" />
          Lanes
        </p>
        <p className="portal-public-note">Read-only status page</p>
      </div>
    </header>
    <main id="main" tabIndex={-1}>
      {body}
    </main>
    <footer className="portal-public-footer">
      <p className="meta">
        Someone shared this page with you so you can check on this item without an account. It shows the stage and its
        history, nothing more.
        {signedIn && itemKey && (
          <>
            {' '}
            <Link to={itemPath(itemKey)}>Open it in the status portal</Link>
          </>
        )}
      </p>
    </footer>
  </div>
);

const ItemView = ({ item, session }: { item: PortalItem; session: SessionState | null }) => {
  const directory = useDirectory(session !== null);
  const details: [string, ReactNode][] = [];
  if (item.severity) details.push(['Severity', <SeverityBadge key="s" severity={item.severity} />]);
  if (item.team) details.push(['Team', directory.team(item.team)]);
  if (item.component) details.push(['Component', item.component]);
  if (item.customer) details.push(['Customer', item.customer]);
  details.push(['Reported', <Time key="r" iso={item.reportedAt} />]);
  details.push(['Last updated', <Time key="u" iso={item.updatedAt} />]);

  return (
    <>
      <header className="page-header item-header">
        <p className="item-key">
          <code>{item.key}</code>
        </p>
        <h1 id="portal-item-title" data-testid="portal-item-title">
          {item.title ?? item.key}
        </h1>
        <p className="badges">
          <KindBadge kind={item.kind} />
        </p>
      </header>

      <section className="card portal-status" aria-labelledby="portal-status-title" data-testid="portal-status">
        <h2 id="portal-status-title">Where it stands</h2>
        <p className="portal-stage">
          <StageBadge stage={item.stage} label={item.stageLabel} />
        </p>
        <p className="portal-sentence">{item.status}</p>
        {item.duplicateOf && (
          <p data-testid="portal-duplicate-of">
            Original:{' '}
            {session ? (
              <Link to={itemPath(item.duplicateOf)}>{item.duplicateOf}</Link>
            ) : (
              <code>{item.duplicateOf}</code>
            )}
          </p>
        )}
        <div className="portal-status-grid">
          <div>
            <h3>What happens next</h3>
            <p data-testid="portal-next">{item.next}</p>
          </div>
          <div>
            <h3>Next update</h3>
            <NextUpdate due={item.nextUpdateDue} target={item.responseTarget} />
          </div>
        </div>
      </section>

      {item.incident && (
        <section className="card" aria-labelledby="portal-incident-title" data-testid="portal-incident">
          <h2 id="portal-incident-title">Linked incident</h2>
          <p>
            {session ? (
              <Link to={itemPath(item.incident.key)}>
                {item.incident.key}
                {item.incident.title ? `: ${item.incident.title}` : ''}
              </Link>
            ) : (
              <>
                <code>{item.incident.key}</code>
                {item.incident.title ? ` ${item.incident.title}` : ''}
              </>
            )}{' '}
            <StageBadge stage={item.incident.stage} label={item.incident.stageLabel} />
          </p>
        </section>
      )}

      {session && <FollowBox item={item} session={session} />}

      <div className="grid-item">
        <section className="card" aria-labelledby="portal-history-title">
          <h2 id="portal-history-title">How it got here</h2>
          {item.history.length === 0 ? (
            <p className="muted">No stage changes yet: it is still where it started.</p>
          ) : (
            <ol className="timeline" data-testid="portal-history">
              {item.history.map((step) => (
                <HistoryStep key={step.id} step={step} />
              ))}
            </ol>
          )}
        </section>
        <aside className="stack-lg" aria-label="About this item">
          <section className="card" aria-labelledby="portal-details-title">
            <h2 id="portal-details-title">Details</h2>
            <dl className="fields">
              {details.map(([label, value]) => (
                <div className="field-row" key={label}>
                  <dt>{label}</dt>
                  <dd>{value}</dd>
                </div>
              ))}
            </dl>
          </section>
          {item.related.length > 0 && <Related items={item.related} linked={session !== null} />}
        </aside>
      </div>

      {session && <ShareBox itemKey={item.key} session={session} />}
    </>
  );
};

const NextUpdate = ({ due, target }: { due: string | null; target: string | null }) => {
  const late = due !== null && new Date(due).getTime() < Date.now();
  return (
    <>
      {due === null ? (
        <p data-testid="portal-next-update">No update is scheduled for this item.</p>
      ) : (
        <p data-testid="portal-next-update">
          {late ? 'It was due ' : 'Due by '}
          <time dateTime={due}>{formatDateTime(due)}</time> ({formatRelative(due)}).
        </p>
      )}
      {target && <p className="meta">The team aims for {target}.</p>}
    </>
  );
};

const SOURCE_NAMES: Record<string, string> = {
  github: 'GitHub',
  gitlab: 'GitLab',
  jira: 'Jira',
  linear: 'Linear',
  slack: 'Slack',
  deploys: 'the deploy pipeline',
  lanes: 'Lanes',
  native: 'an integration',
};
const sourceName = (source: string): string => SOURCE_NAMES[source] ?? source;

const HistoryStep = ({ step }: { step: StageStep }) => {
  const url = safeHttpUrl(step.evidence.url);
  return (
    <li className={`timeline-event portal-step stage-step-${step.to}`}>
      <p>
        <strong>{step.label}</strong> · <Time iso={step.at} />
      </p>
      <p>
        {url ? (
          <a href={url} target="_blank" rel="noopener noreferrer">
            {step.evidence.summary}
            <span className="sr-only"> (opens in a new tab)</span>
          </a>
        ) : (
          step.evidence.summary
        )}
      </p>
      <p className="meta">From {sourceName(step.evidence.source)}</p>
    </li>
  );
};

const Related = ({ items, linked }: { items: PortalItemSummary[]; linked: boolean }) => (
  <section className="card" aria-labelledby="portal-related-title">
    <h2 id="portal-related-title">Related items</h2>
    <ul className="portal-related" data-testid="portal-related">
      {items.map((r) => (
        <li key={r.key}>
          {linked ? (
            <Link to={itemPath(r.key)}>
              {r.key}
              {r.title ? `: ${r.title}` : ''}
            </Link>
          ) : (
            <span>
              <code>{r.key}</code>
              {r.title ? ` ${r.title}` : ''}
            </span>
          )}{' '}
          <StageBadge stage={r.stage} label={r.stageLabel} />
        </li>
      ))}
    </ul>
  </section>
);

const FollowBox = ({ item, session }: { item: PortalItem; session: SessionState }) => {
  const [following, setFollowing] = useState(item.following);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [said, setSaid] = useState('');
  const subscriptionId = useRef<string | null>(null);
  const csrf = session.session.csrfToken;

  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      if (following) {
        const ids = subscriptionId.current
          ? [subscriptionId.current]
          : itemFollows((await portalApi.subscriptions()).subscriptions, item.key).map((s) => s.id);
        for (const id of ids) await portalApi.unfollow(id, csrf);
        subscriptionId.current = null;
        setFollowing(false);
        setSaid(`You no longer follow ${item.key}.`);
      } else {
        subscriptionId.current = (await portalApi.follow(item.key, csrf)).id;
        setFollowing(true);
        setSaid(`You follow ${item.key}. We will e-mail ${session.session.user.email} when its stage changes.`);
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card portal-follow" aria-labelledby="portal-follow-title">
      <div className="portal-follow-row">
        <div>
          <h2 id="portal-follow-title">Get updates</h2>
          <p id="portal-follow-hint" className="muted">
            {following
              ? 'You follow this item: you get an e-mail when its stage changes.'
              : 'Follow this item to get an e-mail when its stage changes. Nothing else, no daily noise.'}
          </p>
        </div>
        <button
          type="button"
          className={`button${following ? '' : ' button-primary'}`}
          aria-describedby="portal-follow-hint"
          disabled={busy}
          onClick={toggle}
          data-testid="portal-follow"
        >
          {busy ? (following ? 'Unfollowing…' : 'Following…') : following ? 'Unfollow' : 'Follow'}
        </button>
      </div>
      <p className="sr-only" role="status">
        {said}
      </p>
      {error !== undefined && (
        <ErrorNotice title={following ? 'We could not unfollow it' : 'We could not follow it'} error={error} />
      )}
    </section>
  );
};

const ShareBox = ({ itemKey, session }: { itemKey: string; session: SessionState }) => {
  const links = useApi((signal) => portalApi.shares(itemKey, signal), [itemKey]);
  const [created, setCreated] = useState<ShareLink | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const csrf = session.session.csrfToken;

  const create = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setCreated(await portalApi.createShare(itemKey, csrf));
      links.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const active = (links.data?.links ?? []).filter((l) => !l.revokedAt);
  const revoked = (links.data?.links ?? []).filter((l) => l.revokedAt);
  return (
    <section className="card portal-share" aria-labelledby="portal-share-title">
      <h2 id="portal-share-title">Share a read-only link</h2>
      <p className="muted">
        Anyone with the link can see this page (the stage, what happens next and the history) without signing in. You
        can turn a link off at any time.
      </p>
      <p>
        <button type="button" className="button" onClick={create} disabled={busy}>
          {busy ? 'Creating the link…' : 'Create a link'}
        </button>
      </p>
      {error !== undefined && <ErrorNotice title="The link could not be created" error={error} />}
      {created?.url && <NewLink url={created.url} onDone={() => setCreated(null)} />}

      {links.error !== undefined && (
        <ErrorNotice title="The links could not be loaded" error={links.error} onRetry={links.reload} />
      )}
      {links.loading && !links.data && <Loading label="Loading the links…" />}
      {links.data && (
        <>
          <h3 id="portal-links-title">Links to this item</h3>
          {links.data.links.length === 0 ? (
            <p className="muted">No links yet.</p>
          ) : (
            <ul className="portal-links" aria-labelledby="portal-links-title" data-testid="portal-links">
              {[...active, ...revoked].map((link) => (
                <LinkRow key={link.id} link={link} csrf={csrf} onRevoked={links.reload} />
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
};

const NewLink = ({ url, onDone }: { url: string; onDone: () => void }) => {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const inputRef = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
      setCopied('yes');
    } catch {
      inputRef.current?.select();
      setCopied('failed');
    }
  };
  return (
    <div className="notice notice-success" role="status">
      <p className="notice-title">Your link is ready. Copy it and send it to whoever needs it.</p>
      <div className="secret">
        <label htmlFor="portal-new-link" className="sr-only">
          The new read-only link
        </label>
        <input
          id="portal-new-link"
          ref={inputRef}
          readOnly
          value={url}
          data-testid="portal-share-url"
          onFocus={(e) => e.target.select()}
        />
        <button type="button" className="button" onClick={copy}>
          {copied === 'yes' ? 'Copied' : 'Copy the link'}
        </button>
        <button type="button" className="button button-quiet" onClick={onDone}>
          Done
        </button>
      </div>
      {copied === 'failed' && <p className="meta">Copying is blocked here; the link is selected, press Ctrl+C.</p>}
    </div>
  );
};

const LinkRow = ({ link, csrf, onRevoked }: { link: ShareLink; csrf: string; onRevoked: () => void }) => {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const created = formatDateTime(link.createdAt);
  const revoke = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await portalApi.revokeShare(link.id, csrf);
      onRevoked();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <li className="portal-link" data-link-id={link.id}>
      <p>
        Created <Time iso={link.createdAt} /> by {link.createdBy}{' '}
        {link.revokedAt ? (
          <span className="badge badge-muted">
            turned off <Time iso={link.revokedAt} relativeTo="now" />
          </span>
        ) : (
          <span className="badge badge-ok">working</span>
        )}
      </p>
      {!link.revokedAt && !confirming && (
        <button
          type="button"
          className="button button-quiet"
          onClick={() => setConfirming(true)}
          aria-label={`Turn off the link created ${created}`}
        >
          Turn off
        </button>
      )}
      {!link.revokedAt && confirming && (
        <span className="confirm">
          <span id={`portal-link-${link.id}-warning`}>Whoever has this link will no longer see the item.</span>
          <button
            type="button"
            className="button button-danger"
            onClick={revoke}
            disabled={busy}
            aria-describedby={`portal-link-${link.id}-warning`}
            autoFocus
          >
            {busy ? 'Turning off…' : 'Yes, turn it off'}
          </button>
          <button type="button" className="button button-quiet" onClick={() => setConfirming(false)} disabled={busy}>
            Cancel
          </button>
        </span>
      )}
      {error !== undefined && <ErrorNotice title="The link could not be turned off" error={error} />}
    </li>
  );
};
