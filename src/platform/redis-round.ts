import type { Redis } from './redis.ts'

type Pipeline = ReturnType<Redis['pipeline']>
type Reply = { result: unknown; error?: string }

/**
 * The request's first Redis round trip, shared. Middleware that runs before the rate limiter
 * queues the reads it will need (`prefetch`: the session's revocation marker, the tenant's
 * authorization version) and the verdicts that depend on them (`check`); the rate limiter then
 * sends its own script and every queued read in ONE pipeline (`run`), and the checks are applied
 * before its own verdict. A warm authenticated request thus makes one Redis request before its
 * own work, instead of one per question.
 *
 * After the round, `get` answers a prefetched key from the round's reply (the value as of this
 * request's round trip, which is what a check at that moment would have read) and reads any
 * other key from Redis directly. A `get` of a queued key before anyone ran the round runs it.
 * If the round fails (Redis down, timed out), every prefetched read fails with that error and
 * its caller falls back as it would for a direct read (the database, or letting the request through).
 */
export class RedisRound {
  readonly #redis: Redis
  #queued: string[] = []
  #replies = new Map<string, unknown>()
  #failure: unknown = undefined
  #checks: Array<() => Promise<void>> = []
  #ran: Promise<void> | null = null
  #answer: { err: unknown } | undefined = undefined

  constructor(redis: Redis) {
    this.#redis = redis
  }

  /** Queue a GET of `key` for the round (no effect once the round has run). */
  prefetch(key: string): void {
    if (this.#ran || this.#queued.includes(key)) return
    this.#queued.push(key)
  }

  /** Queue a verdict applied right after the round, in order (it may throw the request's answer). */
  check(verdict: () => Promise<void>): void {
    this.#checks.push(verdict)
  }

  /** The value of `key`: from the round when it was prefetched, else from Redis. */
  async get<T>(key: string): Promise<T | null> {
    if (!this.#queued.includes(key)) return this.#redis.get<T>(key)
    // Settling applies the checks: their answer (a revoked session, say) is thrown here.
    await this.settle()
    if (this.#failure !== undefined) throw this.#failure
    return (this.#replies.get(key) ?? null) as T | null
  }

  /**
   * Send `first`'s commands (added to the pipeline by it, which answers how many) and, the first
   * time, every queued read, in one request. Answers `first`'s replies, errors kept; throws when
   * the request itself failed. Once the round has been sent, `first` goes alone (another request).
   */
  async run(first?: (pipe: Pipeline) => number): Promise<Reply[]> {
    if (this.#ran) {
      await this.#ran
      if (!first) return []
      const pipe = this.#redis.pipeline()
      first(pipe)
      return (await pipe.exec({ keepErrors: true })) as Reply[]
    }
    let own: Reply[] = []
    let failure: unknown = undefined
    this.#ran = (async () => {
      if (!first && this.#queued.length === 0) return
      const pipe = this.#redis.pipeline()
      const count = first ? first(pipe) : 0
      for (const key of this.#queued) pipe.get(key)
      try {
        const replies = (await pipe.exec({ keepErrors: true })) as Reply[]
        own = replies.slice(0, count)
        this.#queued.forEach((key, i) => {
          const reply = replies[count + i]!
          if (reply.error) this.#failure ??= new Error(`Redis: ${reply.error}`)
          else this.#replies.set(key, reply.result)
        })
      } catch (err) {
        this.#failure = err
        failure = err
      }
    })()
    await this.#ran
    if (failure !== undefined && first) throw failure
    return own
  }

  /** Send the round if nobody has, then apply the queued checks in order (the first to throw answers the request). */
  async settle(): Promise<void> {
    await this.run()
    const checks = this.#checks
    this.#checks = []
    for (const verdict of checks) {
      if (this.#answer !== undefined) break
      try {
        await verdict()
      } catch (err) {
        this.#answer = { err }
      }
    }
    // Sticky: a caller that swallows errors cannot make a refusal go away for the rest of the request.
    if (this.#answer !== undefined) throw this.#answer.err
  }
}
