/**
 * The origins a tenant lets its own browser apps call the API from (`settings.cors.allowed_origins`).
 * An entry is an origin in its serialised form: `http` or `https`, a host, an optional port, nothing
 * else (`https://app.example.com`, `http://localhost:3000`). The only wildcard is a leading `*.`
 * label (`https://*.example.com`: any subdomain, at any depth, never the apex itself), and it must
 * sit on a registrable-looking name of at least two labels (`*.com` is refused).
 */

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?'
const HOST = `${LABEL}(?:\\.${LABEL})*`
const ORIGIN_SHAPE = new RegExp(`^(https?)://(\\*\\.)?(${HOST})(?::(\\d{1,5}))?$`)

/** Why `entry` cannot be an allowed origin, or null. */
export function allowedOriginProblem(entry: string): string | null {
  if (entry !== entry.trim() || entry !== entry.toLowerCase()) return 'write the origin in lowercase without spaces'
  const m = ORIGIN_SHAPE.exec(entry)
  if (!m) return 'an origin is http(s)://host[:port] with no path, query or other wildcard than a leading *.'
  const [, scheme, wildcard, host, port] = m
  if (port !== undefined) {
    const n = Number(port)
    if (n < 1 || n > 65535 || port.startsWith('0')) return 'the port must be 1–65535'
    if ((scheme === 'https' && n === 443) || (scheme === 'http' && n === 80)) return 'leave out the default port'
  }
  if (wildcard && host!.split('.').length < 2) return 'a wildcard needs a domain of at least two labels (*.example.com)'
  // What a browser would send for this origin must be this very string.
  const url = new URL(wildcard ? entry.replace('*.', 'x.') : entry)
  if ((wildcard ? url.origin.replace('x.', '*.') : url.origin) !== entry) return 'not an origin in its serialised form'
  return null
}

/**
 * Whether the `Origin` a browser sent is one of `allowed`. `null` (sandboxed frames, file: pages,
 * redirects) and anything not in serialised form never match; a wildcard matches a deeper host
 * with the same scheme and port, compared label-wise so `evilexample.com` is no `*.example.com`.
 */
export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (!origin || origin === 'null' || allowed.length === 0) return false
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  if (url.origin !== origin || (url.protocol !== 'https:' && url.protocol !== 'http:')) return false
  for (const entry of allowed) {
    if (entry === origin) return true
    if (!entry.includes('://*.')) continue
    const [scheme, rest] = entry.split('://*.') as [string, string]
    const colon = rest.lastIndexOf(':')
    const base = colon >= 0 ? rest.slice(0, colon) : rest
    const port = colon >= 0 ? rest.slice(colon + 1) : ''
    if (`${scheme}:` === url.protocol && url.port === port && url.hostname.endsWith(`.${base}`)) return true
  }
  return false
}
