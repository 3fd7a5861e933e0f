/**
 * The API description without a server, and the web app's types generated from it.
 *   npm run api:types                  writes web/src/api/schema.d.ts (through Vitest: the app imports .wasm)
 *   node scripts/openapi.ts --check    fails when the checked-in file differs from a fresh generation
 *   node scripts/openapi.ts --json     prints /openapi.json
 * The document is built by the same app the Worker runs (createApp), so it is exactly what
 * GET /openapi.json answers.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { astToString, openapiTS } from '@atrium/openapi-types'
import { createApp, OPENAPI_DOCUMENT } from '../src/app.ts'

export const SCHEMA_TYPES_PATH = fileURLToPath(new URL('../web/src/api/schema.d.ts', import.meta.url))

export function openApiDocument() {
  return createApp().getOpenAPI31Document(OPENAPI_DOCUMENT)
}

export async function generateSchemaTypes(): Promise<string> {
  const ast = await openapiTS(JSON.stringify(openApiDocument()) as never, {})
  const header = '// Generated from /openapi.json by `npm run api:types` (scripts/openapi.ts). Do not edit.\n\n'
  return header + astToString(ast)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2]
  if (mode === '--json') {
    process.stdout.write(`${JSON.stringify(openApiDocument(), null, 2)}\n`)
  } else if (mode === '--check') {
    const fresh = await generateSchemaTypes()
    if (readFileSync(SCHEMA_TYPES_PATH, 'utf8') !== fresh) {
      console.error('web/src/api/schema.d.ts is out of date: run `npm run api:types` and commit it.')
      process.exit(1)
    }
    console.log('web/src/api/schema.d.ts matches /openapi.json')
  } else {
    writeFileSync(SCHEMA_TYPES_PATH, await generateSchemaTypes())
    console.log(`wrote ${SCHEMA_TYPES_PATH}`)
  }
}
