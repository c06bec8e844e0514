// The app shell: sign-in gate, side navigation and the routes.
import { CalendarClock, Cloud, Headset, Inbox, LayoutDashboard, PlayCircle, ScrollText, Users, Workflow, Zap, type LucideIcon } from 'lucide-react';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { visiblePages, type Grant, type PageKey } from './access.ts';
import { api, setPickerTenant, type ActionInfo } from './api.ts';
import { CatalogContext, SessionContext, type Catalog } from './context.tsx';
import { Link, match, navigate, useLocation } from './router.tsx';
import { ApprovalPage, ApprovalsPage } from './pages/ApprovalsPage.tsx';
import { BatchPage } from './pages/BatchPage.tsx';
import { DashboardPage } from './pages/DashboardPage.tsx';
import { EditorPage } from './pages/EditorPage.tsx';
import { HelpDeskPage, HelpDeskRunPage } from './pages/HelpDeskPage.tsx';
import { PeoplePage, TokensPanel } from './pages/PeoplePage.tsx';
import { ResourcePage } from './pages/ResourcePage.tsx';
import { RunbooksPage } from './pages/RunbooksPage.tsx';
import { RunFormPage } from './pages/RunFormPage.tsx';
import { RunPage } from './pages/RunPage.tsx';
import { RunsPage } from './pages/RunsPage.tsx';
import { SchedulesPage } from './pages/SchedulesPage.tsx';
import { TriggersPage } from './pages/TriggersPage.tsx';
import { SignInPage } from './pages/SignInPage.tsx';
import { TenantsPage } from './pages/TenantsPage.tsx';

const NAV: { to: string; label: string; icon: LucideIcon; page: PageKey }[] = [
  { to: '/', label: 'Dashboard', icon: LayoutDashboard, page: 'dashboard' },
  { to: '/runbooks', label: 'Runbooks', icon: Workflow, page: 'runbooks' },
  { to: '/helpdesk', label: 'Help desk', icon: Headset, page: 'helpdesk' },
  { to: '/runs', label: 'Runs', icon: PlayCircle, page: 'runs' },
  { to: '/approvals', label: 'Approvals', icon: Inbox, page: 'approvals' },
  { to: '/schedules', label: 'Schedules', icon: CalendarClock, page: 'schedules' },
  { to: '/triggers', label: 'Triggers', icon: Zap, page: 'triggers' },
  { to: '/tenants', label: 'Tenants', icon: Cloud, page: 'tenants' },
  { to: '/people', label: 'People', icon: Users, page: 'people' },
  { to: '/audit', label: 'Audit log', icon: ScrollText, page: 'audit' },
];

function route(path: string, home: 'dashboard' | 'runbooks'): ReactNode {
  let p: Record<string, string> | undefined;
  if (path === '/') return home === 'dashboard' ? <DashboardPage /> : <RunbooksPage />;
  if (path === '/runbooks') return <RunbooksPage />;
  if ((p = match('/runbooks/:id/run', path))) return <RunFormPage id={p.id!} />;
  if ((p = match('/runbooks/:id', path))) return <EditorPage id={p.id!} />;
  if (path === '/helpdesk') return <HelpDeskPage />;
  if ((p = match('/helpdesk/:id', path))) return <HelpDeskRunPage id={p.id!} />;
  if (path === '/runs') return <RunsPage />;
  if ((p = match('/runs/:id', path))) return <RunPage id={p.id!} />;
  if ((p = match('/batches/:id', path))) return <BatchPage id={p.id!} />;
  if (path === '/approvals') return <ApprovalsPage />;
  if ((p = match('/approvals/:runId/:nodeId', path))) return <ApprovalPage runId={p.runId!} nodeId={p.nodeId!} />;
  if (path === '/schedules') return <SchedulesPage />;
  if (path === '/triggers') return <TriggersPage />;
  if (path === '/tenants') return <TenantsPage />;
  if (path === '/people') return <PeoplePage />;
  if (path === '/audit') return <ResourcePage kind="audit" />;
  if (path === '/account')
    return (
      <div className="page" data-page="account">
        <h1>My account</h1>
        <TokensPanel />
      </div>
    );
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>. <Link to="/runbooks">Back to the runbooks</Link>
      </p>
    </div>
  );
}

export function App() {
  const { path } = useLocation();
  const [user, setUser] = useState<string | undefined>(undefined);
  const [checked, setChecked] = useState(false);
  const [mustChange, setMustChange] = useState(false);
  const [grants, setGrants] = useState<Grant[]>([]);
  const [catalog, setCatalog] = useState<Catalog>({ actions: [], byId: new Map() });

  useEffect(() => {
    api.me().then(
      (me) => {
        setUser(me.user.email);
        setGrants(me.grants);
        setMustChange(!!me.mustChangePassword);
        setChecked(true);
      },
      () => setChecked(true),
    );
  }, []);

  useEffect(() => {
    // Grants change with who signed in.
    if (user) api.me().then((me) => setGrants(me.grants), () => setGrants([]));
  }, [user]);

  useEffect(() => {
    // Not before the password is changed: the server refuses everything else until then, and the
    // catalog loads (and its error clears) once it is.
    if (!user || mustChange) return;
    setCatalog((c) => (c.error ? { ...c, error: undefined } : c));
    api.tenantList().then(
      (ts) => {
        const names = ts.map((t) => t.name);
        if (names.length && !names.includes('sandbox')) setPickerTenant(names[0]!);
      },
      () => {},
    );
    api.actions().then(
      (actions: ActionInfo[]) => setCatalog({ actions, byId: new Map(actions.map((a) => [a.id, a])) }),
      (error) => setCatalog((c) => ({ ...c, error })),
    );
  }, [user, mustChange]);

  const session = useMemo(
    () => ({
      user: user ?? '',
      grants,
      signOut: () => {
        api.signOut().catch((err) => console.warn(err));
        setUser(undefined);
        setGrants([]);
        navigate('/');
      },
    }),
    [user, grants],
  );

  if (!checked) return null;
  if (!user)
    return (
      <SignInPage
        onSignedIn={(u, change) => {
          setUser(u);
          setMustChange(!!change);
        }}
      />
    );
  if (mustChange) return <SignInPage changePassword onSignedIn={() => setMustChange(false)} />;

  const pages = visiblePages(grants);
  const fullBleed = /^\/runbooks\/[^/]+$/.test(path) || /^\/runs\/[^/]+$/.test(path);
  return (
    <SessionContext.Provider value={session}>
      <CatalogContext.Provider value={catalog}>
        <div className="shell">
          <a className="skip-link" href="#main">
            Skip to content
          </a>
          <nav className="sidebar" aria-label="Main">
            <Link to="/" className="brand">
              <span className="brand-mark">T</span> Tenantflow
            </Link>
            <ul>
              {NAV.filter((n) => pages.has(n.page)).map((n) => {
                const active = n.to === '/' ? path === '/' : path.startsWith(n.to);
                return (
                  <li key={n.to}>
                    <Link to={n.to} className={active ? 'active' : undefined} aria-current={active ? 'page' : undefined}>
                      <n.icon className="nav-icon" size={16} aria-hidden />
                      {n.label}
                    </Link>
                  </li>
                );
              })}
            </ul>
            <div className="sidebar-foot">
              <Link to="/account" className="who" title={`${user}: my account and API tokens`}>
                {user}
              </Link>
              <button className="btn btn-ghost btn-small" onClick={session.signOut}>
                Sign out
              </button>
            </div>
          </nav>
          <main id="main" className={fullBleed ? 'main full-bleed' : 'main'} tabIndex={-1}>
            {catalog.error ? <div className="banner banner-error" role="alert" data-banner="catalog">The action catalog did not load: {String((catalog.error as Error).message)}</div> : null}
            {route(path, pages.has('dashboard') ? 'dashboard' : 'runbooks')}
          </main>
        </div>
      </CatalogContext.Provider>
    </SessionContext.Provider>
  );
}
