import { neon, neonConfig } from '@neondatabase/serverless'
import { drizzle, type NeonHttpDatabase } from 'drizzle-orm/neon-http'

export type Database = NeonHttpDatabase<Record<string, never>>

const databases = new Map<string, Database>()

/**
 * A Drizzle database over Neon's SQL-over-HTTP driver.
 *
 * `fetchEndpoint` points the driver at another URL speaking the same protocol (the local
 * endpoint in development). The driver only reads it from the global `neonConfig`
 * (@neondatabase/serverless src/shims/net/index.ts), which is fine: one isolate serves one env.
 */
export function connectDatabase(url: string, fetchEndpoint?: string): Database {
  if (fetchEndpoint) neonConfig.fetchEndpoint = fetchEndpoint
  const key = `${fetchEndpoint ?? ''} ${url}`
  let db = databases.get(key)
  if (!db) {
    db = drizzle({ client: neon(url) })
    databases.set(key, db)
  }
  return db
}
