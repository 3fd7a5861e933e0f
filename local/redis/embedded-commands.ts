// The commands the embedded store answers, with the checks Redis makes before running them.
import { checkScoreBound, formatDouble, isInteger, parseDouble, parseInteger } from './embedded-args.ts'
import {
  counter, expire, flush, hgetall, hincrby, mget, ping, scan, scoreRange, set, zadd,
} from './embedded-custom.ts'
import { runLuaScript, type LuaCommandTables } from './embedded-lua.ts'
import type { EmbeddedStore, KeyType } from './embedded-store.ts'
import { NOSCRIPT, SYNTAX, refusedCommand, unknownCommand, unknownSubcommand, wrongArity } from './errors.ts'
import { isBuffer, RedisReplyError, type Reply } from './reply.ts'
import type { Command } from './request.ts'
import { scriptBody } from './scripts.ts'

/** How an ioredis-mock result maps onto a RESP reply. */
type ReplyShape = 'int' | 'ints' | 'bulk' | 'status'

interface CommandSpec {
  /** Redis arity: n = exactly n words including the name, -n = at least n. */
  arity: number
  /** Type the first key must hold (WRONGTYPE otherwise). */
  type?: KeyType
  reply: ReplyShape
  /** May empty a collection, which Redis then deletes (ioredis-mock keeps it). */
  removes?: boolean
  /** Arguments from this index on are option keywords; ioredis-mock only knows them in upper case. */
  optionsFrom?: number
  /** Argument checks Redis makes and ioredis-mock skips. */
  check?: (args: readonly string[]) => void
  /** Own implementation instead of the ioredis-mock method of the same name. */
  run?: (store: EmbeddedStore, args: readonly string[]) => Promise<Reply>
}

function integers(...indexes: number[]) {
  return (args: readonly string[]): void => {
    for (const index of indexes) if (args[index] !== undefined) parseInteger(args[index])
  }
}

function fieldValuePairs(name: string) {
  return (args: readonly string[]): void => {
    if ((args.length - 1) % 2 !== 0) throw new RedisReplyError(wrongArity(name))
  }
}

/** ZRANGE key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]. */
function checkZrange(args: readonly string[]): void {
  const options = args.slice(3).map((option) => option.toUpperCase())
  if (options.includes('BYSCORE')) {
    checkScoreBound(args[1])
    checkScoreBound(args[2])
  } else if (!options.includes('BYLEX')) {
    parseInteger(args[1])
    parseInteger(args[2])
  }
  const limit = options.indexOf('LIMIT')
  if (limit !== -1) integers(limit + 4, limit + 5)(args)
}

function checkZrangeByScore(args: readonly string[]): void {
  scoreRange(1)(args)
  const limit = args.findIndex((option, index) => index > 2 && option.toUpperCase() === 'LIMIT')
  if (limit !== -1) integers(limit + 1, limit + 2)(args)
}

/** EVAL / EVALSHA body: numkeys, keys, args (redis/src/eval.c, evalGenericCommand). */
function runScript(store: EmbeddedStore, script: string, sha: string, args: readonly string[]): Promise<Reply> {
  const count = parseInteger(args[0])
  if (count < 0) throw new RedisReplyError("ERR Number of keys can't be negative")
  if (count > args.length - 1) throw new RedisReplyError("ERR Number of keys can't be greater than number of args")
  const keys = args.slice(1, 1 + count)
  return runLuaScript(store.lua, scriptBody(script), sha, keys, args.slice(1 + count), luaTables())
}

async function evalCommand(store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  const script = args[0] ?? ''
  return runScript(store, script, store.scripts.register(script), args.slice(1))
}

/**
 * EVALSHA of an unknown SHA-1 answers Redis's exact NOSCRIPT text: redis-js `Script.exec` and
 * @upstash/ratelimit `safeEval` (src/hash.ts) fall back to EVAL when the error contains it.
 */
async function evalshaCommand(store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  const sha = args[0] ?? ''
  const script = store.scripts.get(sha)
  if (script === undefined) throw new RedisReplyError(NOSCRIPT)
  return runScript(store, script, sha.toLowerCase(), args.slice(1))
}

/** SCRIPT LOAD | EXISTS | FLUSH; ioredis-mock has no SCRIPT command, so the cache lives here. */
async function scriptCommand(store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  const subcommand = (args[0] ?? '').toLowerCase()
  if (subcommand === 'load') {
    if (args.length !== 2) throw new RedisReplyError(wrongArity('script|load'))
    scriptBody(args[1] ?? '') // refuses an unknown engine or flag, as Redis does on load
    return Buffer.from(store.scripts.register(args[1] ?? ''))
  }
  if (subcommand === 'exists') {
    if (args.length < 2) throw new RedisReplyError(wrongArity('script|exists'))
    return args.slice(1).map((sha) => (store.scripts.get(sha) === undefined ? 0 : 1))
  }
  if (subcommand === 'flush') {
    if (args.length > 2 || (args[1] !== undefined && !['ASYNC', 'SYNC'].includes(args[1].toUpperCase()))) {
      throw new RedisReplyError(SYNTAX)
    }
    store.scripts.flush()
    store.lua.flush()
    return Buffer.from('OK')
  }
  throw new RedisReplyError(unknownSubcommand(args[0] ?? '', 'script'))
}

// Arity and reply types from redis/src/commands/*.json.
const SPECS: Record<string, CommandSpec> = {
  // Strings
  get: { arity: 2, type: 'string', reply: 'bulk' },
  set: { arity: -3, reply: 'status', run: (store, args) => set(store, args) },
  setex: { arity: 4, reply: 'status', run: (s, [k = '', t = '', v = '']) => set(s, [k, v, 'EX', t], 'setex') },
  psetex: { arity: 4, reply: 'status', run: (s, [k = '', t = '', v = '']) => set(s, [k, v, 'PX', t], 'psetex') },
  setnx: { arity: 3, reply: 'int', run: async (s, [k = '', v = '']) => ((await set(s, [k, v, 'NX'])) === null ? 0 : 1) },
  getdel: { arity: 2, type: 'string', reply: 'bulk' },
  getset: { arity: 3, type: 'string', reply: 'bulk' },
  strlen: { arity: 2, type: 'string', reply: 'int' },
  append: { arity: 3, type: 'string', reply: 'int' },
  incr: { arity: 2, type: 'string', reply: 'int', run: counter(1, false) },
  incrby: { arity: 3, type: 'string', reply: 'int', run: counter(1, true) },
  decr: { arity: 2, type: 'string', reply: 'int', run: counter(-1, false) },
  decrby: { arity: 3, type: 'string', reply: 'int', run: counter(-1, true) },
  incrbyfloat: { arity: 3, type: 'string', reply: 'bulk', check: (args) => void parseDouble(args[1]) },
  mget: { arity: -2, reply: 'bulk', run: mget },
  mset: { arity: -3, reply: 'status', check: (args) => fieldValuePairs('mset')(['', ...args]) },
  // Keys
  del: { arity: -2, reply: 'int' },
  unlink: { arity: -2, reply: 'int' },
  exists: { arity: -2, reply: 'int' },
  type: { arity: 2, reply: 'status' },
  expire: { arity: -3, reply: 'int', run: expire(1000, false) },
  pexpire: { arity: -3, reply: 'int', run: expire(1, false) },
  expireat: { arity: -3, reply: 'int', run: expire(1000, true) },
  pexpireat: { arity: -3, reply: 'int', run: expire(1, true) },
  ttl: { arity: 2, reply: 'int' },
  pttl: { arity: 2, reply: 'int' },
  persist: { arity: 2, reply: 'int' },
  scan: { arity: -2, reply: 'bulk', run: scan },
  keys: { arity: 2, reply: 'bulk' },
  dbsize: { arity: 1, reply: 'int' },
  flushdb: { arity: -1, reply: 'status', run: flush },
  flushall: { arity: -1, reply: 'status', run: flush },
  ping: { arity: -1, reply: 'status', run: ping },
  echo: { arity: 2, reply: 'bulk' },
  time: { arity: 1, reply: 'bulk' },
  // Hashes
  hset: { arity: -4, type: 'hash', reply: 'int', check: fieldValuePairs('hset') },
  hmset: { arity: -4, type: 'hash', reply: 'status', check: fieldValuePairs('hmset') },
  hsetnx: { arity: 4, type: 'hash', reply: 'int' },
  hget: { arity: 3, type: 'hash', reply: 'bulk' },
  hmget: { arity: -3, type: 'hash', reply: 'bulk' },
  hgetall: { arity: 2, type: 'hash', reply: 'bulk', run: hgetall },
  hdel: { arity: -3, type: 'hash', reply: 'int', removes: true },
  hincrby: { arity: 4, type: 'hash', reply: 'int', run: hincrby },
  hexists: { arity: 3, type: 'hash', reply: 'int' },
  hlen: { arity: 2, type: 'hash', reply: 'int' },
  hkeys: { arity: 2, type: 'hash', reply: 'bulk' },
  hvals: { arity: 2, type: 'hash', reply: 'bulk' },
  // Sets
  sadd: { arity: -3, type: 'set', reply: 'int' },
  srem: { arity: -3, type: 'set', reply: 'int', removes: true },
  sismember: { arity: 3, type: 'set', reply: 'int' },
  smismember: { arity: -3, type: 'set', reply: 'ints' },
  smembers: { arity: 2, type: 'set', reply: 'bulk' },
  scard: { arity: 2, type: 'set', reply: 'int' },
  spop: { arity: -2, type: 'set', reply: 'bulk', removes: true, check: integers(1) },
  srandmember: { arity: -2, type: 'set', reply: 'bulk', check: integers(1) },
  // Sorted sets
  zadd: { arity: -4, type: 'zset', reply: 'int', run: zadd },
  zrange: { arity: -4, type: 'zset', reply: 'bulk', optionsFrom: 3, check: checkZrange },
  zrangebyscore: { arity: -4, type: 'zset', reply: 'bulk', optionsFrom: 3, check: checkZrangeByScore },
  zrevrange: { arity: -4, type: 'zset', reply: 'bulk', optionsFrom: 3, check: integers(1, 2) },
  zrevrangebyscore: { arity: -4, type: 'zset', reply: 'bulk', optionsFrom: 3, check: checkZrangeByScore },
  zrem: { arity: -3, type: 'zset', reply: 'int', removes: true },
  zremrangebyscore: { arity: 4, type: 'zset', reply: 'int', removes: true, check: scoreRange(1) },
  zremrangebyrank: { arity: 4, type: 'zset', reply: 'int', removes: true, check: integers(1, 2) },
  zcard: { arity: 2, type: 'zset', reply: 'int' },
  zcount: { arity: 4, type: 'zset', reply: 'int', check: scoreRange(1) },
  zscore: { arity: 3, type: 'zset', reply: 'bulk' },
  zmscore: { arity: -3, type: 'zset', reply: 'bulk' },
  zincrby: { arity: 4, type: 'zset', reply: 'bulk', check: (args) => void parseDouble(args[1]) },
  zrank: { arity: 3, type: 'zset', reply: 'int' },
  zrevrank: { arity: 3, type: 'zset', reply: 'int' },
  // Lists
  lpush: { arity: -3, type: 'list', reply: 'int' },
  rpush: { arity: -3, type: 'list', reply: 'int' },
  lrange: { arity: 4, type: 'list', reply: 'bulk', check: integers(1, 2) },
  ltrim: { arity: 4, type: 'list', reply: 'status', removes: true, check: integers(1, 2) },
  llen: { arity: 2, type: 'list', reply: 'int' },
  lpop: { arity: -2, type: 'list', reply: 'bulk', removes: true, check: integers(1) },
  rpop: { arity: -2, type: 'list', reply: 'bulk', removes: true, check: integers(1) },
  lindex: { arity: 3, type: 'list', reply: 'bulk', check: integers(1) },
  lrem: { arity: 4, type: 'list', reply: 'int', removes: true, check: integers(1) },
  lset: { arity: 4, type: 'list', reply: 'status', check: integers(1) },
  // Scripts
  eval: { arity: -3, reply: 'bulk', run: evalCommand },
  eval_ro: { arity: -3, reply: 'bulk', run: evalCommand },
  evalsha: { arity: -3, reply: 'bulk', run: evalshaCommand },
  evalsha_ro: { arity: -3, reply: 'bulk', run: evalshaCommand },
  script: { arity: -2, reply: 'bulk', run: scriptCommand },
}

// Commands a script may call through redis.call: the table minus the ones Redis forbids in scripts.
const NOT_IN_SCRIPTS = new Set(['eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'script'])
let tables: LuaCommandTables | undefined

function luaTables(): LuaCommandTables {
  if (!tables) {
    const entries = Object.entries(SPECS).filter(([name]) => !NOT_IN_SCRIPTS.has(name))
    tables = {
      commands: new Set(entries.map(([name]) => name)),
      keyTypes: new Map(entries.flatMap(([name, spec]) => (spec.type ? [[name, spec.type] as [string, string]] : []))),
      integerReplies: new Set(entries.filter(([, spec]) => spec.reply === 'int').map(([name]) => name)),
      statusReplies: new Set(entries.filter(([, spec]) => spec.reply === 'status').map(([name]) => name)),
      removals: new Set(entries.filter(([, spec]) => spec.removes).map(([name]) => name)),
    }
  }
  return tables
}

/** Converts an ioredis-mock result into the reply Redis would send. */
function toReply(value: unknown, shape: ReplyShape): Reply {
  if (value === null || value === undefined) return null
  if (Array.isArray(value)) return value.map((item) => toReply(item, shape === 'ints' ? 'int' : shape))
  if (shape === 'int' || shape === 'ints') {
    if (typeof value === 'number') return value
    if (typeof value === 'boolean') return value ? 1 : 0
    if (typeof value === 'string' && isInteger(value)) return Number(value)
  } else {
    if (isBuffer(value)) return value
    if (typeof value === 'string') return Buffer.from(value)
    if (typeof value === 'number') return Buffer.from(formatDouble(value))
  }
  throw new RedisReplyError(`ERR unexpected ${typeof value} reply from the embedded store`)
}

/**
 * The error Redis gives a command before running it (when queueing it in MULTI): refused,
 * unknown or unsupported command, wrong number of arguments. Null when it may run.
 */
export function queueingError(store: EmbeddedStore, command: Command): RedisReplyError | null {
  const [typed = '', ...args] = command
  const name = typed.toLowerCase()
  const refused = refusedCommand(name)
  if (refused) return new RedisReplyError(refused)
  const spec = Object.hasOwn(SPECS, name) ? SPECS[name] : undefined
  if (!spec) {
    if (!store.knowsCommand(name)) return new RedisReplyError(unknownCommand(typed, args))
    return new RedisReplyError(
      `ERR '${name}' is not supported by the embedded Redis store (set ATRIUM_LOCAL_REDIS_URL to use a real Redis)`,
    )
  }
  const arityOk = spec.arity >= 0 ? command.length === spec.arity : command.length >= -spec.arity
  return arityOk ? null : new RedisReplyError(wrongArity(name))
}

/** Runs one command against the embedded store; error replies are returned, not thrown. */
export async function runEmbeddedCommand(store: EmbeddedStore, command: Command): Promise<Reply> {
  const refusal = queueingError(store, command)
  if (refusal) return refusal
  const name = (command[0] ?? '').toLowerCase()
  const spec = SPECS[name] as CommandSpec
  let args = command.slice(1)
  const { optionsFrom } = spec
  if (optionsFrom !== undefined) {
    args = args.map((arg, index) => (index >= optionsFrom ? arg.toUpperCase() : arg))
  }
  try {
    spec.check?.(args)
    if (spec.type && args[0] !== undefined) await store.assertType(args[0], spec.type)
    const reply = spec.run ? await spec.run(store, args) : toReply(await store.call(name, ...args), spec.reply)
    if (spec.removes && args[0] !== undefined) await store.dropIfEmpty(args[0])
    return reply
  } catch (error) {
    if (error instanceof RedisReplyError) return error
    throw error
  }
}

