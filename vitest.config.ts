import { cloudflareTest } from '@cloudflare/vitest-plugin'
import { mkdirSync } from 'node:fs'
import { defineConfig } from 'vitest/config'
import { freePort } from './local/scratch.ts'
import { SERIAL_WORKER_FILES } from './test/serial-files.ts'
import { generatePrivateKeyPem } from './src/platform/signing-keys.ts'

// The global setup (test/global-setup.ts) starts the local SQL and Redis endpoints on these
// ports; the Worker under test reaches them through its bindings, exactly as in development.
process.env.ATRIUM_TEST_SQL_PORT ??= String(await freePort())
process.env.ATRIUM_TEST_REDIS_PORT ??= String(await freePort())
process.env.ATRIUM_TEST_REDIS_TOKEN ??= crypto.randomUUID()
const sqlPort = process.env.ATRIUM_TEST_SQL_PORT
const redisPort = process.env.ATRIUM_TEST_REDIS_PORT
// wrangler.toml names the web app's build as static assets; the Worker tests do not need it built
// (SELF.fetch skips the assets layer), but the directory must exist. The browser tests build it.
mkdirSync(new URL('./web/dist', import.meta.url), { recursive: true })

// One set of bindings for both worker projects: same keys, same endpoints.
const bindings = {
  ENVIRONMENT: 'test',
  DATABASE_URL: `postgres://atrium:atrium@127.0.0.1:${sqlPort}/atrium`,
  NEON_FETCH_ENDPOINT: `http://127.0.0.1:${sqlPort}/sql`,
  UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${redisPort}`,
  UPSTASH_REDIS_REST_TOKEN: process.env.ATRIUM_TEST_REDIS_TOKEN,
  JWT_PRIVATE_KEY: await generatePrivateKeyPem(),
  PLATFORM_ADMIN_TOKEN: `test-admin-${crypto.randomUUID()}`,
  BASE_DOMAINS: 'atrium.test,localhost',
  ALLOW_TENANT_HEADER: 'false',
  RATE_LIMIT_MAX: '100000',
  // Every test signs up through the platform host (a tenant each); the limits are tested with their own values.
  TENANT_CREATION_PER_IP_PER_HOUR: '1000',
  TENANT_CREATION_PER_HOUR: '100000',
  // Deadlines well above what a loaded CI machine needs; tests of the deadlines set short ones themselves.
  SQL_TIMEOUT_MS: '30000',
  REDIS_TIMEOUT_MS: '10000',
  REQUEST_BUDGET_MS: '60000',
  // An isolate re-checks Redis against pending effects only after a failure, not on a timer: request counts stay exact.
  EFFECTS_FENCE_SECONDS: '3600',
  LOG_LEVEL: 'error',
  MAIL_TRANSPORT: 'outbox',
  // Cheap password hashes for the suite's many sign-ups (refused in production); passwords.test.ts pins the real ones.
  PASSWORD_HASH_PROFILE: 'test',
  DATA_ENCRYPTION_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url'),
  // Platform OAuth apps answered by the stand-in providers of test/oauth-providers.ts (TikTok left unset on purpose).
  GOOGLE_CLIENT_ID: 'platform-google.apps.googleusercontent.com',
  GOOGLE_CLIENT_SECRET: 'platform-google-secret',
  GITHUB_CLIENT_ID: 'Iv1.platformgithub',
  GITHUB_CLIENT_SECRET: 'platform-github-secret',
  FACEBOOK_CLIENT_ID: '100000000000001',
  FACEBOOK_CLIENT_SECRET: 'platform-facebook-secret',
}

/** The Worker under test in workerd, against the local endpoints of test/global-setup.ts. */
const workerProject = (name: string, test: { include: string[]; exclude: string[]; fileParallelism: boolean; groupOrder: number }) => ({
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' }, miniflare: { bindings } })],
  test: {
    name,
    include: test.include,
    exclude: test.exclude,
    // Shared by both projects: the first to start launches the endpoints, the last to finish stops them.
    globalSetup: ['./test/global-setup.ts'],
    fileParallelism: test.fileParallelism,
    // The files wait on the endpoints and workerd more than on their own CPU: overlap them even on 2 cores
    // (the embedded SQL endpoint answers one query at a time, so more files than this only queue there).
    maxWorkers: test.fileParallelism ? 3 : 1,
    sequence: { groupOrder: test.groupOrder },
    // Files share the machine's cores: on a busy machine a test may wait far longer than on its own.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          // Pure unit tests, beside their modules in src/: plain Node, no workerd, no endpoints, no global setup.
          // A test that needs the Worker runtime or its bindings lives in test/ (project worker).
          name: 'unit',
          environment: 'node',
          include: ['src/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'local-endpoints',
          environment: 'node',
          include: ['test/local/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          // The web app's checks that need no browser: its API types match /openapi.json.
          name: 'web',
          environment: 'node',
          include: ['web/test/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        test: {
          // Headless Chromium against the real stack under `wrangler dev` (test/browser/global-setup.ts).
          name: 'browser',
          environment: 'node',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: ['./test/browser/global-setup.ts'],
          // After the other projects (the worker files, then the serial ones): the stack and the browser would compete with them for the CPUs.
          sequence: { groupOrder: 2 },
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 180_000,
        },
      },
      // Files that share the endpoints peacefully run in parallel; those that inject faults into them
      // or count their requests (test/serial-files.ts) run one at a time, after the others.
      workerProject('worker', { include: ['test/**/*.test.ts'], exclude: ['test/local/**', 'test/browser/**', ...SERIAL_WORKER_FILES], fileParallelism: true, groupOrder: 0 }),
      workerProject('worker-serial', { include: SERIAL_WORKER_FILES, exclude: [], fileParallelism: false, groupOrder: 1 }),
    ],
  },
})
