/**
 * Backup codes: ten single-use codes shown once at enrolment, for when the authenticator is
 * lost. Each is 8 characters of Crockford's base32 (40 random bits), written `xxxx-xxxx`:
 * no i, l, o or u, so nothing reads as another character, and on input `o` is taken as `0`
 * and `i`/`l` as `1`, case, spaces and dashes ignored (https://www.crockford.com/base32.html).
 * Stored as SHA-256 (`hashToken`) of the canonical form.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
export const BACKUP_CODE_COUNT = 10
const LENGTH = 8

/** A new set of codes, canonical form. */
export function newBackupCodes(count = BACKUP_CODE_COUNT): string[] {
  const codes = new Set<string>()
  while (codes.size < count) {
    // 32 symbols: a byte's low five bits pick one without bias.
    const bytes = crypto.getRandomValues(new Uint8Array(LENGTH))
    const chars = Array.from(bytes, (b) => ALPHABET[b & 31]).join('')
    codes.add(`${chars.slice(0, 4)}-${chars.slice(4)}`)
  }
  return [...codes]
}

/** The canonical `xxxx-xxxx` form of what a person typed, or null if it cannot be a backup code. */
export function canonicalBackupCode(input: string): string | null {
  const chars = input
    .toLowerCase()
    .replace(/[\s-]/g, '')
    .replace(/o/g, '0')
    .replace(/[il]/g, '1')
  if (chars.length !== LENGTH || [...chars].some((ch) => !ALPHABET.includes(ch))) return null
  return `${chars.slice(0, 4)}-${chars.slice(4)}`
}
