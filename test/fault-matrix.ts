import { expect } from 'vitest'
import { endpointRequests, faults, resetEndpointStats } from './support.ts'

/** A matrix runs its step once per SQL request of it, each on a fresh fixture: minutes, not seconds, on a loaded machine. */
export const MATRIX_TIMEOUT_MS = 600_000

export interface Reply {
  status: number
  body: any
}

/** One fault point of a flow: the SQL request that failed, what the client saw, and what its retry saw. */
export interface FaultPoint {
  index: number
  first: number
  retry: number | null
}

export interface FaultMatrixOptions<F> {
  /** A fresh fixture for each fault point, built with no fault in place. */
  prepare: () => Promise<F>
  /** The step under test: one request, as the client sends it. */
  act: (fixture: F) => Promise<Reply>
  /** The client's retry after an error answer (default: the same request again). */
  retry?: (fixture: F) => Promise<Reply>
  /**
   * Whether the retry's answer tells the client its change is done (default: a 2xx). A retry of a
   * removal or a logout that the failed attempt already committed answers 404 / 401, which is
   * also "done" for the client.
   */
  retryDone?: (reply: Reply) => boolean
  /** What must hold once the client got a success (first or retried): no partial state, every effect in place. */
  check: (fixture: F, point: FaultPoint, answers: { first: Reply; retry: Reply | null }) => Promise<void>
  /** `fail`: the SQL endpoint answers 503 at that request; `drop`: it closes the connection. */
  mode?: 'fail' | 'drop'
}

/**
 * SQL failing at every request index of a flow, one index per run: first the step is run once to
 * count its SQL requests (n), then for i = 0 … n−1 on a fresh fixture the i-th SQL request of the
 * step fails once. Whatever the index: the answer is a success or a 503 (never a 500); after a
 * 503 the client's retry succeeds; then `check` proves there is no partial state and every effect
 * of the change is in place. Returns the matrix (index × first answer × retry answer).
 */
export async function sqlFaultMatrix<F>(options: FaultMatrixOptions<F>): Promise<FaultPoint[]> {
  const counted = await options.prepare()
  await resetEndpointStats('sql')
  const clean = await options.act(counted)
  expect(clean.status, `the step fails without a fault: ${JSON.stringify(clean.body)}`).toBeLessThan(300)
  const n = await endpointRequests('sql')
  expect(n, 'the step makes no SQL request').toBeGreaterThan(0)

  const points: FaultPoint[] = []
  for (let index = 0; index < n; index++) {
    const fixture = await options.prepare()
    await faults('sql', { mode: options.mode ?? 'fail', status: 503, after: index, count: 1 })
    let first: Reply
    try {
      first = await options.act(fixture)
    } finally {
      await faults('sql', { mode: 'off' })
    }
    expect(first.status, `fault at SQL request ${index}: ${JSON.stringify(first.body)}`).not.toBe(500)
    let retry: Reply | null = null
    if (first.status >= 300) {
      expect(first.status, `fault at SQL request ${index}: ${JSON.stringify(first.body)}`).toBe(503)
      retry = await (options.retry ?? options.act)(fixture)
      const done = options.retryDone ? options.retryDone(retry) : retry.status < 300
      expect(done, `retry after a fault at SQL request ${index}: ${retry.status} ${JSON.stringify(retry.body)}`).toBe(true)
    }
    const point = { index, first: first.status, retry: retry?.status ?? null }
    await options.check(fixture, point, { first, retry })
    points.push(point)
  }
  return points
}
