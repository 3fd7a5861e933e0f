import { useCallback, useEffect, useState } from 'react'
import { apiError } from '../api/client.ts'
import { memberErrorMessage } from './members-text.ts'

/** A page of a cursor-paged list, as the API answers it. */
interface Page<T> {
  data: T[]
  next_cursor: string | null
}

/** What the typed client answers: data, or an error body. */
interface Answer<D> {
  data?: D
  error?: unknown
}

/**
 * A console list of things that can be revoked (API keys, pending invitations): loaded page by
 * page ("More" appends the next page), reloaded when `version` changes (something was created),
 * and a revocation that reloads the list and says what it did. Errors are the API's, in words.
 * `fetchPage` and `revokeItem` must be stable (module-level functions): they key the reload.
 */
export function useRevocableList<T>(options: {
  fetchPage: (cursor?: string) => Promise<Answer<Page<T>>>
  revokeItem: (item: T) => Promise<Answer<unknown>>
  revokedNotice: (item: T) => string
  version: number
}) {
  const { fetchPage, revokeItem, revokedNotice, version } = options
  const [items, setItems] = useState<T[] | null>(null)
  const [next, setNext] = useState<string | null>(null)
  const [error, setError] = useState<string | undefined>()
  const [notice, setNotice] = useState<string | null>(null)
  const load = useCallback(async (cursor?: string) => {
    const { data, error } = await fetchPage(cursor)
    if (error || !data) return setError(memberErrorMessage(apiError(error)))
    setItems((prev) => (cursor && prev ? [...prev, ...data.data] : data.data))
    setNext(data.next_cursor)
  }, [fetchPage])
  useEffect(() => void load(), [load, version])
  const revoke = async (item: T) => {
    setNotice(null)
    const { error } = await revokeItem(item)
    if (error) return setError(memberErrorMessage(apiError(error)))
    setError(undefined)
    await load()
    setNotice(revokedNotice(item))
  }
  return { items, next, error, notice, load, revoke }
}
