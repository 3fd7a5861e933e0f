import { describe, expect, it } from 'vitest'
import { call, PLATFORM, signUp } from './support.ts'

describe('GET /docs', () => {
  it('answers the interactive reference of this host’s /openapi.json on the platform and on a tenant host, scripts from this origin only', async () => {
    const o = await signUp()
    for (const host of [PLATFORM, o.host]) {
      for (const path of ['/docs', '/docs/']) {
        const res = await call(`${host}${path}`)
        expect(res.status, `${host}${path}`).toBe(200)
        expect(res.headers.get('content-type')).toMatch(/^text\/html/)
        expect(res.body).toContain('<script src="/api-docs/swagger-ui-bundle.js"></script>')
        expect(res.body).toContain('href="/openapi.json"')
        expect(res.body).not.toMatch(/https?:\/\//)
        expect(res.headers.get('content-security-policy')).toContain("script-src 'self';")
      }
    }
    expect((await call(`${PLATFORM}/openapi.json`)).body.info.title).toBe('Atrium API')
  })
})
