import type { sectionRouter } from '../../openapi.ts'

/**
 * Swagger UI, served from the app's own static assets (web/public/api-docs/init.js, and the
 * swagger-ui-dist files web/vite.config.ts copies into web/dist/api-docs/): no third-party CDN,
 * so the page works on a closed network and runs no script from another origin. It reads this
 * host's /openapi.json and calls the API on this host (its "Try it out", with a Bearer token).
 */
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>API reference · Atrium</title>
<link rel="stylesheet" href="/api-docs/swagger-ui.css">
</head>
<body>
<noscript><p>The interactive reference needs JavaScript. The OpenAPI document itself: <a href="/openapi.json">/openapi.json</a>.</p></noscript>
<div id="swagger-ui"></div>
<script src="/api-docs/swagger-ui-bundle.js"></script>
<script src="/api-docs/init.js"></script>
</body>
</html>
`

// Swagger UI sets style attributes (hence 'unsafe-inline' for styles only) and shows data: images.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

/** GET /docs on every host: the interactive reference of /openapi.json. */
export function registerDocsRoutes(app: ReturnType<typeof sectionRouter>) {
  app.on('GET', ['/docs', '/docs/'], (c) => {
    c.header('Content-Security-Policy', CSP)
    c.header('Cache-Control', 'no-cache')
    return c.html(PAGE)
  })
}
