import type { MiddlewareHandler } from 'hono'

/**
 * Headers of every answer the Worker gives (the pages get theirs from web/public/_headers):
 * no framing (clickjacking), no MIME sniffing, no Referer, and for JSON a CSP that lets the
 * answer run nothing if a browser ever renders it. A route that sets its own keeps it.
 */
export function securityHeaders(): MiddlewareHandler {
  return async function securityHeadersMiddleware(c, next) {
    await next()
    const headers = c.res.headers
    const setDefault = (name: string, value: string) => {
      if (!headers.has(name)) headers.set(name, value)
    }
    setDefault('X-Content-Type-Options', 'nosniff')
    setDefault('X-Frame-Options', 'DENY')
    setDefault('Referrer-Policy', 'no-referrer')
    if (headers.get('content-type')?.startsWith('application/json')) setDefault('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'")
  }
}
