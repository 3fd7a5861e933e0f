import { useCallback, useEffect, useState } from 'react'
import { api, apiError } from '../api/client.ts'

export type PermissionsState = { permissions: string[] } | { error: string } | null

/** The caller's effective permissions in this tenant, fetched afresh (a role may have changed since). */
export function useMyPermissions(enabled = true): PermissionsState {
  const [state, setState] = useState<PermissionsState>(null)
  const load = useCallback(async () => {
    const { data, error } = await api.GET('/v1/me/permissions')
    setState(data ? { permissions: data.permissions } : { error: apiError(error).message })
  }, [])
  useEffect(() => {
    if (enabled) void load()
  }, [enabled, load])
  return state
}
