/**
 * Tenant slugs become DNS labels (`<slug>.example.com`): 3–63 characters of a–z, 0–9 and
 * hyphens, starting and ending with a letter or digit (RFC 1123). A hyphen pair at
 * positions 3–4 is refused because `xn--` marks punycode labels (RFC 5891 §4.2.3.1).
 */
const LABEL = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/

/** Names that belong to the platform or invite phishing; refused as tenant slugs. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'www', 'api', 'app', 'admin', 'auth', 'docs', 'dashboard', 'console', 'platform', 'status', 'static',
  'assets', 'cdn', 'mail', 'email', 'smtp', 'imap', 'pop', 'ftp', 'ns1', 'ns2', 'dns', 'help', 'support',
  'blog', 'dev', 'staging', 'test', 'demo', 'localhost', 'root', 'system', 'internal', 'atrium', 'billing',
  'login', 'logout', 'signup', 'register', 'oauth', 'sso', 'id', 'identity', 'account', 'accounts',
  'security', 'webhooks', 'health', 'metrics', 'openapi', 'well-known',
])

export type SlugProblem = 'length' | 'characters' | 'hyphens' | 'reserved'

export function slugProblem(slug: string): SlugProblem | undefined {
  if (slug.length < 3 || slug.length > 63) return 'length'
  if (!LABEL.test(slug)) return /^[a-z0-9-]+$/.test(slug) ? 'hyphens' : 'characters'
  if (slug.slice(2, 4) === '--') return 'hyphens'
  if (RESERVED_SLUGS.has(slug)) return 'reserved'
  return undefined
}

export const SLUG_MESSAGES: Record<SlugProblem, string> = {
  length: 'A slug is 3 to 63 characters long.',
  characters: 'A slug uses only lowercase letters, digits and hyphens.',
  hyphens: 'A slug cannot start or end with a hyphen, nor have "--" at positions 3 and 4.',
  reserved: 'This slug is reserved.',
}

/** A slug for a personal tenant: the email's local part, cleaned, plus a random suffix. */
export function personalSlug(email: string): string {
  const base = email.split('@')[0]!.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'user'
  const slug = `${base.length < 3 ? `${base}-ws` : base}-${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36).slice(0, 5)}`
  return slugProblem(slug) ? `ws-${crypto.randomUUID().slice(0, 8)}` : slug
}
