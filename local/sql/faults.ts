import type { ServerResponse } from 'node:http'
import { RequestError, sendJson } from './http.ts'

// Test and benchmark controls shared by the local SQL and Redis endpoints (keep the contract identical):
//   POST /__atrium/faults        {mode: "off"|"fail"|"delay", status?=503, delayMs?=0, count?, after?=0} → {ok: true}
//   GET  /__atrium/stats         → {requests: <protocol requests since start or last reset>}
//   POST /__atrium/stats/reset   → {ok: true}
// A protocol request is any request outside /__atrium/*, whatever its outcome (faulted ones included).
// /__atrium/* requests are never counted nor faulted.

export const ADMIN_PREFIX = '/__atrium/'

type FaultMode = 'off' | 'fail' | 'delay'

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

function optionalInteger(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RequestError(400, `${name} must be an integer between ${min} and ${max}`)
  }
  return value
}

function parsePlan(input: unknown): FaultPlan {
  if (typeof input !== 'object' || input === null) throw new RequestError(400, 'expected a JSON object')
  const body = input as Record<string, unknown>
  const mode = body.mode
  if (mode !== 'off' && mode !== 'fail' && mode !== 'delay') {
    throw new RequestError(400, 'mode must be "off", "fail" or "delay"')
  }
  return {
    mode,
    status: optionalInteger(body.status, 'status', 100, 599) ?? 503,
    delayMs: optionalInteger(body.delayMs, 'delayMs', 0) ?? 0,
    after: optionalInteger(body.after, 'after', 0) ?? 0,
    remaining: optionalInteger(body.count, 'count', 0),
  }
}

export class FaultGate {
  #plan: FaultPlan = OFF
  #requests = 0

  /** Answers a /__atrium/* request; the caller checked the prefix and read the body. */
  handleAdmin(method: string, path: string, body: string, res: ServerResponse): void {
    try {
      if (method === 'POST' && path === '/__atrium/faults') {
        let input: unknown
        try {
          input = JSON.parse(body)
        } catch {
          throw new RequestError(400, 'body must be JSON')
        }
        this.#plan = parsePlan(input)
        sendJson(res, 200, { ok: true })
      } else if (method === 'GET' && path === '/__atrium/stats') {
        sendJson(res, 200, { requests: this.#requests })
      } else if (method === 'POST' && path === '/__atrium/stats/reset') {
        this.#requests = 0
        sendJson(res, 200, { ok: true })
      } else {
        sendJson(res, 404, { message: `no admin route ${method} ${path}` })
      }
    } catch (error) {
      if (!(error instanceof RequestError)) throw error
      sendJson(res, error.status, { message: error.message })
    }
  }

  /**
   * Counts one protocol request and applies the current fault to it.
   * Resolves true when the request was answered here (an injected failure); after a delay it resolves false.
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
    if (plan.mode === 'fail') {
      sendJson(res, plan.status, { message: 'injected failure' })
      return true
    }
    await new Promise((resolve) => setTimeout(resolve, plan.delayMs))
    return false
  }
}
