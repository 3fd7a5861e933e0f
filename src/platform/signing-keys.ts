/**
 * ES512 (ECDSA P-521 / SHA-512) signing keys for access tokens.
 *
 * JWT_PRIVATE_KEY holds the current private key as a PKCS#8 PEM or a JWK (JSON).
 * JWT_PREVIOUS_PUBLIC_KEYS optionally holds public keys that stay valid during a rotation
 * (a JWKS `{"keys":[…]}` or a JSON array of JWKs). Every key's `kid` is its RFC 7638
 * thumbprint, so tokens name the key that signed them and /.well-known/jwks.json can
 * publish them all.
 */
export interface PublicJwk extends JsonWebKey {
  kid: string
  alg: 'ES512'
  use: 'sig'
}

export interface SigningKeys {
  kid: string
  /** The private JWK with `alg` and `kid`, as hono/jwt's `sign` wants it (it copies `kid` into the header). */
  privateJwk: JsonWebKey & { alg: 'ES512'; kid: string }
  /** Verification keys by kid: the current one and any previous ones. */
  verifyKeys: ReadonlyMap<string, CryptoKey>
  publicJwks: readonly PublicJwk[]
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-521' } as const

function pemBody(pem: string): ArrayBuffer {
  const b64 = pem.replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, '')
  const bin = atob(b64)
  const bytes = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i)
  return bytes.buffer
}

function base64url(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** RFC 7638 JWK thumbprint of an EC key: SHA-256 over the required members in lexical order. */
async function thumbprint(jwk: JsonWebKey): Promise<string> {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })
  return base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical)))
}

export async function publicJwkOf(jwk: JsonWebKey): Promise<PublicJwk> {
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-521' || !jwk.x || !jwk.y) throw new Error('an ES512 key must be an EC P-521 key')
  return { kty: 'EC', crv: 'P-521', x: jwk.x, y: jwk.y, kid: await thumbprint(jwk), alg: 'ES512', use: 'sig' }
}

export async function importVerifyKey(jwk: PublicJwk): Promise<CryptoKey> {
  const { kty, crv, x, y } = jwk
  return crypto.subtle.importKey('jwk', { kty, crv, x, y }, ALGORITHM, false, ['verify'])
}

function parsePrevious(text: string | undefined): JsonWebKey[] {
  if (!text?.trim()) return []
  const parsed: unknown = JSON.parse(text)
  if (Array.isArray(parsed)) return parsed as JsonWebKey[]
  if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { keys?: unknown }).keys)) return (parsed as { keys: JsonWebKey[] }).keys
  throw new Error('JWT_PREVIOUS_PUBLIC_KEYS must be a JWKS object or a JSON array of JWKs')
}

async function load(privateKey: string, previous?: string): Promise<SigningKeys> {
  const text = privateKey.trim()
  const imported = text.startsWith('{')
    ? await crypto.subtle.importKey('jwk', JSON.parse(text) as JsonWebKey, ALGORITHM, true, ['sign'])
    : await crypto.subtle.importKey('pkcs8', pemBody(text.replace(/\\n/g, '\n')), ALGORITHM, true, ['sign'])
  const jwk = await crypto.subtle.exportKey('jwk', imported)
  const current = await publicJwkOf(jwk)
  const publicJwks = [current]
  for (const key of parsePrevious(previous)) {
    const pub = await publicJwkOf(key)
    if (!publicJwks.some((k) => k.kid === pub.kid)) publicJwks.push(pub)
  }
  const verifyKeys = new Map<string, CryptoKey>()
  for (const pub of publicJwks) verifyKeys.set(pub.kid, await importVerifyKey(pub))
  return {
    kid: current.kid,
    privateJwk: { kty: 'EC', crv: 'P-521', x: jwk.x, y: jwk.y, d: jwk.d, alg: 'ES512', kid: current.kid },
    verifyKeys,
    publicJwks,
  }
}

const loaded = new Map<string, Promise<SigningKeys>>()

/** Keys are imported once per isolate (importing a P-521 key costs more than verifying with it). */
export function signingKeys(privateKey: string, previous?: string): Promise<SigningKeys> {
  const cacheKey = `${privateKey}\u0000${previous ?? ''}`
  let keys = loaded.get(cacheKey)
  if (!keys) {
    keys = load(privateKey, previous)
    keys.catch(() => loaded.delete(cacheKey))
    loaded.set(cacheKey, keys)
  }
  return keys
}

/** The private JWK `sign` wants, from a JWK holding `d` (kid = RFC 7638 thumbprint). */
export async function signingJwkOf(jwk: JsonWebKey): Promise<SigningKeys['privateJwk']> {
  const pub = await publicJwkOf(jwk)
  if (!jwk.d) throw new Error('not a private key')
  return { kty: 'EC', crv: 'P-521', x: pub.x, y: pub.y, d: jwk.d, alg: 'ES512', kid: pub.kid }
}

/** A fresh P-521 key pair as JWKs: the private one (with `d`) and its public half, both named by their thumbprint. */
export async function generateSigningJwk(): Promise<{ privateJwk: SigningKeys['privateJwk']; publicJwk: PublicJwk }> {
  const pair = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair
  const privateJwk = await signingJwkOf(await crypto.subtle.exportKey('jwk', pair.privateKey) as JsonWebKey)
  return { privateJwk, publicJwk: await publicJwkOf(privateJwk) }
}

/** A fresh P-521 private key as PKCS#8 PEM (used by the dev setup and tests). */
export async function generatePrivateKeyPem(): Promise<string> {
  const pair = (await crypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair
  const der = new Uint8Array((await crypto.subtle.exportKey('pkcs8', pair.privateKey)) as ArrayBuffer)
  const b64 = btoa(String.fromCharCode(...der))
  return `-----BEGIN PRIVATE KEY-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n`
}

/** A key that may verify a token, and what a token under it must also carry. */
export interface VerificationKey {
  key: CryptoKey
  /** Required `aud` (a string equal to it, or an array holding it). */
  audience?: string
  /** Required `iss`: this predicate must accept it. */
  issuer?: (iss: unknown) => boolean
  /** Tokens under this key count only if issued (`iat`, seconds) before this. */
  issuedBefore?: number
}

/**
 * Imported signing keys, per isolate, by the JWK object they came from: importing a P-521 private
 * JWK costs about as much as the signature itself, and hono/jwt's `sign` imports it on every call.
 */
const importedSigners = new WeakMap<object, Promise<CryptoKey>>()

const textBytes = new TextEncoder()
const base64urlText = (text: string) => base64url(textBytes.encode(text).buffer as ArrayBuffer)

/** An ES512 JWS (compact JWT) of `payload`, its header naming the key's `kid`: what hono/jwt's `sign` writes, with the key imported once. */
export async function signEs512(payload: Record<string, unknown>, jwk: SigningKeys['privateJwk']): Promise<string> {
  let key = importedSigners.get(jwk)
  if (!key) {
    const { kty, crv, x, y, d } = jwk
    key = crypto.subtle.importKey('jwk', { kty, crv, x, y, d }, ALGORITHM, false, ['sign'])
    importedSigners.set(jwk, key)
    key.catch(() => importedSigners.delete(jwk))
  }
  const input = `${base64urlText(JSON.stringify({ alg: 'ES512', typ: 'JWT', kid: jwk.kid }))}.${base64urlText(JSON.stringify(payload))}`
  // WebCrypto's ECDSA signature is r‖s (IEEE P1363), the form JWS uses (RFC 7518 §3.4).
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-512' }, await key, textBytes.encode(input))
  return `${input}.${base64url(signature)}`
}
