import { defineConfig } from 'drizzle-kit'

// Drizzle Kit generates the `public` schema's migrations from src/db/public-schema.ts.
// Tenant schemas have their own runner and migrations (migrations/, src/db/migrations.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/public-schema.ts',
  out: './drizzle',
})
