import { NavLink, Outlet } from 'react-router'
import { SettingsPopover } from './Settings'
import { useServing } from './swap'
import { cx } from './ui'

const LINKS = [
  { to: '/', label: 'Playground', end: true },
  { to: '/dashboard', label: 'Dashboard' },
  { to: '/models', label: 'Models' },
  { to: '/experiments', label: 'Experiments' },
  { to: '/monitoring', label: 'Monitoring' },
]

function ReadyBadge() {
  const { ready: q, pending } = useServing()
  const ready = q.data?.ready === true
  const text = q.isPending
    ? 'checking…'
    : q.isError
      ? 'API unreachable'
      : pending
        ? `v${q.data?.model_version ?? '?'} · swapping to v${pending}…`
        : ready
          ? `model v${q.data?.model_version ?? '?'}`
          : 'no model loaded'
  return (
    <span
      className="inline-flex items-center gap-1.5 text-xs text-slate-300"
      role="status"
      aria-label={`API status: ${text}`}
      data-testid="ready-status"
    >
      <span
        aria-hidden="true"
        className={cx(
          'inline-block h-2 w-2 rounded-full',
          q.isPending ? 'bg-slate-400' : pending ? 'animate-pulse bg-amber-400' : ready ? 'bg-emerald-400' : 'bg-red-400',
        )}
      />
      <span className="hidden md:inline">{text}</span>
    </span>
  )
}

export function Layout() {
  return (
    <div className="min-h-screen">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-white focus:px-3 focus:py-2"
      >
        Skip to content
      </a>
      <header className="sticky top-0 z-20 bg-slate-900 text-white shadow">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center gap-x-4 gap-y-1 px-3 py-2 sm:px-4">
          <NavLink to="/" className="rounded text-lg font-bold tracking-tight text-white" aria-label="recloop home">
            rec<span className="text-indigo-400">loop</span>
          </NavLink>
          <nav aria-label="Main" className="order-3 -mx-1 w-full sm:order-none sm:mx-0 sm:w-auto sm:flex-1">
            <ul className="flex flex-wrap gap-1 whitespace-nowrap">
              {LINKS.map((l) => (
                <li key={l.to}>
                  <NavLink
                    to={l.to}
                    end={l.end}
                    className={({ isActive }) =>
                      cx(
                        'block rounded-md px-2 py-1.5 text-sm font-medium sm:px-3',
                        isActive ? 'bg-slate-700 text-white' : 'text-slate-300 hover:bg-slate-800 hover:text-white',
                      )
                    }
                  >
                    {l.label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
          <div className="ml-auto flex items-center gap-3 sm:ml-0">
            <ReadyBadge />
            <SettingsPopover />
          </div>
        </div>
      </header>
      <main id="main" className="mx-auto max-w-7xl px-3 py-4 sm:px-4 sm:py-6">
        <Outlet />
      </main>
    </div>
  )
}
