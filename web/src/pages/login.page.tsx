import { useEffect, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { api, ApiError, type AuthMethods, type Session } from '../api';
import { errorCode, errorMessage, useTitle } from '../ui';

const explain = (error: unknown): string => {
  if (error instanceof ApiError && error.code === 'LANES_UNAUTHENTICATED')
    return 'That e-mail and password do not match a Lanes account.';
  if (error instanceof ApiError && error.code === 'LANES_RATE_LIMITED')
    return 'Too many attempts. Wait a few minutes, then try again.';
  if (error instanceof ApiError && error.code === 'LANES_PASSWORD_LOGIN_DISABLED')
    return 'Passwords are turned off here. Sign in with your company account instead.';
  return errorMessage(error);
};

/** What a failed sign-in through the identity provider means, in a sentence (the code itself is never shown). */
const explainSso = (code: string, provider: string): string => {
  switch (code) {
    case 'LANES_OIDC_STATE':
      return 'That sign-in expired or was already used. Start again.';
    case 'LANES_OIDC_FAILED':
      return `${provider} answered in a way Lanes cannot trust, so you are not signed in. Try again; if it keeps happening, tell your Lanes admin.`;
    case 'LANES_OIDC_EMAIL_UNVERIFIED':
      return `${provider} did not confirm an e-mail address Lanes accepts for you. Ask your IT team to verify your address, then try again.`;
    case 'LANES_OIDC_NO_ACCOUNT':
      return 'You do not have a Lanes account yet. Ask a Lanes admin to add you.';
    case 'LANES_OIDC_NO_ROLE':
      return 'Your account is not in a group that may use Lanes. Ask your IT team or a Lanes admin for access.';
    case 'LANES_RATE_LIMITED':
      return 'Too many sign-ins were started from here. Wait a few minutes, then try again.';
    case 'LANES_UPSTREAM_FAILED':
      return `Lanes could not reach ${provider}. Try again in a moment.`;
    case 'LANES_OIDC_NOT_CONFIGURED':
      return 'Signing in with a company account is not set up on this server.';
    default:
      return `Signing in with ${provider} did not work. Try again.`;
  }
};

/** Until the server says otherwise, offer the password form. */
const PASSWORD_ONLY: AuthMethods = { password: true, oidc: null };

export const LoginPage = ({ onSignedIn }: { onSignedIn: (session: Session) => void }) => {
  useTitle('Sign in');
  const [params] = useSearchParams();
  const [methods, setMethods] = useState<AuthMethods | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    api.authMethods(controller.signal).then(
      (answer) => setMethods(answer),
      () => {
        if (!controller.signal.aborted) setMethods(PASSWORD_ONLY);
      },
    );
    return () => controller.abort();
  }, []);

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

  const ssoError = params.get('sso_error');
  const next = params.get('next');
  const provider = methods?.oidc?.name ?? 'Your company account';
  const ssoHref = methods?.oidc
    ? `${methods.oidc.startUrl}${next ? `?returnTo=${encodeURIComponent(next)}` : ''}`
    : null;
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
        {/* Waits for the sign-in methods, so the sentence names the provider from the start. */}
        {ssoError && methods && (
          <p className="notice notice-error" role="alert">
            {explainSso(ssoError, provider)}
          </p>
        )}
        {ssoHref && (
          <a className="button button-primary button-block login-sso" href={ssoHref}>
            Sign in with {methods!.oidc!.name}
          </a>
        )}
        {ssoHref && methods?.password && <p className="login-or">or with your Lanes password</p>}
        {methods?.password && (
          <form onSubmit={submit} className="form" aria-describedby={error ? 'login-error' : undefined}>
            <div className="field">
              <label htmlFor="login-email">E-mail</label>
              <input
                id="login-email"
                name="email"
                type="email"
                autoComplete="username"
                required
                autoFocus={!ssoHref}
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
            <button type="submit" className={`button ${ssoHref ? '' : 'button-primary '}button-block`} disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </form>
        )}
      </div>
    </main>
  );
};
