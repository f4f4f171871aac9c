import { useState, type FormEvent } from 'react';
import { api, ApiError, type Session } from '../api';
import { errorCode, errorMessage, useTitle } from '../ui';

const explain = (error: unknown): string => {
  if (error instanceof ApiError && error.code === 'LANES_UNAUTHENTICATED')
    return 'That e-mail and password do not match a Lanes account.';
  if (error instanceof ApiError && error.code === 'LANES_RATE_LIMITED')
    return 'Too many attempts. Wait a minute, then try again.';
  return errorMessage(error);
};

export const LoginPage = ({ onSignedIn }: { onSignedIn: (session: Session) => void }) => {
  useTitle('Sign in');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api.login(email.trim(), password));
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  const code = errorCode(error);
  return (
    <main id="main" className="login">
      <div className="login-card">
        <p className="brand login-brand">
          <span className="brand-mark" aria-hidden="true" />
          Lanes
        </p>
        <h1>Sign in</h1>
        <p className="muted">Decision rights and the state of the work, without a status meeting.</p>
        <form onSubmit={submit} className="form" aria-describedby={error ? 'login-error' : undefined}>
          <div className="field">
            <label htmlFor="login-email">E-mail</label>
            <input
              id="login-email"
              name="email"
              type="email"
              autoComplete="username"
              required
              autoFocus
              value={email}
              onChange={(e) => setEmail(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="login-password">Password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <div id="login-error" aria-live="assertive">
            {error !== null && (
              <p className="notice notice-error">
                {explain(error)} {code && <code className="error-code">{code}</code>}
              </p>
            )}
          </div>
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
};
