// openapi-typescript as the project's scripts import it: resolved from this package, next to the
// TypeScript 5 it needs (the project's own TypeScript 7 has no JavaScript compiler API).
export { default as openapiTS, astToString } from 'openapi-typescript'
