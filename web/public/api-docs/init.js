// The interactive API reference at /docs (src/sections/docs/routes.ts): this host's own document.
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: false,
})
