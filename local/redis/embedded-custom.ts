// Commands the embedded store implements itself on top of ioredis-mock primitives, because
// ioredis-mock lacks options (SET KEEPTTL, ZADD GT/LT/INCR, EXPIRE NX/XX/GT/LT, SCAN TYPE) or
// answers differently from Redis (HGETALL as an object, MGET returning non-string values).
import { checkScoreBound, formatDouble, isInteger, parseDouble, parseInteger } from './embedded-args.ts'
import type { EmbeddedStore } from './embedded-store.ts'
import { HASH_NOT_INTEGER, INVALID_CURSOR, NOT_INTEGER, SYNTAX } from './errors.ts'
import { isBuffer, RedisReplyError, type Reply } from './reply.ts'

const OK = Buffer.from('OK')

function bulk(value: unknown): Buffer | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'number') return Buffer.from(formatDouble(value))
  if (typeof value === 'string') return Buffer.from(value)
  if (isBuffer(value)) return value
  return null // a non-string value where Redis expects a string (MGET of a hash)
}

function arg(args: readonly string[], index: number): string {
  return args[index] ?? ''
}

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] (redis/src/t_string.c). */
export async function set(store: EmbeddedStore, args: readonly string[], command = 'set'): Promise<Reply> {
  const key = arg(args, 0)
  const value = arg(args, 1)
  let condition: 'NX' | 'XX' | null = null
  let get = false
  let keepTtl = false
  let expiry: { option: string; amount: string } | null = null
  for (let i = 2; i < args.length; i++) {
    const option = arg(args, i).toUpperCase()
    if ((option === 'NX' || option === 'XX') && (condition === null || condition === option)) condition = option
    else if (option === 'GET') get = true
    else if (option === 'KEEPTTL' && expiry === null) keepTtl = true
    else if (['EX', 'PX', 'EXAT', 'PXAT'].includes(option) && !keepTtl && expiry === null && i + 1 < args.length) {
      expiry = { option, amount: arg(args, ++i) }
    } else throw new RedisReplyError(SYNTAX)
  }
  let expiresAt: number | null = null
  if (expiry) {
    const amount = parseInteger(expiry.amount)
    if (amount <= 0) throw new RedisReplyError(`ERR invalid expire time in '${command}' command`)
    const now = Date.now()
    expiresAt = { EX: now + amount * 1000, PX: now + amount, EXAT: amount * 1000, PXAT: amount }[expiry.option] ?? now
  }
  let previous: Reply = null
  if (get) {
    await store.assertType(key, 'string')
    previous = bulk(await store.call('get', key))
  }
  const exists = (await store.call('exists', key)) === 1
  if ((condition === 'NX' && exists) || (condition === 'XX' && !exists)) return get ? previous : null
  const keptTtl = keepTtl ? Number(await store.call('pttl', key)) : -1
  await store.call('set', key, value)
  if (expiresAt !== null) {
    if (expiresAt <= Date.now()) await store.call('del', key)
    else await store.call('pexpireat', key, expiresAt)
  } else if (keptTtl > 0) await store.call('pexpire', key, keptTtl)
  return get ? previous : OK
}

/** EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key amount [NX|XX|GT|LT] (redis/src/expire.c). */
export function expire(unitMs: number, absolute: boolean) {
  return async (store: EmbeddedStore, args: readonly string[]): Promise<Reply> => {
    const key = arg(args, 0)
    const amount = parseInteger(args[1])
    const flags = new Set<string>()
    for (const option of args.slice(2)) {
      const flag = option.toUpperCase()
      if (!['NX', 'XX', 'GT', 'LT'].includes(flag)) throw new RedisReplyError(`ERR Unsupported option ${option}`)
      flags.add(flag)
    }
    if (flags.has('NX') && flags.size > 1) {
      throw new RedisReplyError('ERR NX and XX, GT or LT options at the same time are not compatible')
    }
    if (flags.has('GT') && flags.has('LT')) {
      throw new RedisReplyError('ERR GT and LT options at the same time are not compatible')
    }
    if ((await store.call('exists', key)) !== 1) return 0
    const now = Date.now()
    const target = absolute ? amount * unitMs : now + amount * unitMs
    const ttl = Number(await store.call('pttl', key))
    // A key without a TTL counts as an infinite one for GT and LT.
    const current = ttl < 0 ? Infinity : now + ttl
    if (flags.has('NX') && ttl >= 0) return 0
    if (flags.has('XX') && ttl < 0) return 0
    if (flags.has('GT') && !(target > current)) return 0
    if (flags.has('LT') && !(target < current)) return 0
    if (target <= now) await store.call('del', key)
    else await store.call('pexpireat', key, target)
    return 1
  }
}

/** INCR / INCRBY / DECR / DECRBY: refuse a stored value that is not an integer. */
export function counter(direction: 1 | -1, hasAmount: boolean) {
  return async (store: EmbeddedStore, args: readonly string[]): Promise<Reply> => {
    const key = arg(args, 0)
    const amount = hasAmount ? parseInteger(args[1]) : 1
    await store.assertType(key, 'string')
    const current = await store.call('get', key)
    if (current !== null && current !== undefined && !isInteger(String(current))) throw new RedisReplyError(NOT_INTEGER)
    return Number(await store.call('incrby', key, String(direction * amount)))
  }
}

export async function hincrby(store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  const [key = '', field = ''] = args
  const amount = parseInteger(args[2])
  const current = await store.call('hget', key, field)
  if (current !== null && current !== undefined && !isInteger(String(current))) {
    throw new RedisReplyError(HASH_NOT_INTEGER)
  }
  return Number(await store.call('hincrby', key, field, String(amount)))
}

/** ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ... (redis/src/t_zset.c, zaddGenericCommand). */
export async function zadd(store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  const key = arg(args, 0)
  const flags = new Set<string>()
  let i = 1
  while (i < args.length && ['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'].includes(arg(args, i).toUpperCase())) {
    flags.add(arg(args, i).toUpperCase())
    i++
  }
  const pairs = args.slice(i)
  if (pairs.length === 0 || pairs.length % 2 !== 0) throw new RedisReplyError(SYNTAX)
  if (flags.has('NX') && flags.has('XX')) {
    throw new RedisReplyError('ERR XX and NX options at the same time are not compatible')
  }
  if ((flags.has('GT') && flags.has('LT')) || (flags.has('NX') && (flags.has('GT') || flags.has('LT')))) {
    throw new RedisReplyError('ERR GT, LT, and/or NX options at the same time are not compatible')
  }
  if (flags.has('INCR') && pairs.length > 2) {
    throw new RedisReplyError('ERR INCR option supports a single increment-element pair')
  }
  const scores = pairs.filter((_, index) => index % 2 === 0).map((score) => parseDouble(score))
  let added = 0
  let changed = 0
  let incremented: number | null = null
  for (let pair = 0; pair < scores.length; pair++) {
    const member = arg(pairs, pair * 2 + 1)
    const currentText = await store.call('zscore', key, member)
    const current = currentText === null || currentText === undefined ? null : Number(currentText)
    const score = flags.has('INCR') ? (current ?? 0) + (scores[pair] ?? 0) : (scores[pair] ?? 0)
    if (Number.isNaN(score)) throw new RedisReplyError('ERR resulting score is not a number (NaN)')
    if (current === null ? flags.has('XX') : flags.has('NX')) continue
    if (current !== null && flags.has('GT') && !(score > current)) continue
    if (current !== null && flags.has('LT') && !(score < current)) continue
    incremented = score
    if (current === score) continue
    await store.call('zadd', key, String(score), member) // ioredis-mock parses with Number(): "Infinity", not "inf"
    if (current === null) added++
    else changed++
  }
  if (flags.has('INCR')) return incremented === null ? null : Buffer.from(formatDouble(incremented))
  return flags.has('CH') ? added + changed : added
}

/** SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]. */
export async function scan(store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  const cursor = arg(args, 0)
  if (!isInteger(cursor) || cursor.startsWith('-')) throw new RedisReplyError(INVALID_CURSOR)
  const mockArgs: string[] = [cursor]
  let type: string | null = null
  for (let i = 1; i < args.length; i += 2) {
    const option = arg(args, i).toUpperCase()
    const value = args[i + 1]
    if (value === undefined) throw new RedisReplyError(SYNTAX)
    if (option === 'MATCH') mockArgs.push('MATCH', value)
    else if (option === 'COUNT') {
      if (parseInteger(value) < 1) throw new RedisReplyError(SYNTAX)
      mockArgs.push('COUNT', value)
    } else if (option === 'TYPE') type = value.toLowerCase()
    else throw new RedisReplyError(SYNTAX)
  }
  const [next, keys] = (await store.call('scan', ...mockArgs)) as [unknown, unknown[]]
  const found: Buffer[] = []
  for (const key of keys) {
    const keyType = await store.typeOf(String(key))
    // Skips keys that expired but are still in ioredis-mock's map.
    if (keyType !== 'none' && (type === null || keyType === type)) found.push(Buffer.from(String(key)))
  }
  return [Buffer.from(String(next)), found]
}

export async function mget(store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  const values = (await store.call('mget', ...args)) as unknown[]
  return values.map(bulk)
}

/** HGETALL as Redis's flat field/value array, in field order (ioredis-mock returns an object). */
export async function hgetall(store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  const key = arg(args, 0)
  const fields = (await store.call('hkeys', key)) as string[]
  if (fields.length === 0) return []
  const values = (await store.call('hmget', key, ...fields)) as unknown[]
  return fields.flatMap((field, index) => [Buffer.from(field), bulk(values[index])])
}

export async function ping(_store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  if (args.length > 1) throw new RedisReplyError("ERR wrong number of arguments for 'ping' command")
  return Buffer.from(args[0] ?? 'PONG')
}

/** FLUSHDB / FLUSHALL [ASYNC|SYNC]; the endpoint has one database. Scripts survive, as in Redis. */
export async function flush(store: EmbeddedStore, args: readonly string[]): Promise<Reply> {
  if (args.length > 1 || (args[0] !== undefined && !['ASYNC', 'SYNC'].includes(args[0].toUpperCase()))) {
    throw new RedisReplyError(SYNTAX)
  }
  await store.call('flushdb')
  return OK
}

/** Checks the min/max arguments of the score-range commands (ZRANGEBYSCORE, ZCOUNT …). */
export function scoreRange(minIndex: number) {
  return (args: readonly string[]): void => {
    checkScoreBound(args[minIndex])
    checkScoreBound(args[minIndex + 1])
  }
}
