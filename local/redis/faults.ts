// Test and benchmark controls; the local SQL endpoint implements the same contract (local/sql/faults.ts):
//   POST /__atrium/faults       {mode: "off"|"fail"|"delay", status?=503, delayMs?=0, count?, after?=0} → {ok: true}
//   GET  /__atrium/stats        → {requests, commands} since start or the last reset
//   POST /__atrium/stats/reset  → {ok: true}
// A protocol request is any request outside /__atrium/*, whatever its outcome (faulted ones included);
// `commands` counts the Redis commands that were run. /__atrium/* is never counted nor faulted, nor
// does it need the token.

export const ADMIN_PREFIX = '/__atrium/'

/** A response decided here rather than by the Redis backend. */
export interface GateResponse {
  status: number
  body: unknown
}

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
  if (mode !== 'off' && mode !== 'fail' && mode !== 'delay') {
    throw new AdminError('mode must be "off", "fail" or "delay"')
  }
  return {
    mode,
    status: optionalInteger(fields.status, 'status', 100, 599) ?? 503,
    delayMs: optionalInteger(fields.delayMs, 'delayMs', 0) ?? 0,
    after: optionalInteger(fields.after, 'after', 0) ?? 0,
    remaining: optionalInteger(fields.count, 'count', 0),
  }
}

export class FaultGate {
  #plan: FaultPlan = OFF
  #requests = 0
  #commands = 0

  /** Answers a /__atrium/* request. */
  handleAdmin(method: string, path: string, body: string): GateResponse {
    try {
      if (method === 'POST' && path === '/__atrium/faults') {
        this.#plan = parsePlan(body)
        return { status: 200, body: { ok: true } }
      }
      if (method === 'GET' && path === '/__atrium/stats') {
        return { status: 200, body: { requests: this.#requests, commands: this.#commands } }
      }
      if (method === 'POST' && path === '/__atrium/stats/reset') {
        this.#requests = 0
        this.#commands = 0
        return { status: 200, body: { ok: true } }
      }
      return { status: 404, body: { error: `no admin route ${method} ${path}` } }
    } catch (error) {
      if (!(error instanceof AdminError)) throw error
      return { status: 400, body: { error: error.message } }
    }
  }

  /**
   * Counts one protocol request and applies the current fault to it. Resolves to the response
   * of an injected failure, or to null once the request may proceed (after any injected delay).
   */
  async intercept(): Promise<GateResponse | null> {
    this.#requests++
    const plan = this.#plan
    if (plan.mode === 'off') return null
    if (plan.after > 0) {
      plan.after--
      return null
    }
    if (plan.remaining !== undefined) {
      if (plan.remaining <= 0) {
        this.#plan = OFF
        return null
      }
      plan.remaining--
    }
    if (plan.mode === 'fail') return { status: plan.status, body: { error: 'injected failure' } }
    await new Promise((resolve) => setTimeout(resolve, plan.delayMs))
    return null
  }

  /** Records commands handed to the backend. */
  countCommands(count: number): void {
    this.#commands += count
  }
}
