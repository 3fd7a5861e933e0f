import { describe, expect, it } from 'vitest'
import { newWebhookSecret, signatureHeader, verifySignature } from './sign.ts'

describe('webhook signatures', () => {
  it('makes whsec_ secrets of 256 random bits', () => {
    const a = newWebhookSecret()
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/)
    expect(newWebhookSecret()).not.toBe(a)
  })

  it('signs "<timestamp>.<body>" with HMAC-SHA256 under the whole secret, hex encoded', async () => {
    // Reference value computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
    expect(await signatureHeader('whsec_test', 1700000000, '{"a":1}')).toBe('v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789')
  })

  it('verifies a fresh signature and refuses a changed body, another secret, or a stale or future timestamp', async () => {
    const now = 1_700_000_000_000
    const ts = now / 1000
    const body = '{"id":"x"}'
    const signature = await signatureHeader('whsec_k', ts, body)
    const headers = { timestamp: String(ts), signature }
    expect(await verifySignature('whsec_k', headers, body, { now })).toBe(true)
    expect(await verifySignature('whsec_k', headers, body + ' ', { now })).toBe(false)
    expect(await verifySignature('whsec_other', headers, body, { now })).toBe(false)
    expect(await verifySignature('whsec_k', headers, body, { now: now + 301_000 })).toBe(false)
    expect(await verifySignature('whsec_k', headers, body, { now: now - 301_000 })).toBe(false)
    expect(await verifySignature('whsec_k', headers, body, { now: now + 299_000 })).toBe(true)
    expect(await verifySignature('whsec_k', { timestamp: String(ts + 1), signature }, body, { now })).toBe(false)
    expect(await verifySignature('whsec_k', { timestamp: null, signature }, body, { now })).toBe(false)
    expect(await verifySignature('whsec_k', { timestamp: String(ts), signature: `v0=abc, ${signature}` }, body, { now })).toBe(true)
  })
})
