import type { Env as AtriumEnv } from '../src/config.ts'

declare global {
  namespace Cloudflare {
    // The bindings of the Worker under test (see vitest.config.ts).
    interface Env extends AtriumEnv {}
  }
}
