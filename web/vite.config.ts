import react from '@vitejs/plugin-react'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'

/**
 * Swagger UI's two files into dist/api-docs/, beside init.js (web/public/api-docs): /docs
 * (src/sections/docs/routes.ts) loads them from this origin, never from a CDN. Without the
 * package installed (`npm install` after pulling) the app still builds, and /docs says so.
 */
function swaggerUiAssets(): Plugin {
  return {
    name: 'swagger-ui-assets',
    apply: 'build',
    writeBundle(options) {
      let from: string
      try {
        from = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
      } catch {
        this.warn('swagger-ui-dist is not installed (run npm install): /docs will not render')
        return
      }
      const to = join(options.dir!, 'api-docs')
      mkdirSync(to, { recursive: true })
      for (const file of ['swagger-ui-bundle.js', 'swagger-ui.css']) if (existsSync(join(from, file))) copyFileSync(join(from, file), join(to, file))
    },
  }
}

/** The web app, built into web/dist: the Worker serves it as static assets ([assets] in wrangler.toml). */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react(), swaggerUiAssets()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // One script file and one stylesheet, no inline code: the pages' CSP allows only 'self' (web/public/_headers).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  logLevel: 'warn',
})
