import { randomBytes } from 'node:crypto'
import { accessSync, constants } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { build } from 'vite'
import { startStack } from '../../bench/stack.ts'
import { generatePrivateKeyPem } from '../../src/platform/signing-keys.ts'

export interface BrowserStack {
  /** The Chromium binary the tests drive. */
  chromium: string
  /** Port of `wrangler dev`: the platform host is http://localhost:<port>, tenants http://<slug>.localhost:<port>. */
  port: number
  adminToken: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** null when no browser was found (the tests then skip, loudly). */
    browserStack: BrowserStack | null
  }
}

/** Debian's chromium, or CHROMIUM_PATH. */
export function findChromium(): string | null {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (!candidate) continue
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not there
    }
  }
  return null
}

function shout(lines: string[]) {
  const bar = '!'.repeat(78)
  console.warn(`\n${bar}\n${lines.map((l) => `!! ${l}`).join('\n')}\n${bar}\n`)
}

/**
 * The browser tests' stack: the web app built into web/dist, then the local SQL and Redis
 * endpoints, migrations and the Worker under `wrangler dev` on free ports (bench/stack.ts),
 * with its own secrets. Skipped — loudly — when there is no Chromium.
 */
export default async function setup(project: TestProject) {
  const chromium = findChromium()
  if (!chromium) {
    shout([
      'BROWSER TESTS SKIPPED: no Chromium found at $CHROMIUM_PATH or /usr/bin/chromium.',
      'Install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH. CI installs it (.ci/run).',
    ])
    project.provide('browserStack', null)
    return
  }
  const started = Date.now()
  await build({ configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)), logLevel: 'warn' })
  const adminToken = `browser-admin-${randomBytes(16).toString('hex')}`
  const stack = await startStack(
    {
      UPSTASH_REDIS_REST_TOKEN: randomBytes(24).toString('base64url'),
      PLATFORM_ADMIN_TOKEN: adminToken,
      JWT_PRIVATE_KEY: (await generatePrivateKeyPem()).trim().replace(/\n/g, '\\n'),
      DATA_ENCRYPTION_KEY: randomBytes(32).toString('base64url'),
    },
    // Every test signs up from 127.0.0.1: the per-IP tenant-creation limit (default 10 an hour) would refuse the later ones.
    { bare: false, label: 'browser', vars: { LOG_LEVEL: 'error', TENANT_CREATION_PER_IP_PER_HOUR: '1000' } },
  )
  const port = Number(new URL(stack.origin()).port)
  console.log(`browser tests: web app built and stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (wrangler dev on :${port}, ${chromium})`)
  project.provide('browserStack', { chromium, port, adminToken })
  return () => stack.stop()
}
