import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  Link,
  Navigate,
  NavLink,
  Outlet,
  Route,
  Routes,
  useLocation,
  useNavigate,
  useParams,
  useSearchParams,
} from 'react-router';
import { api, setUnauthenticatedHandler, takeSession, type Session } from './api';
import { resetDirectory } from './directory';
import { LoginPage } from './pages/login.page';
import { OverviewPage } from './pages/overview.page';
import { SessionContext, useSession, type SessionState } from './session';
import { ErrorNotice, Loading, NoAccess, RoleBadge, useTitle } from './ui';

// Overview and login are in the first bundle; every other page loads when first opened.
const DecisionsPage = lazy(() => import('./pages/decisions.page').then((m) => ({ default: m.DecisionsPage })));
const ItemsPage = lazy(() => import('./pages/items.page').then((m) => ({ default: m.ItemsPage })));
const ItemPage = lazy(() => import('./pages/item.page').then((m) => ({ default: m.ItemPage })));
const UsersPage = lazy(() => import('./pages/users.page').then((m) => ({ default: m.UsersPage })));
const AuditPage = lazy(() => import('./pages/audit.page').then((m) => ({ default: m.AuditPage })));
const SourcesPage = lazy(() => import('./pages/sources.page').then((m) => ({ default: m.SourcesPage })));
const BoundariesPage = lazy(() => import('./pages/boundaries.page').then((m) => ({ default: m.BoundariesPage })));
const TokensPage = lazy(() => import('./pages/tokens.page').then((m) => ({ default: m.TokensPage })));
const PortalSearchPage = lazy(() =>
  import('./pages/portal.search.page').then((m) => ({ default: m.PortalSearchPage })),
);
const SubscriptionsPage = lazy(() =>
  import('./pages/subscriptions.page').then((m) => ({ default: m.SubscriptionsPage })),
);
const DeadLettersPage = lazy(() => import('./pages/deadletters.page').then((m) => ({ default: m.DeadLettersPage })));
const QualityPage = lazy(() => import('./pages/quality.page').then((m) => ({ default: m.QualityPage })));
const EscalationsPage = lazy(() => import('./pages/escalations.page').then((m) => ({ default: m.EscalationsPage })));
const EscalationBriefPage = lazy(() =>
  import('./pages/escalations.page').then((m) => ({ default: m.EscalationBriefPage })),
);
const PortalItemPage = lazy(() => import('./pages/portal.item.page').then((m) => ({ default: m.PortalItemPage })));

/** A read-only share link: open to anyone, signed in or not, outside the app's navigation. */
const sharedItem = (
  <Suspense
    fallback={
      <main id="main" className="boot">
        <Loading label="Loading the page…" />
      </main>
    }
  >
    <PortalItemPage shared />
  </Suspense>
);

type Boot =
  { status: 'checking' } | { status: 'failed'; error: unknown } | { status: 'ready'; session: Session | null };

/** Where to go after signing in: only a path inside this app. */
const safeNext = (next: string | null): string =>
  next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/';

export const App = () => {
  const [boot, setBoot] = useState<Boot>({ status: 'checking' });
  const [attempt, setAttempt] = useState(0);
  const navigate = useNavigate();

  useEffect(() => {
    const controller = new AbortController();
    takeSession(controller.signal).then(
      (session) => {
        if (!controller.signal.aborted) setBoot({ status: 'ready', session });
      },
      (error: unknown) => {
        if (!controller.signal.aborted) setBoot({ status: 'failed', error });
      },
    );
    return () => controller.abort();
  }, [attempt]);

  useEffect(() => {
    setUnauthenticatedHandler(() => {
      resetDirectory();
      setBoot({ status: 'ready', session: null });
    });
    return () => setUnauthenticatedHandler(null);
  }, []);

  const signOut = useCallback(async () => {
    let endSessionUrl: string | undefined;
    try {
      endSessionUrl = await api.logout();
    } finally {
      resetDirectory();
      // A session from the identity provider is ended there too; the provider sends the browser back to /login.
      if (endSessionUrl) window.location.assign(endSessionUrl);
      else {
        navigate('/login', { replace: true });
        setBoot({ status: 'ready', session: null });
      }
    }
  }, [navigate]);

  const onSignedIn = useCallback((session: Session) => setBoot({ status: 'ready', session }), []);

  const session = boot.status === 'ready' ? boot.session : null;
  const sessionState = useMemo<SessionState | null>(() => (session ? { session, signOut } : null), [session, signOut]);

  if (boot.status === 'checking') {
    return (
      <main id="main" className="boot">
        <Loading label="Opening Lanes…" />
      </main>
    );
  }
  if (boot.status === 'failed') {
    return (
      <main id="main" className="boot">
        <ErrorNotice
          title="Lanes could not check whether you are signed in"
          error={boot.error}
          onRetry={() => {
            setBoot({ status: 'checking' });
            setAttempt((n) => n + 1);
          }}
        />
      </main>
    );
  }
  if (!sessionState) {
    return (
      <Routes>
        <Route path="/login" element={<LoginPage onSignedIn={onSignedIn} />} />
        <Route path="/s/:token" element={sharedItem} />
        <Route path="*" element={<ToLogin />} />
      </Routes>
    );
  }
  return (
    <SessionContext.Provider value={sessionState}>
      <Routes>
        <Route path="/login" element={<AfterLogin />} />
        <Route path="/s/:token" element={sharedItem} />
        <Route element={<Layout />}>
          <Route
            index
            element={<MembersOr page={<OverviewPage />} stakeholder={<Navigate to="/portal" replace />} />}
          />
          <Route path="decisions" element={<DecisionsPage />} />
          <Route
            path="items"
            element={<MembersOr page={<ItemsPage />} stakeholder={<Navigate to="/portal" replace />} />}
          />
          <Route path="items/:key" element={<MembersOr page={<ItemPage />} stakeholder={<ToPortalItem />} />} />
          <Route path="sources" element={<SourcesPage />} />
          <Route path="boundaries" element={<BoundariesPage />} />
          <Route path="quality" element={<QualityPage />} />
          <Route path="escalations" element={<EscalationsPage />} />
          <Route path="escalations/:id" element={<EscalationBriefPage />} />
          <Route path="portal" element={<PortalSearchPage />} />
          <Route path="portal/items/:key" element={<PortalItemPage />} />
          <Route path="subscriptions" element={<SubscriptionsPage />} />
          <Route path="admin/users" element={<AdminOnly page={<UsersPage />} />} />
          <Route path="admin/audit" element={<AdminOnly page={<AuditPage />} />} />
          <Route path="tokens" element={<TokensPage />} />
          <Route path="admin/tokens" element={<AdminOnly page={<TokensPage />} />} />
          <Route path="admin/dead-letters" element={<AdminOnly page={<DeadLettersPage />} />} />
          <Route path="*" element={<NotFound />} />
        </Route>
      </Routes>
    </SessionContext.Provider>
  );
};

const ToLogin = () => {
  const location = useLocation();
  const next = `${location.pathname}${location.search}`;
  return <Navigate to={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`} replace />;
};

const AfterLogin = () => {
  const [params] = useSearchParams();
  return <Navigate to={safeNext(params.get('next'))} replace />;
};

const AdminOnly = ({ page }: { page: ReactNode }) => {
  const { session } = useSession();
  return session.user.role === 'admin' ? page : <NoAccess />;
};

/**
 * The internal pages (overview, items with their history) are for members;
 * stakeholders are taken to the status portal, which shows them what the
 * charter shares with them.
 */
const MembersOr = ({ page, stakeholder }: { page: ReactNode; stakeholder: ReactNode }) => {
  const { session } = useSession();
  return session.user.role === 'stakeholder' ? stakeholder : page;
};

const ToPortalItem = () => {
  const { key } = useParams();
  return <Navigate to={`/portal/items/${encodeURIComponent(key ?? '')}`} replace />;
};

const NotFound = () => {
  useTitle('Page not found');
  return (
    <section className="page narrow" aria-labelledby="not-found-title">
      <h1 id="not-found-title">Page not found</h1>
      <p>There is no page at this address in Lanes.</p>
      <p>
        <Link to="/">Go to the overview</Link>
      </p>
    </section>
  );
};

/**
 * `members`: shown to members and admins only; stakeholders would be refused by the API. `notAdmin`: admins find
 * it in their own menu.
 */
const NAV: readonly { to: string; label: string; end: boolean; members?: true; notAdmin?: true }[] = [
  { to: '/', label: 'Overview', end: true, members: true },
  { to: '/portal', label: 'Status portal', end: false },
  { to: '/decisions', label: 'Decision rights', end: false },
  { to: '/items', label: 'Items', end: false, members: true },
  { to: '/subscriptions', label: 'My subscriptions', end: false },
  { to: '/tokens', label: 'My API tokens', end: false, notAdmin: true },
  { to: '/boundaries', label: 'Boundaries', end: false, members: true },
  { to: '/quality', label: 'Quality', end: false, members: true },
  { to: '/escalations', label: 'Escalations', end: false, members: true },
  { to: '/sources', label: 'Sources', end: false, members: true },
];

const ADMIN_NAV = [
  { to: '/admin/users', label: 'Users' },
  { to: '/admin/audit', label: 'Audit log' },
  { to: '/admin/tokens', label: 'API tokens' },
  { to: '/admin/dead-letters', label: 'Dead letters' },
] as const;

const Layout = () => {
  const { session, signOut } = useSession();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const mainRef = useRef<HTMLElement>(null);
  const firstPath = useRef(location.pathname);

  // After navigating, close the phone menu and move focus to the new page, as a page load would.
  useEffect(() => {
    setMenuOpen(false);
    if (location.pathname !== firstPath.current) {
      firstPath.current = '';
      mainRef.current?.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
  }, [location.pathname]);

  const isAdmin = session.user.role === 'admin';
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="topbar-row">
          <Link to="/" className="brand" aria-label="Lanes, overview">
            <span className="brand-mark" aria-hidden="true" />
            Lanes
          </Link>
          <button
            type="button"
            className="button menu-button"
            aria-expanded={menuOpen}
            aria-controls="primary-nav"
            onClick={() => setMenuOpen((open) => !open)}
          >
            {menuOpen ? 'Close menu' : 'Menu'}
          </button>
        </div>
        <div id="primary-nav" className={`topbar-menu${menuOpen ? ' open' : ''}`}>
          <nav aria-label="Main" className="nav">
            <ul>
              {NAV.filter(
                (item) => (!item.members || session.user.role !== 'stakeholder') && (!item.notAdmin || !isAdmin),
              ).map((item) => (
                <li key={item.to}>
                  <NavLink to={item.to} end={item.end} className="nav-link">
                    {item.label}
                  </NavLink>
                </li>
              ))}
            </ul>
            {isAdmin && (
              <ul aria-label="Admin">
                {ADMIN_NAV.map((item) => (
                  <li key={item.to}>
                    <NavLink to={item.to} className="nav-link">
                      {item.label}
                    </NavLink>
                  </li>
                ))}
              </ul>
            )}
          </nav>
          <div className="user-box" data-testid="signed-in-user">
            <span className="user-name">{session.user.name}</span>
            <RoleBadge role={session.user.role} />
            <button
              type="button"
              className="button button-quiet"
              disabled={signingOut}
              onClick={() => {
                setSigningOut(true);
                signOut().finally(() => setSigningOut(false));
              }}
            >
              {signingOut ? 'Logging out…' : 'Log out'}
            </button>
          </div>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        <Suspense fallback={<Loading label="Loading the page…" />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
};
