import { randomUUID } from 'node:crypto'
import RedisMock from 'ioredis-mock'
import { LuaEngine } from './embedded-lua-engine.ts'
import { WRONGTYPE } from './errors.ts'
import { RedisReplyError } from './reply.ts'
import { ScriptRegistry } from './scripts.ts'

export type KeyType = 'string' | 'hash' | 'list' | 'set' | 'zset'

type MockMethod = (...args: unknown[]) => Promise<unknown>

const LENGTH_COMMANDS: Record<string, string> = { hash: 'hlen', set: 'scard', zset: 'zcard', list: 'llen' }

/** ioredis-mock throws plain Errors, sometimes without Redis's "ERR " prefix. */
function toReplyError(error: unknown): RedisReplyError {
  if (error instanceof RedisReplyError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new RedisReplyError(/^[A-Z][A-Z_]+ /.test(message) ? message : `ERR ${message}`)
}

/** The in-memory data of one endpoint (ioredis-mock) plus its script cache. */
export class EmbeddedStore {
  readonly scripts = new ScriptRegistry()
  /** Compiles each script once (ioredis-mock's own EVAL recompiles on every call). */
  readonly lua: LuaEngine
  #mock: Record<string, unknown>

  constructor() {
    // ioredis-mock shares data between instances created with the same host:port/db
    // (lib/index.js, `contextMap`), so a unique host gives each endpoint its own keyspace.
    const mock = new RedisMock({ host: `atrium-embedded-${randomUUID()}`, port: 6379, lazyConnect: false })
    this.#mock = mock as unknown as Record<string, unknown>
    this.lua = new LuaEngine(mock)
  }

  /** Calls the ioredis-mock command `name`; what it throws becomes a Redis error reply. */
  async call(name: string, ...args: (string | number)[]): Promise<unknown> {
    const method = this.#mock[name]
    if (typeof method !== 'function') throw new RedisReplyError(`ERR the embedded store has no '${name}' command`)
    try {
      return await (method as MockMethod).apply(this.#mock, args)
    } catch (error) {
      throw toReplyError(error)
    }
  }

  /** Whether Redis knows the command: ioredis-mock defines a stub for every Redis command it lacks. */
  knowsCommand(name: string): boolean {
    return name in this.#mock
  }

  async typeOf(key: string): Promise<KeyType | 'none'> {
    const type = await this.call('type', key)
    // ioredis-mock answers undefined for values it stores as non-strings; they are strings to Redis.
    return typeof type === 'string' ? (type as KeyType | 'none') : 'string'
  }

  /** Answers WRONGTYPE when `key` exists with another type. */
  async assertType(key: string, expected: KeyType): Promise<void> {
    const type = await this.typeOf(key)
    if (type !== 'none' && type !== expected) throw new RedisReplyError(WRONGTYPE)
  }

  /** Redis deletes a hash, set, sorted set or list when its last element goes; ioredis-mock keeps it. */
  async dropIfEmpty(key: string): Promise<void> {
    const lengthCommand = LENGTH_COMMANDS[await this.typeOf(key)]
    if (lengthCommand && (await this.call(lengthCommand, key)) === 0) await this.call('del', key)
  }

  async close(): Promise<void> {
    this.lua.flush()
    await this.call('flushall')
    await this.call('disconnect')
  }
}
