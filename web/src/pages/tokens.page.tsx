import { useRef, useState, type FormEvent } from 'react';
import { api, type ApiToken } from '../api';
import { useSession } from '../session';
import { EmptyState, ErrorNotice, isForbidden, Loading, NoAccess, TableWrap, Time, useApi, useTitle } from '../ui';

export const TokensPage = () => {
  useTitle('API tokens');
  const { data, error, loading, reload } = useApi((signal) => api.tokens(signal), []);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  if (isForbidden(error)) return <NoAccess />;
  return (
    <section className="page" aria-labelledby="tokens-title" aria-busy={loading}>
      <header className="page-header">
        <h1 id="tokens-title">API tokens</h1>
        <p className="muted">
          Tokens let scripts and the <code>lanes</code> CLI call the API as you. Send one as{' '}
          <code>Authorization: Bearer &lt;token&gt;</code>. Its scopes limit it further: a token never does more than
          its user&apos;s role allows now.
        </p>
      </header>

      <CreateToken
        onCreated={(name, secret) => {
          setCreated({ name, secret });
          reload();
        }}
      />
      {created && <NewSecret name={created.name} secret={created.secret} onDone={() => setCreated(null)} />}

      {error !== undefined && <ErrorNotice title="Your tokens could not be loaded" error={error} onRetry={reload} />}
      {loading && !data && <Loading label="Loading your tokens…" />}
      {data && data.tokens.length === 0 && (
        <EmptyState title="You have no API tokens">Create one above to use the API or the CLI.</EmptyState>
      )}
      {data && data.tokens.length > 0 && (
        <div className="card flush">
          <TableWrap label="Your API tokens">
            <table data-testid="tokens-table">
              <caption className="sr-only">Your API tokens</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.tokens.map((t) => (
                  <TokenRow key={t.id} token={t} onRevoked={reload} />
                ))}
              </tbody>
            </table>
          </TableWrap>
        </div>
      )}
    </section>
  );
};

/** The scopes a token can be given, with who may hold them (the API refuses more than the role allows). */
const SCOPE_CHOICES = [
  { scope: 'read', label: 'read', hint: 'read what your role may see', minRole: 'stakeholder' },
  {
    scope: 'write',
    label: 'write',
    hint: 'change things your role may change (not events, not admin)',
    minRole: 'stakeholder',
  },
  { scope: 'events:write', label: 'events:write', hint: 'post native events (POST /api/v1/events)', minRole: 'member' },
  { scope: 'admin', label: 'admin', hint: 'users, audit log and other admin routes', minRole: 'admin' },
] as const;
const RANK = { stakeholder: 1, member: 2, admin: 3 } as const;

const CreateToken = ({ onCreated }: { onCreated: (name: string, secret: string) => void }) => {
  const { session } = useSession();
  const role = session.user.role;
  const choices = SCOPE_CHOICES.filter((c) => RANK[role] >= RANK[c.minRole]);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(() => choices.map((c) => c.scope));
  const [sources, setSources] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const eventsOnlyFor = sources
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  // Naming sources narrows events:write to those sources.
  const chosen = [
    ...scopes.filter((s) => !(s === 'events:write' && eventsOnlyFor.length > 0)),
    ...(scopes.includes('events:write') ? eventsOnlyFor.map((s) => `events:write:${s}`) : []),
  ];
  const toggle = (scope: string, on: boolean) =>
    setScopes((current) => (on ? [...current, scope] : current.filter((s) => s !== scope)));
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const result = await api.createToken(name.trim(), chosen);
      onCreated(result.token.name, result.secret);
      setName('');
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card form-inline" onSubmit={submit} aria-labelledby="create-token-title">
      <h2 id="create-token-title">Create a token</h2>
      <div className="ask">
        <div className="field grow">
          <label htmlFor="token-name">Name</label>
          <input
            id="token-name"
            required
            maxLength={100}
            placeholder="e.g. CI sync job"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </div>
        <button
          type="submit"
          className="button button-primary align-end"
          disabled={busy || !name.trim() || chosen.length === 0}
        >
          {busy ? 'Creating…' : 'Create token'}
        </button>
      </div>
      <fieldset className="scope-choices">
        <legend>Scopes: what the token may do (never more than your role)</legend>
        {choices.map((c) => (
          <label key={c.scope} className="checkbox">
            <input
              type="checkbox"
              checked={scopes.includes(c.scope)}
              onChange={(e) => toggle(c.scope, e.target.checked)}
            />{' '}
            <code>{c.label}</code> <span className="muted">{c.hint}</span>
          </label>
        ))}
        {scopes.includes('events:write') && (
          <div className="field">
            <label htmlFor="token-sources">Only these event sources (comma-separated; empty: any native source)</label>
            <input
              id="token-sources"
              placeholder="e.g. deploys, pagerduty"
              value={sources}
              onChange={(e) => setSources(e.target.value)}
            />
          </div>
        )}
      </fieldset>
      {error !== undefined && <ErrorNotice title="The token could not be created" error={error} />}
    </form>
  );
};

const NewSecret = ({ name, secret, onDone }: { name: string; secret: string; onDone: () => void }) => {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const inputRef = useRef<HTMLInputElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('yes');
    } catch {
      inputRef.current?.select();
      setCopied('failed');
    }
  };
  return (
    <div className="notice notice-success" role="status" aria-live="polite">
      <p className="notice-title">Token “{name}” created. Copy it now: it will not be shown again.</p>
      <div className="secret">
        <label htmlFor="new-secret" className="sr-only">
          New token
        </label>
        <input
          id="new-secret"
          ref={inputRef}
          readOnly
          value={secret}
          data-testid="token-secret"
          onFocus={(e) => e.target.select()}
        />
        <button type="button" className="button" onClick={copy}>
          {copied === 'yes' ? 'Copied' : 'Copy'}
        </button>
        <button type="button" className="button button-quiet" onClick={onDone}>
          Done
        </button>
      </div>
      {copied === 'failed' && <p className="meta">Copying is blocked here; the token is selected, press Ctrl+C.</p>}
    </div>
  );
};

const TokenRow = ({ token, onRevoked }: { token: ApiToken; onRevoked: () => void }) => {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const revoke = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await api.revokeToken(token.id);
      onRevoked();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <tr>
      <th scope="row">{token.name}</th>
      <td data-testid="token-scopes">
        {token.scopes.length === 0 ? (
          <span className="muted">none</span>
        ) : (
          token.scopes.map((scope) => (
            <code key={scope} className="scope">
              {scope}
            </code>
          ))
        )}
      </td>
      <td>
        <Time iso={token.createdAt} />
      </td>
      <td>
        {token.lastUsedAt ? <Time iso={token.lastUsedAt} relativeTo="now" /> : <span className="muted">never</span>}
      </td>
      <td>
        {token.revokedAt ? (
          <span className="badge badge-muted">
            revoked <Time iso={token.revokedAt} relativeTo="now" />
          </span>
        ) : (
          <span className="badge badge-ok">active</span>
        )}
      </td>
      <td className="actions">
        {!token.revokedAt && !confirming && (
          <button
            type="button"
            className="button button-quiet"
            onClick={() => setConfirming(true)}
            aria-label={`Revoke ${token.name}`}
          >
            Revoke
          </button>
        )}
        {!token.revokedAt && confirming && (
          <span className="confirm">
            <span>Revoke for good?</span>
            <button type="button" className="button button-danger" onClick={revoke} disabled={busy}>
              {busy ? 'Revoking…' : `Yes, revoke ${token.name}`}
            </button>
            <button type="button" className="button button-quiet" onClick={() => setConfirming(false)} disabled={busy}>
              Cancel
            </button>
          </span>
        )}
        {error !== undefined && <ErrorNotice title="The token could not be revoked" error={error} />}
      </td>
    </tr>
  );
};
