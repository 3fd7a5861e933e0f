/**
 * IP addresses and CIDR ranges for the `ip_in_cidr` condition: IPv4 dotted quads and IPv6 in
 * any RFC 4291 §2.2 text form (`::` compression, an embedded IPv4 tail). An IPv4-mapped IPv6
 * address (`::ffff:192.0.2.1`) counts as the IPv4 address it carries. Zone ids are refused.
 */

export interface IpAddress {
  version: 4 | 6
  bytes: Uint8Array
}

export interface CidrRange {
  version: 4 | 6
  bytes: Uint8Array
  prefix: number
}

const IPV4_PART = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/
const HEXTET = /^[0-9a-fA-F]{1,4}$/

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((p) => IPV4_PART.test(p))) return null
  return Uint8Array.from(parts, Number)
}

function parseIpv6(text: string): Uint8Array | null {
  if (text.length > 45 || text.includes('%')) return null
  const halves = text.split('::')
  if (halves.length > 2) return null
  const groups = (half: string): string[] | null => (half === '' ? [] : half.split(':'))
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (!head || !tail) return null
  // An embedded IPv4 address takes the place of the last two groups.
  const last = (halves.length === 2 ? tail : head).at(-1)
  let v4: Uint8Array | null = null
  if (last?.includes('.')) {
    v4 = parseIpv4(last)
    if (!v4) return null
    ;(halves.length === 2 ? tail : head).pop()
  }
  const hextets = head.length + tail.length + (v4 ? 2 : 0)
  if (halves.length === 1 ? hextets !== 8 : hextets > 7) return null
  if (![...head, ...tail].every((g) => HEXTET.test(g))) return null
  const words = [...head.map((g) => parseInt(g, 16)), ...new Array(8 - hextets).fill(0), ...tail.map((g) => parseInt(g, 16))]
  const bytes = new Uint8Array(16)
  words.forEach((w, i) => {
    bytes[i * 2] = w >> 8
    bytes[i * 2 + 1] = w & 0xff
  })
  if (v4) bytes.set(v4, 12)
  return bytes
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]

/** The address, or null when `text` is not one. */
export function parseIp(text: string): IpAddress | null {
  if (typeof text !== 'string') return null
  const v4 = parseIpv4(text)
  if (v4) return { version: 4, bytes: v4 }
  const v6 = parseIpv6(text)
  if (!v6) return null
  if (MAPPED_PREFIX.every((b, i) => v6[i] === b)) return { version: 4, bytes: v6.slice(12) }
  return { version: 6, bytes: v6 }
}

/** `address/prefix`; the address need not be the network's first (host bits are ignored). */
export function parseCidr(text: string): CidrRange | null {
  if (typeof text !== 'string') return null
  const slash = text.lastIndexOf('/')
  if (slash < 0) return null
  const prefixText = text.slice(slash + 1)
  if (!/^[0-9]{1,3}$/.test(prefixText)) return null
  const prefix = Number(prefixText)
  const ip = parseIp(text.slice(0, slash))
  if (!ip) return null
  // `::ffff:10.0.0.0/104` is the IPv4 range 10.0.0.0/8.
  const mapped = ip.version === 4 && text.slice(0, slash).includes(':')
  const effective = mapped ? prefix - 96 : prefix
  if (effective < 0 || effective > ip.bytes.length * 8) return null
  return { version: ip.version, bytes: ip.bytes, prefix: effective }
}

/** Whether `ip` lies in `range` (an IPv4 address never lies in an IPv6 range, and the reverse). */
export function ipInRange(ip: IpAddress, range: CidrRange): boolean {
  if (ip.version !== range.version) return false
  const whole = range.prefix >> 3
  for (let i = 0; i < whole; i++) if (ip.bytes[i] !== range.bytes[i]) return false
  const rest = range.prefix & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (ip.bytes[whole]! & mask) === (range.bytes[whole]! & mask)
}
