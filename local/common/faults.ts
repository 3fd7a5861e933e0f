import type { ServerResponse } from 'node:http'
import { sendJson } from './http.ts'

// Test and benchmark controls, the same contract on the local SQL and Redis endpoints:
//   POST /__atrium/faults        {mode: "off"|"fail"|"delay"|"drop", status?=503, delayMs?=0, count?, after?=0} → {ok: true}
//     fail: answer `status` with the protocol's error body; delay: wait `delayMs`, then serve;
//     drop: close the connection without an answer (the client sees "Network connection lost").
//   GET  /__atrium/stats         → {requests, ...protocol counters} since start or the last reset
//   POST /__atrium/stats/reset   → {ok: true}
// A protocol request is any request outside /__atrium/*, whatever its outcome (faulted ones included).
// /__atrium/* requests are never counted nor faulted. Errors (an injected failure, a refused
// admin request) take each protocol's own error shape, so its client reads them as it would a
// real server's: Neon's `{message}`, Upstash's `{error}`.

export const ADMIN_PREFIX = '/__atrium/'

export interface FaultGateOptions<Counter extends string> {
  /** The protocol's error body for `message`. */
  errorBody(message: string): object
  /** Counters reported by /__atrium/stats beside `requests`, e.g. the Redis commands run. */
  counters?: readonly Counter[]
}

type FaultMode = 'off' | 'fail' | 'delay' | 'drop'

interface FaultPlan {
  mode: FaultMode
  status: number
  delayMs: number
  /** Requests still to let through untouched before the fault applies. */
  after: number
  /** Requests still to fault; undefined = until turned off. */
  remaining: number | undefined
}

const OFF: FaultPlan = { mode: 'off', status: 503, delayMs: 0, after: 0, remaining: undefined }

/** A refused admin request; answered with 400. */
class AdminError extends Error {}

function optionalInteger(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AdminError(`${name} must be an integer between ${min} and ${max}`)
  }
  return value
}

function parsePlan(body: string): FaultPlan {
  let input: unknown
  try {
    input = JSON.parse(body)
  } catch {
    throw new AdminError('body must be JSON')
  }
  if (typeof input !== 'object' || input === null) throw new AdminError('expected a JSON object')
  const fields = input as Record<string, unknown>
  const mode = fields.mode
  if (mode !== 'off' && mode !== 'fail' && mode !== 'delay' && mode !== 'drop') {
    throw new AdminError('mode must be "off", "fail", "delay" or "drop"')
  }
  return {
    mode,
    status: optionalInteger(fields.status, 'status', 100, 599) ?? 503,
    delayMs: optionalInteger(fields.delayMs, 'delayMs', 0) ?? 0,
    after: optionalInteger(fields.after, 'after', 0) ?? 0,
    remaining: optionalInteger(fields.count, 'count', 0),
  }
}

export class FaultGate<Counter extends string = never> {
  readonly #errorBody: (message: string) => object
  readonly #counterNames: readonly Counter[]
  #plan: FaultPlan = OFF
  #requests = 0
  #counters = new Map<Counter, number>()

  constructor(options: FaultGateOptions<Counter>) {
    this.#errorBody = options.errorBody
    this.#counterNames = options.counters ?? []
    this.#resetStats()
  }

  /** Answers a /__atrium/* request; the caller checked the prefix and read the body. */
  handleAdmin(method: string, path: string, body: string, res: ServerResponse): void {
    try {
      if (method === 'POST' && path === '/__atrium/faults') {
        this.#plan = parsePlan(body)
        sendJson(res, 200, { ok: true })
      } else if (method === 'GET' && path === '/__atrium/stats') {
        sendJson(res, 200, { requests: this.#requests, ...Object.fromEntries(this.#counters) })
      } else if (method === 'POST' && path === '/__atrium/stats/reset') {
        this.#resetStats()
        sendJson(res, 200, { ok: true })
      } else {
        sendJson(res, 404, this.#errorBody(`no admin route ${method} ${path}`))
      }
    } catch (error) {
      if (!(error instanceof AdminError)) throw error
      sendJson(res, 400, this.#errorBody(error.message))
    }
  }

  /**
   * Counts one protocol request and applies the current fault to it. Resolves true when the
   * request was answered here (an injected failure or a dropped connection); after an injected
   * delay it resolves false.
   */
  async intercept(res: ServerResponse): Promise<boolean> {
    this.#requests++
    const plan = this.#plan
    if (plan.mode === 'off') return false
    if (plan.after > 0) {
      plan.after--
      return false
    }
    if (plan.remaining !== undefined) {
      if (plan.remaining <= 0) {
        this.#plan = OFF
        return false
      }
      plan.remaining--
    }
    if (plan.mode === 'drop') {
      res.socket?.destroy()
      return true
    }
    if (plan.mode === 'fail') {
      sendJson(res, plan.status, this.#errorBody('injected failure'))
      return true
    }
    await new Promise((resolve) => setTimeout(resolve, plan.delayMs))
    return false
  }

  /** Adds `amount` to a protocol counter of /__atrium/stats. */
  count(counter: Counter, amount: number): void {
    this.#counters.set(counter, (this.#counters.get(counter) ?? 0) + amount)
  }

  #resetStats(): void {
    this.#requests = 0
    for (const name of this.#counterNames) this.#counters.set(name, 0)
  }
}
