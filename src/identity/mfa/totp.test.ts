import { Secret, URI } from 'otpauth'
import { describe, expect, it } from 'vitest'
import { matchTotpStep, newTotpSecret, normaliseTotpCode, totpCode, totpStep, totpUri } from './totp.ts'

// RFC 6238 Appendix B. The seeds differ per algorithm (the reference code's seed, seed32 and
// seed64): the ASCII string "12345678901234567890" repeated to 20, 32 and 64 bytes.
const seed = (bytes: number) => Secret.fromLatin1('1234567890'.repeat(7).slice(0, bytes)).base32
const SEEDS = { SHA1: seed(20), SHA256: seed(32), SHA512: seed(64) } as const

const VECTORS: Array<[seconds: number, step: string, sha1: string, sha256: string, sha512: string]> = [
  [59, '0000000000000001', '94287082', '46119246', '90693936'],
  [1111111109, '00000000023523EC', '07081804', '68084774', '25091201'],
  [1111111111, '00000000023523ED', '14050471', '67062674', '99943326'],
  [1234567890, '000000000273EF07', '89005924', '91819424', '93441116'],
  [2000000000, '0000000003F940AA', '69279037', '90698825', '38618901'],
  [20000000000, '0000000027BC86AA', '65353130', '77737706', '47863826'],
]

describe('TOTP (RFC 6238)', () => {
  it('checks the seeds are the RFC’s: 20, 32 and 64 ASCII bytes', () => {
    expect(Secret.fromBase32(SEEDS.SHA1).latin1).toBe('12345678901234567890')
    expect(Secret.fromBase32(SEEDS.SHA256).latin1).toBe('12345678901234567890123456789012')
    expect(Secret.fromBase32(SEEDS.SHA512).latin1).toBe('1234567890123456789012345678901234567890123456789012345678901234')
  })

  for (const [seconds, stepHex, sha1, sha256, sha512] of VECTORS) {
    it(`matches Appendix B at T=${seconds} s for SHA1, SHA256 and SHA512 (8 digits)`, () => {
      const step = totpStep(seconds * 1000)
      expect(step.toString(16).toUpperCase().padStart(16, '0')).toBe(stepHex)
      expect(totpCode(SEEDS.SHA1, step, { algorithm: 'SHA1', digits: 8 })).toBe(sha1)
      expect(totpCode(SEEDS.SHA256, step, { algorithm: 'SHA256', digits: 8 })).toBe(sha256)
      expect(totpCode(SEEDS.SHA512, step, { algorithm: 'SHA512', digits: 8 })).toBe(sha512)
      expect(matchTotpStep(SEEDS.SHA512, sha512, seconds * 1000, 1, { algorithm: 'SHA512', digits: 8 })).toBe(step)
    })
  }

  it('defaults to SHA1, 6 digits, 30 s: the last six digits of the 8-digit vector', () => {
    expect(totpCode(SEEDS.SHA1, totpStep(59_000))).toBe('287082')
    expect(totpCode(SEEDS.SHA1, totpStep(1_111_111_109_000))).toBe('081804')
  })

  it('accepts the current step and one step of drift either way, and nothing further', () => {
    const secret = newTotpSecret()
    const now = 1_700_000_015_000
    const current = totpStep(now)
    for (const delta of [-1, 0, 1]) expect(matchTotpStep(secret, totpCode(secret, current + delta), now)).toBe(current + delta)
    for (const delta of [-3, -2, 2, 3]) {
      const code = totpCode(secret, current + delta)
      // A far-off code may coincide with a code inside the window (1 in 10^6 each): only then may it match.
      const coincides = [-1, 0, 1].some((d) => totpCode(secret, current + d) === code)
      if (!coincides) expect(matchTotpStep(secret, code, now)).toBeNull()
    }
    expect(matchTotpStep(secret, totpCode(secret, current + 2), now, 2)).toBe(current + 2)
  })

  it('tolerates spaces and a dash in a typed code, refuses anything else', () => {
    const secret = newTotpSecret()
    const now = Date.now()
    const code = totpCode(secret, totpStep(now))
    expect(matchTotpStep(secret, ` ${code.slice(0, 3)} ${code.slice(3)} `, now)).toBe(totpStep(now))
    expect(matchTotpStep(secret, `${code.slice(0, 3)}-${code.slice(3)}`, now)).toBe(totpStep(now))
    expect(normaliseTotpCode('12345')).toBeNull()
    expect(normaliseTotpCode('1234567')).toBeNull()
    expect(normaliseTotpCode('12345a')).toBeNull()
    expect(normaliseTotpCode('１２３４５６')).toBeNull()
    expect(matchTotpStep(secret, '', now)).toBeNull()
  })

  it('makes 160-bit random secrets in base32', () => {
    const a = newTotpSecret()
    const b = newTotpSecret()
    expect(a).toMatch(/^[A-Z2-7]{32}$/)
    expect(Secret.fromBase32(a).bytes).toHaveLength(20)
    expect(a).not.toBe(b)
  })

  it('writes an otpauth URI that authenticator apps and otpauth parse back', () => {
    const secret = newTotpSecret()
    const uri = totpUri({ secretBase32: secret, issuer: 'Acme & Co', label: 'ada@example.com' })
    expect(uri.startsWith('otpauth://totp/')).toBe(true)
    const parsed = URI.parse(uri)
    expect(parsed).toMatchObject({ issuer: 'Acme & Co', label: 'ada@example.com', algorithm: 'SHA1', digits: 6, period: 30 })
    expect(parsed.secret.base32).toBe(secret)
    const params = new URL(uri).searchParams
    expect(params.get('issuer')).toBe('Acme & Co')
    expect(params.get('secret')).toBe(secret)
  })
})
