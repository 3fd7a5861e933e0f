import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { generateSchemaTypes, SCHEMA_TYPES_PATH } from '../../scripts/openapi.ts'

describe('the web app’s API types', () => {
  it('match a fresh generation from /openapi.json (run `npm run api:types` after an API change)', async () => {
    const fresh = await generateSchemaTypes()
    expect(fresh).toContain('"/v1/auth/session/refresh"')
    // `npm run api:types` runs this file with ATRIUM_WRITE_API_TYPES=1: the app imports .wasm modules
    // (the password hash), which Vite's transform loads and plain Node does not.
    if (process.env.ATRIUM_WRITE_API_TYPES === '1') writeFileSync(SCHEMA_TYPES_PATH, fresh)
    expect(readFileSync(SCHEMA_TYPES_PATH, 'utf8') === fresh, 'web/src/api/schema.d.ts is out of date: run `npm run api:types`').toBe(true)
  })
})
