import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { getSession, signOut, type Session } from './api.js';
import { SessionContext, useScopedTenant, useSession } from './session.js';
import { FleetPage } from './pages/Fleet.js';
import { TenantPage } from './pages/Tenant.js';
import { CallsPage } from './pages/Calls.js';
import { TracePage } from './pages/Trace.js';
import { AlertsPage } from './pages/Alerts.js';
import { SignIn } from './pages/SignIn.js';

function Header({ onSignOut }: { onSignOut: () => void }) {
  const { path } = useLocation();
  const session = useSession();
  const tenant = useScopedTenant();
  const nav: Array<[string, string, boolean]> = [
    ['/', 'Fleet', path === '/'],
    ...(tenant ? [[`/tenants/${encodeURIComponent(tenant)}`, `Tenant ${tenant}`, path.startsWith('/tenants/')] as [string, string, boolean]] : []),
    ['/calls', 'Calls', path === '/calls' || path.startsWith('/traces/')],
    ['/alerts', 'Alerts', path === '/alerts'],
  ];
  return (
    <header class="top">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <a class="brand" href="/">
        mcptrail
      </a>
      <nav aria-label="Pages">
        <ul>
          {nav.map(([href, label, current]) => (
            <li key={href}>
              <a href={href} aria-current={current ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="who">
        {session.auth === 'open' ? (
          <span class="muted" title="No read tokens are configured: reads are open, on loopback by default">
            open (no read tokens)
          </span>
        ) : (
          <>
            <span>{session.scope && 'tenant' in session.scope ? `tenant ${session.scope.tenant}` : 'operator'}</span>
            <button type="button" onClick={onSignOut}>
              Sign out
            </button>
          </>
        )}
      </div>
    </header>
  );
}

/** Moves focus to the new page's heading after a navigation, so keyboard and screen-reader users land on it. */
function FocusOnNavigate() {
  const { url } = useLocation();
  const [first, setFirst] = useState(true);
  useEffect(() => {
    if (first) return setFirst(false);
    const h1 = document.querySelector<HTMLElement>('main h1');
    h1?.focus({ preventScroll: false });
  }, [url.split('?')[0]]);
  return null;
}

function NotFound() {
  return (
    <main id="main" data-page="not-found">
      <h1 tabIndex={-1}>Not found</h1>
      <p>
        The console has <a href="/">the fleet</a>, <code>/tenants/:tenant</code>, <a href="/calls">calls</a>, <code>/traces/:traceId</code> and{' '}
        <a href="/alerts">alerts</a>.
      </p>
    </main>
  );
}

export function App() {
  const [session, setSession] = useState<Session>();
  const [error, setError] = useState<string>();
  const load = () => getSession().then(setSession, (e: Error) => setError(e.message));
  useEffect(() => {
    void load();
    const onUnauthorized = () => void load();
    window.addEventListener('mcptrail:unauthorized', onUnauthorized);
    return () => window.removeEventListener('mcptrail:unauthorized', onUnauthorized);
  }, []);
  if (error)
    return (
      <p class="error" role="alert">
        The collector did not answer: {error}
      </p>
    );
  if (!session) return <p class="muted">Loading…</p>;
  if (session.auth === 'token' && !session.signedIn) return <SignIn onSignedIn={setSession} />;
  return (
    <SessionContext.Provider value={session}>
      <LocationProvider>
        <Header onSignOut={() => signOut().then(setSession)} />
        <FocusOnNavigate />
        <Router>
          <Route path="/" component={FleetPage} />
          <Route path="/tenants/:tenant" component={TenantPage} />
          <Route path="/calls" component={CallsPage} />
          <Route path="/traces/:traceId" component={TracePage} />
          <Route path="/alerts" component={AlertsPage} />
          <Route default component={NotFound} />
        </Router>
      </LocationProvider>
    </SessionContext.Provider>
  );
}
