import { vi, type MockInstance } from 'vitest'

/**
 * A programmable webhook receiver at https://hooks.receiver.test — the tenant's own service, the
 * one truly external party of a delivery.
 *
 * Code inside workerd cannot listen on a socket, and the Worker under test runs in the tests'
 * isolate (@cloudflare/vitest-plugin), so, like the OAuth and SendGrid stand-ins, this answers
 * the Worker's outbound fetch to the receiver's host and lets every other request (the local SQL
 * and Redis endpoints) through. It records each request as received (raw body, headers) and
 * answers what the test programmed for that path, in order, then 200.
 */

export type Behaviour = number | 'network-error' | { hang: Promise<number> }

export interface ReceivedRequest {
  path: string
  headers: Headers
  body: string
  at: number
}

export class WebhookReceiver {
  readonly origin = 'https://hooks.receiver.test'
  private received: ReceivedRequest[] = []
  private plans = new Map<string, Behaviour[]>()
  private spy: MockInstance<typeof fetch> | undefined
  private paths = new Map<string, string>()

  /** A URL unique to this test run: tests share one database, and paths keep their traffic apart. */
  url(path: string): string {
    let unique = this.paths.get(path)
    if (!unique) {
      unique = `/${crypto.randomUUID()}${path}`
      this.paths.set(path, unique)
    }
    return `${this.origin}${unique}`
  }

  /** The event envelopes `path` has received so far, in order of arrival. */
  envelopes(path: string): Envelope[] {
    return this.requestsTo(path).map((r) => JSON.parse(r.body) as Envelope)
  }

  /** What the next requests to `path` get, in order; afterwards 200. */
  program(path: string, ...behaviours: Behaviour[]) {
    this.plans.set(this.unique(path), [...(this.plans.get(this.unique(path)) ?? []), ...behaviours])
  }

  /** The next request to `path` waits until the returned function is called with a status (or the sender gives up). */
  hang(path: string): (status: number) => void {
    let release!: (status: number) => void
    this.program(path, { hang: new Promise<number>((resolve) => (release = resolve)) })
    return (status) => release(status)
  }

  requestsTo(path: string): ReceivedRequest[] {
    return this.received.filter((r) => r.path === this.unique(path))
  }

  start() {
    const original = globalThis.fetch
    this.spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const request = new Request(input as RequestInfo, init)
      const url = new URL(request.url)
      if (url.origin !== this.origin) return original(input as RequestInfo, init)
      this.received.push({ path: url.pathname, headers: request.headers, body: await request.text(), at: Date.now() })
      const behaviour = this.plans.get(url.pathname)?.shift() ?? 200
      if (behaviour === 'network-error') throw new TypeError('Network connection lost.')
      let status: number
      if (typeof behaviour === 'number') {
        status = behaviour
      } else {
        const signal = init?.signal
        status = await new Promise<number>((resolve, reject) => {
          void behaviour.hang.then(resolve)
          signal?.addEventListener('abort', () => reject(signal.reason))
        })
      }
      return new Response(status === 204 ? null : JSON.stringify({ received: true }), { status, headers: { 'content-type': 'application/json' } })
    })
  }

  stop() {
    this.spy?.mockRestore()
  }

  private unique(path: string): string {
    return new URL(this.url(path)).pathname
  }
}

/** The envelope Atrium POSTs to a webhook (docs/api/webhooks.md). */
export interface Envelope {
  id: string
  type: string
  tenant_id: string
  actor: { type: string; id: string | null } | null
  data: Record<string, unknown>
}

type Maybe<T> = T | undefined | null | false

/** Polls `probe` every 50 ms until it gives a value (deliveries happen after the answer). */
export async function until<T>(what: string, probe: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}
