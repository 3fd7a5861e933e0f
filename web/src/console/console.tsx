import type { ReactNode } from 'react'
import { Link } from '../router.tsx'
import { ApiKeysScreen } from './api-keys.tsx'
import { MembersScreen } from './members.tsx'
import { useMyPermissions } from './permissions.tsx'
import { visibleScreens, type ConsoleScreen } from './screens.ts'

/** The tenant admin console: a navigation of the screens the caller may see, and the chosen one. */
export function ConsolePage({ path }: { path: string }) {
  const state = useMyPermissions()
  if (!state) return <p role="status">Loading…</p>
  if ('error' in state) return <><h1>Console</h1><p className="form-error" role="alert">{state.error}</p></>
  const screens = visibleScreens(state.permissions)
  const current = screens.find((s) => path === s.path)
  let body: ReactNode
  if (!screens.length) body = <><h1>Console</h1><p>Your roles in this organization give you no access to its console.</p></>
  else if (current?.id === 'members') body = <MembersScreen permissions={state.permissions} />
  else if (current?.id === 'api-keys') body = <ApiKeysScreen permissions={state.permissions} />
  else if (path === '/console') body = <ConsoleHome screens={screens} />
  else body = <><h1>Not available</h1><p>This screen does not exist or your roles do not give you access to it.</p></>
  return (
    <div className="console">
      {screens.length > 0 && (
        <nav aria-label="Console" className="console-nav">
          <ul className="plain">
            <li><Link href="/console" aria-current={path === '/console' ? 'page' : undefined}>Overview</Link></li>
            {screens.map((s) => (
              <li key={s.id}><Link href={s.path} aria-current={path === s.path ? 'page' : undefined}>{s.title}</Link></li>
            ))}
          </ul>
        </nav>
      )}
      <div className="console-body">{body}</div>
    </div>
  )
}

function ConsoleHome({ screens }: { screens: ConsoleScreen[] }) {
  return (
    <>
      <h1>Console</h1>
      <p>Manage this organization. You see the screens and actions your roles allow.</p>
      <ul>
        {screens.map((s) => <li key={s.id}><Link href={s.path}>{s.title}</Link></li>)}
      </ul>
      {/* A page of its own (served by the Worker), not one of the app's: a plain link. */}
      <p>Every endpoint, with its permission and errors, in the <a href="/docs">interactive API reference</a>.</p>
    </>
  )
}

/** The header's link to the console, for a caller who may see at least one of its screens. */
export function ConsoleLink() {
  const state = useMyPermissions()
  if (!state || 'error' in state || !visibleScreens(state.permissions).length) return null
  return <Link href="/console">Console</Link>
}
