import { useEffect, useState, type AnchorHTMLAttributes, type MouseEvent } from 'react'

/** The path of the page, following history changes (the app has a handful of pages: no router library). */
export function usePath(): string {
  const [path, setPath] = useState(location.pathname)
  useEffect(() => {
    const update = () => setPath(location.pathname)
    addEventListener('popstate', update)
    return () => removeEventListener('popstate', update)
  }, [])
  return path
}

export function navigate(to: string, options: { replace?: boolean } = {}) {
  if (options.replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  dispatchEvent(new PopStateEvent('popstate'))
}

/** A real link (keyboard, middle-click, copy) that navigates in place. */
export function Link({ href, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(href)
  }
  return <a href={href} onClick={onClick} {...rest} />
}

/**
 * The token a mailed link carries — in its fragment (`#token=…`), or in the query of links
 * mailed before they moved to fragments — then wiped from the address bar and history.
 */
export function takeLinkToken(): string | null {
  const value = new URLSearchParams(location.hash.slice(1)).get('token') ?? new URLSearchParams(location.search).get('token')
  if (location.hash || location.search) history.replaceState(null, '', location.pathname)
  return value
}

/** The fragment's parameters (a social sign-in's result), then wiped from the address bar and history. */
export function takeFragment(): URLSearchParams {
  const params = new URLSearchParams(location.hash.slice(1))
  if (location.hash) history.replaceState(null, '', location.pathname + location.search)
  return params
}
