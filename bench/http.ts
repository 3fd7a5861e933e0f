import { Agent, request } from 'undici'

/**
 * Node's fetch cannot resolve `*.localhost` here and ignores a Host header, so every name is
 * sent to 127.0.0.1 by a custom lookup: the Worker then sees the tenant in the request URL.
 */
export const loopback = new Agent({
  connections: 64,
  connect: {
    lookup: (_hostname, options, callback) => {
      if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }])
      else callback(null, '127.0.0.1', 4)
    },
  },
})

export interface Reply {
  status: number
  body: any
  headers?: Record<string, string | string[] | undefined>
}

export async function send(url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
  const res = await request(url, {
    dispatcher: loopback,
    method: (init.method ?? (init.body === undefined ? 'GET' : 'POST')) as 'GET',
    headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
  const text = await res.body.text()
  let body: unknown = text
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    // not JSON
  }
  return { status: res.statusCode, body, headers: res.headers }
}

/** The reply, or an error naming the status and the API's error code: a failed call must not count as a measurement. */
export function expectStatus(reply: Reply, status: number): Reply {
  if (reply.status !== status) throw new Error(`HTTP ${reply.status} ${JSON.stringify(reply.body?.error?.code ?? reply.body).slice(0, 200)}`)
  return reply
}

export interface Run {
  requests: number
  seconds: number
  rps: number
  p50: number
  p99: number
  errors: number
  /** What the first failed call threw, to diagnose a run with errors. */
  firstError?: string
}

/** Nearest-rank percentile of sorted values. */
const percentile = (sorted: number[], p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN

/**
 * `total` calls of `one(i, client)` from `concurrency` clients, each one call at a time (closed
 * loop); latency per call in ms. A call fails by throwing; failed calls are counted, not retried.
 */
export async function load(total: number, concurrency: number, one: (i: number, client: number) => Promise<unknown>): Promise<Run> {
  return (await loadSamples(total, concurrency, one)).run
}

/** `load`, with every latency (ms, sorted) for runs that are merged later. */
export async function loadSamples(total: number, concurrency: number, one: (i: number, client: number) => Promise<unknown>): Promise<{ run: Run; latencies: number[] }> {
  const latencies: number[] = []
  let next = 0
  let errors = 0
  let firstError: string | undefined
  const started = performance.now()
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async (_, client) => {
      while (next < total) {
        const i = next++
        const t0 = performance.now()
        try {
          await one(i, client)
        } catch (err) {
          errors++
          firstError ??= err instanceof Error ? err.message : String(err)
        }
        latencies.push(performance.now() - t0)
      }
    }),
  )
  const seconds = (performance.now() - started) / 1000
  return { run: summarize(latencies, seconds, errors, firstError), latencies }
}

/** A Run from latencies (ms) observed over `seconds`. */
export function summarize(latencies: number[], seconds: number, errors = 0, firstError?: string): Run {
  latencies.sort((a, b) => a - b)
  return { requests: latencies.length, seconds, rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, firstError }
}
