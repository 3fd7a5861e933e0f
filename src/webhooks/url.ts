/**
 * Which URLs a webhook may point at. Outside development and test: https only, and no address
 * that reaches the deployment's own network (loopback, private, link-local, shared/CGNAT,
 * unique-local IPv6…) nor a name that means "this machine" (`localhost`, `*.localhost`).
 *
 * Limit: only IP literals can be checked. A Worker cannot resolve a hostname before `fetch`,
 * so a public name whose DNS points at a private address passes this check; on Cloudflare the
 * request then leaves from Cloudflare's edge, which does not route to private ranges. Redirects
 * are never followed (deliver.ts), so a public URL cannot bounce a delivery inward either.
 */

export type WebhookEnvironment = 'development' | 'test' | 'production'

export const MAX_WEBHOOK_URL_LENGTH = 2048

/** Why `raw` cannot be a webhook URL in `environment`, or null when it can. */
export function webhookUrlProblem(raw: string, environment: WebhookEnvironment): string | null {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return 'must be an absolute URL'
  }
  const relaxed = environment === 'development' || environment === 'test'
  if (url.protocol !== 'https:' && !(relaxed && url.protocol === 'http:')) {
    return relaxed ? 'must use http or https' : 'must use https'
  }
  // Credentials in a URL end up in logs and lists; the signature authenticates deliveries instead.
  if (url.username || url.password) return 'must not contain a user name or password'
  if (url.hash) return 'must not contain a fragment'
  if (relaxed) return null

  const host = url.hostname.toLowerCase().replace(/\.$/, '')
  if (host === 'localhost' || host.endsWith('.localhost')) return 'must not point at localhost'
  if (host.startsWith('[')) {
    const v6 = parseIpv6(host.slice(1, -1))
    if (!v6) return 'has an invalid IPv6 address'
    return ipv6Blocked(v6) ? 'must not point at a loopback, private, link-local or reserved address' : null
  }
  // The URL parser has already turned every IPv4 spelling (127.1, 0x7f.0.0.1, 2130706433) into dotted quads.
  const v4 = parseIpv4(host)
  if (v4 !== null && ipv4Blocked(v4)) return 'must not point at a loopback, private, link-local or reserved address'
  return null
}

function parseIpv4(host: string): number | null {
  const m = host.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/)
  if (!m) return null
  const parts = m.slice(1).map(Number)
  if (parts.some((p) => p > 255)) return null
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!
}

/** [network, prefix length] */
const BLOCKED_V4: Array<[string, number]> = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private (RFC 1918)
  ['100.64.0.0', 10], // shared address space, CGNAT (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking (RFC 2544)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255
]

function ipv4Blocked(ip: number): boolean {
  return BLOCKED_V4.some(([net, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0
    return ((ip & mask) >>> 0) === ((parseIpv4(net)! & mask) >>> 0)
  })
}

/**
 * Eight 16-bit groups, or null. The URL parser already serialises IPv6 hosts canonically
 * (lowercase hex, `::` compression, embedded IPv4 rewritten as hex, zone ids refused), so only
 * that form needs parsing.
 */
function parseIpv6(text: string): number[] | null {
  const halves = text.split('::')
  if (halves.length > 2) return null
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => (/^[0-9a-f]{1,4}$/i.test(g) ? parseInt(g, 16) : NaN)))
  const head = parse(halves[0]!)
  const rest = halves.length === 2 ? parse(halves[1]!) : []
  if ([...head, ...rest].some(Number.isNaN)) return null
  if (halves.length === 1) return head.length === 8 ? head : null
  const fill = 8 - head.length - rest.length
  if (fill < 1) return null
  return [...head, ...new Array<number>(fill).fill(0), ...rest]
}

function ipv6Blocked(g: number[]): boolean {
  const allZeroUntil = (n: number) => g.slice(0, n).every((x) => x === 0)
  if (allZeroUntil(7) && (g[7] === 0 || g[7] === 1)) return true // :: and ::1
  const embedded = ((g[6]! << 16) >>> 0) + g[7]!
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return ipv4Blocked(embedded) // NAT64 64:ff9b::/96
  if (allZeroUntil(5) && g[5] === 0xffff) return ipv4Blocked(embedded) // IPv4-mapped ::ffff:a.b.c.d
  if (allZeroUntil(6)) return ipv4Blocked(embedded) // IPv4-compatible ::a.b.c.d (deprecated)
  const first = g[0]!
  if ((first & 0xfe00) === 0xfc00) return true // unique local fc00::/7
  if ((first & 0xffc0) === 0xfe80) return true // link-local fe80::/10
  if ((first & 0xffc0) === 0xfec0) return true // site-local fec0::/10 (deprecated)
  if ((first & 0xff00) === 0xff00) return true // multicast
  if (first === 0x2001 && g[1] === 0x0db8) return true // documentation
  return false
}
