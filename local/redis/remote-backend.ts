import { Redis } from 'ioredis'
import type { RedisBackend } from './backend.ts'
import { EXECABORT, refusedCommand } from './errors.ts'
import { isBuffer, type Reply, RedisReplyError } from './reply.ts'
import type { Command } from './request.ts'
import { ScriptRegistry, scriptForRedis, scriptSha } from './scripts.ts'

/** A command ready for Redis, or an error answered without asking Redis. */
interface Prepared {
  command: Command | RedisReplyError
  /** Maps Redis's reply back to what the client expects (script SHA-1s, see `#prepare`). */
  restore?: (reply: Reply) => Reply
}

/** Converts what ioredis's `callBuffer` resolves to (Buffers, numbers, null, nested arrays). */
function toReply(value: unknown): Reply {
  if (value === null || value === undefined) return null
  if (isBuffer(value) || typeof value === 'number') return value
  if (typeof value === 'string') return Buffer.from(value)
  if (Array.isArray(value)) return value.map(toReply)
  if (value instanceof Error) return new RedisReplyError(value.message)
  throw new Error(`unexpected reply from ioredis: ${String(value)}`)
}

/** Redis error replies become values; anything else (a lost connection) stays thrown. */
function replyErrorOf(error: unknown): RedisReplyError {
  if (error instanceof Error && error.name === 'ReplyError') return new RedisReplyError(error.message)
  throw error
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@')
}

/** Passes commands and error texts through to a real Redis over one ioredis connection. */
export class RemoteBackend implements RedisBackend {
  readonly description: string
  #redis: Redis
  #scripts = new ScriptRegistry()

  private constructor(redis: Redis, url: string) {
    this.#redis = redis
    this.description = `Redis at ${redactUrl(url)}`
  }

  /** Connects to `url` (redis://…) and fails at once when Redis is unreachable. */
  static async connect(url: string): Promise<RemoteBackend> {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
    // ioredis reconnects by itself; commands issued meanwhile fail and are answered with 500.
    let lastError: unknown
    redis.on('error', (error: unknown) => {
      lastError = error
    })
    try {
      await redis.connect()
    } catch (error) {
      redis.disconnect()
      const cause = lastError ?? error
      throw new Error(`cannot reach ${redactUrl(url)}: ${cause instanceof Error ? cause.message : String(cause)}`)
    }
    return new RemoteBackend(redis, url)
  }

  async exec(command: Command): Promise<Reply> {
    const prepared = this.#prepare(command)
    if (prepared.command instanceof RedisReplyError) return prepared.command
    let reply: Reply
    try {
      const [name = '', ...args] = prepared.command
      reply = toReply(await this.#redis.callBuffer(name, ...args))
    } catch (error) {
      reply = replyErrorOf(error)
    }
    return prepared.restore ? prepared.restore(reply) : reply
  }

  pipeline(commands: Command[]): Promise<Reply[]> {
    // ioredis writes commands issued in the same tick as one pipelined batch.
    return Promise.all(commands.map((command) => this.exec(command)))
  }

  async transaction(commands: Command[]): Promise<Reply[] | RedisReplyError> {
    const prepared = commands.map((command) => this.#prepare(command))
    // A refused command counts as a queueing error: Redis would discard the whole transaction.
    if (prepared.some((entry) => entry.command instanceof RedisReplyError)) return new RedisReplyError(EXECABORT)
    const multi = this.#redis.multi()
    for (const entry of prepared) {
      const [name = '', ...args] = entry.command as Command
      multi.callBuffer(name, ...args)
    }
    let results: [Error | null, unknown][] | null
    try {
      results = await multi.exec()
    } catch (error) {
      return replyErrorOf(error) // EXECABORT with Redis's own text
    }
    if (!results) return new RedisReplyError(EXECABORT)
    return results.map(([error, value], index) => {
      const reply = error ? replyErrorOf(error) : toReply(value)
      const restore = prepared[index]?.restore
      return restore ? restore(reply) : reply
    })
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit()
    } catch {
      this.#redis.disconnect()
    }
  }

  /**
   * Refuses connection-state commands and adapts script commands. Scripts that carry an
   * Upstash-only shebang flag run under the SHA-1 of their rewritten text, so the endpoint
   * remembers each script by the SHA-1 the client computed (redis-js `Script`,
   * @upstash/ratelimit `safeEval`) and maps it both ways.
   */
  #prepare(command: Command): Prepared {
    const [typed = '', ...args] = command
    const name = typed.toLowerCase()
    const refused = refusedCommand(name)
    if (refused) return { command: new RedisReplyError(refused) }
    // ioredis turns an `hgetall` reply into an object (Command.setReplyTransformer, keyed by the
    // exact name); any other spelling keeps Redis's flat array.
    if (typed === 'hgetall') return { command: ['HGETALL', ...args] }
    if ((name === 'eval' || name === 'eval_ro') && args[0] !== undefined) {
      return this.#rewriteScript(typed, args[0], args.slice(1))
    }
    if ((name === 'evalsha' || name === 'evalsha_ro') && args[0] !== undefined) {
      const script = this.#scripts.get(args[0])
      if (script !== undefined) return this.#rewriteScript(name === 'evalsha' ? 'EVAL' : 'EVAL_RO', script, args.slice(1))
    }
    if (name === 'script') return this.#prepareScriptCommand(command)
    return { command }
  }

  #rewriteScript(evalName: string, script: string, rest: string[]): Prepared {
    const sha = this.#scripts.register(script)
    const forRedis = scriptForRedis(script)
    if (forRedis === script) return { command: [evalName, script, ...rest] }
    return { command: [evalName, forRedis, ...rest], restore: restoreSha(scriptSha(forRedis), sha) }
  }

  #prepareScriptCommand(command: Command): Prepared {
    const subcommand = command[1]?.toLowerCase()
    if (subcommand === 'load' && command.length === 3) {
      const script = command[2] ?? ''
      const sha = this.#scripts.register(script)
      const forRedis = scriptForRedis(script)
      if (forRedis === script) return { command }
      const restore = restoreSha(scriptSha(forRedis), sha)
      return {
        command: [command[0] ?? 'SCRIPT', command[1] ?? 'LOAD', forRedis],
        restore: (reply) => (isBuffer(reply) ? Buffer.from(sha) : restore(reply)),
      }
    }
    if (subcommand === 'exists') {
      const shas = command.slice(2).map((sha) => {
        const script = this.#scripts.get(sha)
        return script === undefined ? sha : scriptSha(scriptForRedis(script))
      })
      return { command: [...command.slice(0, 2), ...shas] }
    }
    if (subcommand === 'flush') this.#scripts.flush()
    return { command }
  }
}

/** Error texts name the SHA-1 Redis ran; show the client the one it asked for. */
function restoreSha(redisSha: string, clientSha: string): (reply: Reply) => Reply {
  return (reply) =>
    reply instanceof RedisReplyError && reply.message.includes(redisSha)
      ? new RedisReplyError(reply.message.replaceAll(redisSha, clientSha))
      : reply
}
