import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { generatePrivateKeyPem } from '../src/platform/signing-keys.ts'

/** Parse a dotenv-style file (KEY=value, # comments). */
export function parseDevVars(text: string): Record<string, string> {
  const vars: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/)
    if (!m) continue
    let value = m[2]!
    if (/^".*"$/.test(value)) value = value.slice(1, -1)
    vars[m[1]!] = value
  }
  return vars
}

/**
 * Make sure .dev.vars exists with every secret filled: copied from .dev.vars.example on the
 * first run, with fresh random values for the empty secrets. Existing values are kept.
 */
export async function ensureDevVars(root: URL): Promise<Record<string, string>> {
  const path = new URL('.dev.vars', root)
  const example = readFileSync(new URL('.dev.vars.example', root), 'utf8')
  let text = existsSync(path) ? readFileSync(path, 'utf8') : example
  const fill: Record<string, () => Promise<string>> = {
    UPSTASH_REDIS_REST_TOKEN: async () => randomBytes(24).toString('base64url'),
    PLATFORM_ADMIN_TOKEN: async () => `atrium_admin_${randomBytes(24).toString('base64url')}`,
    DATA_ENCRYPTION_KEY: async () => randomBytes(32).toString('base64url'),
    JWT_PRIVATE_KEY: async () => `"${(await generatePrivateKeyPem()).trim().replace(/\n/g, '\\n')}"`,
  }
  let changed = !existsSync(path)
  for (const [key, make] of Object.entries(fill)) {
    const current = parseDevVars(text)[key]
    if (current) continue
    const line = `${key}=${await make()}`
    text = new RegExp(`^${key}=.*$`, 'm').test(text) ? text.replace(new RegExp(`^${key}=.*$`, 'm'), line) : `${text.trimEnd()}\n${line}\n`
    changed = true
  }
  if (changed) writeFileSync(path, text, { mode: 0o600 })
  return parseDevVars(text)
}
