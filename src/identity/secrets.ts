import { base64url, base64urlDecode } from '../platform/crypto.ts'

const encoder = new TextEncoder()

/** A random opaque token (default 256 bits), base64url. */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)))
}

/**
 * Tokens at rest are stored as SHA-256 hex. They carry 256 random bits, so a fast hash is
 * enough (no dictionary to attack) and lookups stay indexable.
 */
export async function hashToken(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(token)))
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}

const keys = new Map<string, Promise<CryptoKey>>()

function encryptionKey(base64Key: string): Promise<CryptoKey> {
  let key = keys.get(base64Key)
  if (!key) {
    const raw = base64urlDecode(base64Key.replace(/=+$/, ''))
    if (raw.length !== 32) throw new Error('DATA_ENCRYPTION_KEY must be 32 bytes (base64 or base64url)')
    key = crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
    keys.set(base64Key, key)
  }
  return key
}

/**
 * Secrets that must be read back (TOTP seeds, OAuth client secrets) are encrypted with
 * AES-256-GCM under DATA_ENCRYPTION_KEY: `v1.<iv>.<ciphertext>` (base64url). `context` is bound
 * as additional data, so a value copied to another row or purpose does not decrypt.
 */
export async function encryptSecret(base64Key: string, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(context) }, await encryptionKey(base64Key), encoder.encode(plaintext))
  return `v1.${base64url(iv)}.${base64url(new Uint8Array(sealed))}`
}

export async function decryptSecret(base64Key: string, sealed: string, context: string): Promise<string> {
  const [version, iv, data] = sealed.split('.')
  if (version !== 'v1' || !iv || !data) throw new Error('unknown secret encoding')
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: base64urlDecode(iv), additionalData: encoder.encode(context) },
    await encryptionKey(base64Key),
    base64urlDecode(data),
  )
  return new TextDecoder().decode(plain)
}
