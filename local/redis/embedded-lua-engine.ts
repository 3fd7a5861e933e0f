// Runs compiled Lua chunks against ioredis-mock's data, compiling each script once.
//
// ioredis-mock's own EVAL (lib/index.js, `customCommand`) builds a fresh Lua state, opens the
// libraries and compiles the whole program on every call: with the prelude of embedded-lua.ts that
// was ≈3.5 ms of CPU per EVALSHA of the rate limiter, most of a warm request's cost on the embedded
// store. This engine keeps one Lua state per script: the chunk (prelude + script) is compiled and
// run once, and returns the function that runs the script; later calls set KEYS and ARGV and call
// it. `redis.call` reaches the same synchronous ioredis-mock commands with the same conversions as
// ioredis-mock's bridge (`callToRedisCommand`, `defineRedisObject`), so scripts see the same values.
import fengari, { type LuaState } from 'fengari'
import interop from 'fengari-interop'

const { lua, lauxlib, lualib, to_luastring: toLuaString } = fengari

/** ioredis-mock's synchronous command implementations, called with the mock as `this`. */
type RawCommand = (this: object, ...args: unknown[]) => unknown

/**
 * The synchronous command functions of ioredis-mock (its `commands_exports`, not exported): a
 * pipeline copies each through `_createCommand(name, fn)`, so one pipeline built with that method
 * wrapped hands them over. Its public methods return promises, which a Lua `redis.call` cannot await.
 */
function rawCommands(mock: object): Map<string, RawCommand> {
  const withPipeline = mock as { pipeline(): object; batch: unknown }
  const pipelineProto = Object.getPrototypeOf(withPipeline.pipeline()) as { _createCommand: (name: string, fn: RawCommand) => unknown }
  withPipeline.batch = undefined
  const original = pipelineProto._createCommand
  const commands = new Map<string, RawCommand>()
  pipelineProto._createCommand = function (name, fn) {
    commands.set(name, fn)
    return original.call(this, name, fn)
  }
  try {
    withPipeline.pipeline()
  } finally {
    pipelineProto._createCommand = original
    withPipeline.batch = undefined
  }
  if (!commands.has('get') || !commands.has('hmget')) throw new Error('ioredis-mock no longer exposes its commands through Pipeline._createCommand')
  return commands
}

function pushArray(L: LuaState, values: readonly string[]) {
  lua.lua_newtable(L)
  const table = lua.lua_gettop(L)
  values.forEach((value, i) => {
    interop.push(L, i + 1)
    interop.push(L, value)
    lua.lua_settable(L, table)
  })
}

// ioredis-mock's `defineRedisObject`, verbatim in behaviour: nil results become false.
const REDIS_OBJECT = `
local redis = {}
function repair(val)
  if val == nil then return false end
  return val
end
unpack = table.unpack
redis.call = function(...) return repair(call(false, ...)) end
redis.pcall = function(...) return repair(call(true, ...)) end
return redis`

const MAX_STATES = 64

export class LuaEngine {
  readonly #mock: object
  readonly #commands: Map<string, RawCommand>
  readonly #states = new Map<string, { L: LuaState; runner: number }>()
  /** Chunks compiled so far (each script once while it stays cached). */
  compilations = 0

  constructor(mock: object) {
    this.#mock = mock
    this.#commands = rawCommands(mock)
  }

  /** ioredis-mock's `callToRedisCommand`: (returnError, name, ...args) from the Lua stack. */
  #bridge(L: LuaState): number {
    const top = lua.lua_gettop(L)
    const rawArgs: unknown[] = []
    for (let i = -top; i < 0; i++) rawArgs.push(interop.tojs(L, i))
    const returnError = rawArgs[0]
    let result: unknown
    try {
      const args = rawArgs.slice(1)
      const name = String(args[0]).toLowerCase()
      const command = this.#commands.get(name)
      if (!command) throw new TypeError(`${name} is not a function`)
      result = command.apply(this.#mock, args.slice(1))
      if (name === 'hgetall') result = ([] as unknown[]).concat(...Object.entries(result as object))
    } catch (err) {
      if (!returnError) throw err
      interop.push(L, ['error', String(err)])
      return 1
    }
    if (!result && result !== 0) return 0
    if (Array.isArray(result)) {
      // fengari-interop pushes arrays as zero-based proxies; ioredis-mock shifts them by one for Lua.
      result.unshift(null)
      ;(result as unknown as Record<symbol, unknown>)[Symbol.for('__len')] = function (this: unknown[]) {
        return this.length - 1
      }
    }
    interop.push(L, result)
    return 1
  }

  /** A state holding the compiled runner of `program` (a chunk that returns the function to call). */
  #state(key: string, program: string): { L: LuaState; runner: number } {
    const cached = this.#states.get(key)
    if (cached) {
      // Least recently used first out.
      this.#states.delete(key)
      this.#states.set(key, cached)
      return cached
    }
    const L = lauxlib.luaL_newstate()
    lualib.luaL_openlibs(L)
    interop.luaopen_js(L)
    lua.lua_settop(L, 0)
    lua.lua_pushjsfunction(L, (state) => this.#bridge(state))
    lua.lua_setglobal(L, toLuaString('call'))
    if (lauxlib.luaL_dostring(L, toLuaString(REDIS_OBJECT)) !== lua.LUA_OK) throw new Error(lua.lua_tojsstring(L, -1))
    lua.lua_setglobal(L, toLuaString('redis'))
    // Compile and run the chunk once: it installs the prelude and leaves the runner on the stack.
    this.compilations += 1
    if (lauxlib.luaL_loadstring(L, toLuaString(program)) !== lua.LUA_OK || lua.lua_pcall(L, 0, 1, 0) !== lua.LUA_OK) {
      const message = lua.lua_tojsstring(L, -1)
      lua.lua_close(L)
      throw new Error(`Error trying to loading or executing lua code string in VM: ${message}`)
    }
    const runner = lauxlib.luaL_ref(L, lua.LUA_REGISTRYINDEX)
    const state = { L, runner }
    this.#states.set(key, state)
    if (this.#states.size > MAX_STATES) {
      const [oldest, old] = this.#states.entries().next().value!
      this.#states.delete(oldest)
      lua.lua_close(old.L)
    }
    return state
  }

  /**
   * Runs the runner compiled from `program` (cached under `key`) with KEYS and ARGV; returns what
   * it returns, a string. A compilation error throws with Lua's `[string "…"]:N: message`.
   */
  run(key: string, program: string, keys: readonly string[], argv: readonly string[]): unknown {
    const { L, runner } = this.#state(key, program)
    lua.lua_settop(L, 0)
    pushArray(L, keys)
    lua.lua_setglobal(L, toLuaString('KEYS'))
    pushArray(L, argv)
    lua.lua_setglobal(L, toLuaString('ARGV'))
    lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, runner)
    const status = lua.lua_pcall(L, 0, 1, 0)
    const value = status === lua.LUA_OK ? interop.tojs(L, -1) : undefined
    const message = status === lua.LUA_OK ? '' : lua.lua_tojsstring(L, -1)
    lua.lua_settop(L, 0)
    if (status !== lua.LUA_OK) throw new Error(`Error trying to loading or executing lua code string in VM: ${message}`)
    return value
  }

  /** SCRIPT FLUSH: forget every compiled script. */
  flush(): void {
    for (const { L } of this.#states.values()) lua.lua_close(L)
    this.#states.clear()
  }
}
