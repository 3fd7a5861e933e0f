/**
 * What the console shows, from the caller's effective permissions (GET /v1/me/permissions, decided
 * by the server's authorization engine): never from role names. Hiding is a courtesy only — the
 * API refuses whatever the caller may not do, whatever the page shows.
 */

export interface ConsoleScreen {
  id: 'members' | 'api-keys'
  path: string
  title: string
  /** The screen shows when the caller holds at least one of these. */
  anyOf: readonly string[]
}

export const SCREENS: readonly ConsoleScreen[] = [
  { id: 'members', path: '/console/members', title: 'Members', anyOf: ['members:read', 'invitations:read'] },
  { id: 'api-keys', path: '/console/api-keys', title: 'API keys', anyOf: ['api_keys:read', 'api_keys:create'] },
]

/** The console's screens the caller may open, in navigation order. */
export function visibleScreens(permissions: Iterable<string>): ConsoleScreen[] {
  const held = new Set(permissions)
  return SCREENS.filter((s) => s.anyOf.some((p) => held.has(p)))
}

/** What the Members screen offers: each part and action needs its own permission. */
export function memberActions(permissions: Iterable<string>) {
  const held = new Set(permissions)
  return {
    list: held.has('members:read'),
    invite: held.has('members:invite'),
    changeRole: held.has('members:update'),
    remove: held.has('members:remove'),
    invitations: held.has('invitations:read'),
    revoke: held.has('invitations:revoke'),
  }
}

/** What the API keys screen offers. */
export function apiKeyActions(permissions: Iterable<string>) {
  const held = new Set(permissions)
  return { list: held.has('api_keys:read'), create: held.has('api_keys:create'), revoke: held.has('api_keys:revoke'), pickRoles: held.has('roles:read') }
}
