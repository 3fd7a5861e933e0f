import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * The time a request may spend waiting on its backends (SQL and Redis), shared by every call it
 * makes. Each call also has its own deadline (SQL_TIMEOUT_MS, REDIS_TIMEOUT_MS); a call's signal
 * aborts at whichever comes first, so a request's total backend time is bounded by
 * REQUEST_BUDGET_MS however many calls it makes, and a hung dependency never hangs a request.
 *
 * The budget travels with the request through AsyncLocalStorage (workerd's `nodejs_compat`), so
 * the platform clients, which are per isolate, apply the budget of the request they are called from
 * without every call site passing it along. Work handed to `waitUntil` from a request inherits that
 * request's budget.
 */
export interface RequestBudget {
  /** Aborts when the budget is spent. */
  readonly signal: AbortSignal
  /** Set after a Redis call failed for unavailability: later Redis calls of the request fail at once. */
  cacheDown: boolean
}

const current = new AsyncLocalStorage<RequestBudget>()

export function createBudget(ms: number): RequestBudget {
  return { signal: AbortSignal.timeout(ms), cacheDown: false }
}

/** Run `fn` (and everything it starts) under `budget`. */
export function withBudget<T>(budget: RequestBudget, fn: () => T): T {
  return current.run(budget, fn)
}

/** The budget of the request being served, if any (scheduled jobs run without one). */
export function currentBudget(): RequestBudget | undefined {
  return current.getStore()
}

/** A signal for one backend call: its own deadline, or the request's budget, whichever ends first. */
export function callSignal(timeoutMs: number): AbortSignal {
  const own = AbortSignal.timeout(timeoutMs)
  const budget = currentBudget()
  return budget ? AbortSignal.any([own, budget.signal]) : own
}
