import { randomToken } from '../identity/secrets.ts'

/**
 * Webhook signatures (docs/api/webhooks.md, "Verifying a delivery"):
 *
 *   Atrium-Webhook-Signature: v1=<hex HMAC-SHA256(key = UTF-8 of the whole secret, "<timestamp>.<raw body>")>
 *
 * The timestamp (unix seconds, also sent as Atrium-Webhook-Timestamp) is inside the signed
 * text, so a captured delivery cannot be replayed later with a fresh timestamp.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_'
export const SIGNATURE_VERSION = 'v1'

/** A new signing secret: `whsec_` + 256 random bits, base64url. */
export function newWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomToken()}`
}

const encoder = new TextEncoder()

async function hmacSha256Hex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message)))
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('')
}

/** The value of the Atrium-Webhook-Signature header for this body at this time. */
export async function signatureHeader(secret: string, timestamp: number, rawBody: string): Promise<string> {
  return `${SIGNATURE_VERSION}=${await hmacSha256Hex(secret, `${timestamp}.${rawBody}`)}`
}

export interface VerifyOptions {
  /** Largest accepted distance between the timestamp and now, in seconds (default 300). */
  toleranceSeconds?: number
  now?: number
}

/**
 * The receiver's side, as documented: recompute, compare in constant time, check the
 * timestamp window. Exported for receivers written in TypeScript and for the tests.
 */
export async function verifySignature(secret: string, headers: { timestamp: string | null; signature: string | null }, rawBody: string, options: VerifyOptions = {}): Promise<boolean> {
  const tolerance = options.toleranceSeconds ?? 300
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  if (!headers.timestamp || !/^\d{1,12}$/.test(headers.timestamp) || !headers.signature) return false
  const timestamp = Number(headers.timestamp)
  if (Math.abs(now - timestamp) > tolerance) return false
  const expected = await signatureHeader(secret, timestamp, rawBody)
  // Several signatures may be sent one day (secret rotation): any matching v1 entry is enough.
  const offered = headers.signature.split(/[ ,]+/).filter((s) => s.startsWith(`${SIGNATURE_VERSION}=`))
  let ok = false
  for (const candidate of offered) ok = constantTimeEqualAscii(candidate, expected) || ok
  return ok
}

function constantTimeEqualAscii(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}
