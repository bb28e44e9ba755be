import { useEffect } from 'preact/hooks'
import { ConfirmHost, Toasts } from './components/feedback'
import { Icon, type IconName } from './components/icons'
import { Spinner } from './components/ui'
import { unwatchAll } from './lib/downloads'
import { live, startLive, stopLive } from './lib/live'
import { pending, startPending, stopPending } from './lib/pending'
import { linkClick, navigate, usePath } from './lib/router'
import { restore, session, signOut } from './lib/session'
import { useStore } from './lib/store'
import { theme, toggleTheme } from './lib/theme'
import { ApiDocsPage } from './pages/api-docs'
import { AuditPage } from './pages/audit'
import { ChatPage } from './pages/chat'
import { LoginPage } from './pages/login'
import { ModelsPage } from './pages/models'
import { ProfilesPage } from './pages/profiles'
import { ServersPage } from './pages/servers'
import { SettingsPage } from './pages/settings'
import { UsersPage } from './pages/users'

interface Route {
  path: string
  label: string
  icon: IconName
  admin?: boolean
  hidden?: boolean // a page linked from another, not in the sidebar
  page: () => preact.JSX.Element
}

const routes: Route[] = [
  { path: '/chat', label: 'Chat', icon: 'chat', page: ChatPage },
  { path: '/models', label: 'Models', icon: 'models', page: ModelsPage },
  { path: '/servers', label: 'Servers', icon: 'servers', page: ServersPage },
  { path: '/profiles', label: 'Profiles', icon: 'profiles', page: ProfilesPage },
  { path: '/audit', label: 'Audit log', icon: 'audit', page: AuditPage },
  { path: '/users', label: 'Users', icon: 'users', admin: true, page: UsersPage },
  { path: '/settings', label: 'Settings', icon: 'settings', page: SettingsPage },
  { path: '/api-docs', label: 'API', icon: 'settings', hidden: true, page: ApiDocsPage },
]

const home = '/models'

// afterLogin is where the sign-in page sends the user: back where they were going.
function afterLogin(): string {
  const next = new URLSearchParams(location.search).get('next') ?? ''
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : home
}

export function App() {
  const s = useStore(session)
  const path = usePath()
  useEffect(() => void restore(), [])

  const user = s.user
  useEffect(() => {
    if (!user) return
    startLive()
    startPending()
    return () => {
      stopLive()
      unwatchAll()
      stopPending()
    }
  }, [user?.id, user?.is_admin])

  // Signed out, every page leads to the sign-in page, which leads back after.
  useEffect(() => {
    if (s.checking) return
    if (!user && path !== '/login') {
      const next = path === '/' ? '' : `?next=${encodeURIComponent(path + location.search)}`
      navigate(`/login${next}`, true)
    }
    if (user && (path === '/login' || path === '/')) navigate(afterLogin(), true)
  }, [s.checking, user, path])

  if (s.checking) {
    return <div class="boot"><Spinner label="Loading" /></div>
  }
  if (!user) {
    return <><LoginPage notice={s.notice} /><Toasts /></>
  }
  const visible = routes.filter((r) => !r.admin || user.is_admin)
  const route = visible.find((r) => path === r.path || path.startsWith(r.path + '/'))
  // An admin page opened by a user (an old link, a shared URL) says why it is not shown.
  const adminOnly = !route && routes.some((r) => r.admin && (path === r.path || path.startsWith(r.path + '/')))
  const Page = route?.page ?? (adminOnly ? AdminsOnly : NotFound)
  return (
    <div class="shell">
      <Sidebar routes={visible.filter((r) => !r.hidden)} path={path} />
      <main class="main" id="main">
        <Page />
      </main>
      <Toasts />
      <ConfirmHost />
    </div>
  )
}

function Sidebar({ routes, path }: { routes: Route[]; path: string }) {
  const user = useStore(session).user!
  const count = useStore(pending)
  const { connected } = useStore(live)
  const t = useStore(theme)
  return (
    <nav class="sidebar" aria-label="Main">
      <a class="brand" href={home} onClick={linkClick}>
        <span class="brand-mark"><Icon name="chip" size={20} /></span>
        <span>MLX Manager</span>
      </a>
      <ul class="nav">
        {routes.map((r) => (
          <li key={r.path}>
            <a href={r.path} onClick={linkClick} class={path.startsWith(r.path) ? 'active' : ''} title={r.label}
              aria-current={path.startsWith(r.path) ? 'page' : undefined}>
              <Icon name={r.icon} />
              <span>{r.label}</span>
              {r.path === '/users' && count > 0 && (
                <span class="nav-badge" data-testid="pending-badge" title={`${count} waiting for approval`}>{count}</span>
              )}
            </a>
          </li>
        ))}
      </ul>
      <div class="sidebar-foot">
        <div class={`live-dot ${connected ? 'on' : ''}`} title={connected ? 'Live updates connected' : 'Reconnecting…'}>
          <span class="dot" />{connected ? 'Live' : 'Offline'}
        </div>
        <div class="who">
          <div class="who-email" title={user.email}>{user.email}</div>
          <div class="muted small">{user.is_admin ? 'Administrator' : 'User'}</div>
        </div>
        <div class="sidebar-buttons">
          <button type="button" class="icon-btn" onClick={toggleTheme} aria-label={t === 'dark' ? 'Light mode' : 'Dark mode'}
            title={t === 'dark' ? 'Light mode' : 'Dark mode'}>
            <Icon name={t === 'dark' ? 'sun' : 'moon'} />
          </button>
          <button type="button" class="icon-btn" onClick={() => signOut()} aria-label="Sign out" title="Sign out">
            <Icon name="logout" />
          </button>
        </div>
      </div>
    </nav>
  )
}

function AdminsOnly() {
  return (
    <div class="page" data-testid="admins-only">
      <h1>Admins only</h1>
      <p class="muted">Only an administrator can open {location.pathname}. <a href={home} onClick={linkClick}>Go to the models</a>.</p>
    </div>
  )
}

function NotFound() {
  return (
    <div class="page">
      <h1>Page not found</h1>
      <p class="muted">There is nothing at {location.pathname}. <a href={home} onClick={linkClick}>Go to the models</a>.</p>
    </div>
  )
}
