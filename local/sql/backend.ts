import { mkdir } from 'node:fs/promises'
import { PGlite } from '@electric-sql/pglite'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import pg from 'pg'

/** The Postgres the HTTP endpoint talks to: a pg pool plus a URL for direct access to the same database. */
export interface SqlBackend {
  pool: pg.Pool
  directUrl: string
  close(): Promise<void>
}

// Every value stays the exact Postgres text output: the Neon proxy forwards text, and the
// client's own pg-types parse it by OID (@neondatabase/serverless index.mjs, processQueryResult).
const textOutput = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig

export interface BackendOptions {
  postgresUrl?: string
  dataDir?: string
  onError: (error: Error) => void
}

export async function openBackend(opts: BackendOptions): Promise<SqlBackend> {
  if (opts.postgresUrl) {
    const pool = new pg.Pool({ connectionString: opts.postgresUrl, max: 10, types: textOutput })
    pool.on('error', opts.onError)
    return { pool, directUrl: opts.postgresUrl, close: () => pool.end() }
  }

  if (opts.dataDir) await mkdir(opts.dataDir, { recursive: true })
  const db = await PGlite.create(opts.dataDir ? { dataDir: opts.dataDir } : {})
  // PGlite is one Postgres session. The socket server queues protocol messages from all its
  // connections onto it; the HTTP endpoint uses exactly one of them (pool max 1), which keeps
  // each batch's BEGIN…COMMIT together. Direct connections (tests, psql, migrations) share the
  // session: use them one statement at a time, not concurrently with a running batch.
  const socket = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 8 })
  await socket.start()
  const directUrl = `postgres://postgres@${socket.getServerConn()}/postgres`
  const pool = new pg.Pool({ connectionString: directUrl, max: 1, types: textOutput })
  pool.on('error', opts.onError)
  return {
    pool,
    directUrl,
    async close() {
      await pool.end()
      await socket.stop()
      await db.close()
    },
  }
}
