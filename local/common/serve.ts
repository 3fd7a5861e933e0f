import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'

/** What an endpoint serves from (a database pool, a Redis connection…), closed after the server. */
export interface ClosableBackend {
  close(): Promise<void>
}

export interface Listening {
  address: AddressInfo
  /** Stops the server, dropping open keep-alive connections, then closes the backend. Idempotent. */
  close(): Promise<void>
}

/** Listens on host:port (0 = a free port); when that fails, closes the backend before rethrowing. */
export async function listen(server: Server, port: number, host: string, backend: ClosableBackend): Promise<Listening> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await backend.close()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    address: server.address() as AddressInfo,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await backend.close()
      })()
      return closing
    },
  }
}

/** True when the module of `meta` is the program (`npx node local/sql-server.ts`) rather than an import. */
export function isProgram(meta: ImportMeta): boolean {
  // import.meta.main exists from Node 24.2; older runtimes compare against the script path.
  return meta.main ?? (process.argv[1] !== undefined && meta.url === pathToFileURL(process.argv[1]).href)
}

/** Closes the endpoint on SIGINT or SIGTERM, then exits (with 1 when closing failed). */
export function closeOnSignal(label: string, endpoint: { close(): Promise<void> }): void {
  const stop = (signal: NodeJS.Signals) => {
    console.log(`[${label}] ${signal}: closing`)
    endpoint.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`[${label}] shutdown failed:`, error)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
