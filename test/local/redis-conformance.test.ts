// Conformance of the local Upstash Redis REST endpoint (local/redis-server.ts), exercised through
// the real @upstash/redis and @upstash/ratelimit clients. Runs against the embedded store, or
// against a real Redis when ATRIUM_LOCAL_REDIS_URL is set; then every corpus step is also run
// directly through ioredis and the two answers must agree. Keys live under a per-run prefix
// that is deleted afterwards (never FLUSHDB a shared server).
import { createHash, randomUUID } from 'node:crypto'
import { Ratelimit } from '@upstash/ratelimit'
import { Redis } from '@upstash/redis'
import { Redis as IORedis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type RedisServer, startRedisServer } from '../../local/redis-server.ts'

const TOKEN = 'conformance-token'
const realRedisUrl = process.env.ATRIUM_LOCAL_REDIS_URL || undefined
const PREFIX = `atrium-test:${randomUUID().slice(0, 8)}:`
const key = (name: string) => `${PREFIX}${name}`
const mirrorKey = (name: string) => `${PREFIX}direct:${name}`

const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value'
const NOT_INTEGER = 'ERR value is not an integer or out of range'
const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.'

let server: RedisServer
let redis: Redis // default options: auto-pipelining, base64 responses, automatic deserialization
let rawRedis: Redis // automaticDeserialization: false
let direct: IORedis | undefined

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

async function http(path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.status, headers: res.headers, body: (await res.json()) as unknown }
}

const admin = (path: string, body?: unknown) => http(`/__atrium/${path}`, body)
const stats = async () => (await admin('stats')).body as { requests: number; commands: number }

beforeAll(async () => {
  server = await startRedisServer({ port: 0, token: TOKEN, redisUrl: realRedisUrl })
  redis = new Redis({ url: server.url, token: TOKEN, enableTelemetry: false })
  rawRedis = new Redis({ url: server.url, token: TOKEN, enableTelemetry: false, automaticDeserialization: false })
  if (realRedisUrl) direct = new IORedis(realRedisUrl)
})

afterAll(async () => {
  if (direct) {
    const stream = direct.scanStream({ match: `${PREFIX}*`, count: 500 })
    for await (const keys of stream as AsyncIterable<string[]>) if (keys.length > 0) await direct.del(...keys)
    direct.disconnect()
  }
  await server?.close()
})

describe('wire protocol', () => {
  it('answers POST / with {result} and a command error with 400 {error}', async () => {
    expect(await http('/', ['SET', key('p'), 'v', 'EX', 100])).toMatchObject({ status: 200, body: { result: 'OK' } })
    expect(await http('/', ['GET', key('p')])).toMatchObject({ status: 200, body: { result: 'v' } })
    expect(await http('/', ['LPUSH', key('p'), 'x'])).toMatchObject({ status: 400, body: { error: WRONGTYPE } })
  })

  it('answers /pipeline and /multi-exec with one entry per command', async () => {
    const commands = [['SET', key('m'), '1'], ['INCR', key('m')], ['HGET', key('m'), 'f'], ['GET', key('m')]]
    const expected = [{ result: 'OK' }, { result: 2 }, { error: WRONGTYPE }, { result: '2' }]
    expect(await http('/pipeline', commands)).toMatchObject({ status: 200, body: expected })
    const transaction = [['SET', key('m'), '1'], ['INCR', key('m')], ['HGET', key('m'), 'f'], ['GET', key('m')]]
    expect(await http('/multi-exec', transaction)).toMatchObject({ status: 200, body: expected })
  })

  it('discards a transaction with a command Redis refuses to queue, with 400 and nothing applied', async () => {
    const res = await http('/multi-exec', [['SET', key('discarded'), '1'], ['GET']])
    expect(res).toMatchObject({ status: 400, body: { error: 'EXECABORT Transaction discarded because of previous errors.' } })
    expect(await rawRedis.exists(key('discarded'))).toBe(0)
  })

  it('base64-encodes every result string except a top-level OK when asked to', async () => {
    const b64 = { 'Upstash-Encoding': 'base64' }
    const text = 'héllo \u0000 ✓ 🚀'
    await http('/', ['RPUSH', key('b64'), text, 'OK'])
    expect((await http('/', ['SET', key('b64s'), 'OK'], b64)).body).toEqual({ result: 'OK' })
    expect((await http('/', ['GET', key('b64s')], b64)).body).toEqual({ result: 'OK' })
    const list = await http('/', ['LRANGE', key('b64'), 0, -1], b64)
    expect(list.body).toEqual({ result: [Buffer.from(text).toString('base64'), Buffer.from('OK').toString('base64')] })
    const mixed = await http('/pipeline', [['LLEN', key('b64')], ['GET', key('none')], ['INCR', key('b64')]], b64)
    expect(mixed.body).toEqual([{ result: 2 }, { result: null }, { error: WRONGTYPE }])
    expect((await http('/', ['LRANGE', key('b64'), 0, 0])).body).toEqual({ result: [text] })
  })

  it('accepts the command-in-path form with GET and POST', async () => {
    expect((await http(`/set/${encodeURIComponent(key('path'))}/a%20b`, '')).body).toEqual({ result: 'OK' })
    expect((await http(`/get/${encodeURIComponent(key('path'))}`)).body).toEqual({ result: 'a b' })
    expect((await http(`/set/${encodeURIComponent(key('path'))}?EX=100`, 'from body')).body).toEqual({ result: 'OK' })
    expect((await http(`/ttl/${encodeURIComponent(key('path'))}`)).body).toEqual({ result: 100 })
  })

  it('refuses a missing or wrong token with 401 Unauthorized', async () => {
    const none = await fetch(server.url, { method: 'POST', body: '["PING"]' })
    expect(none.status).toBe(401)
    expect(await none.json()).toEqual({ error: 'Unauthorized' })
    expect((await http('/', ['PING'], { authorization: `Bearer ${TOKEN}x` })).status).toBe(401)
    const intruder = new Redis({ url: server.url, token: 'wrong', enableTelemetry: false })
    await expect(intruder.get(key('p'))).rejects.toThrow(/Unauthorized/)
  })

  it('refuses malformed bodies with 400', async () => {
    expect((await http('/', 'not json')).status).toBe(400)
    expect((await http('/', [])).status).toBe(400)
    expect((await http('/pipeline', [['PING'], 'PING'])).status).toBe(400)
  })

  it('emits a fresh upstash-sync-token on every answer', async () => {
    const first = (await http('/', ['PING'])).headers.get('upstash-sync-token')
    const second = (await http('/', ['PING'])).headers.get('upstash-sync-token')
    expect(first).toBeTruthy()
    expect(second).not.toBe(first)
  })
})

type Expectation = unknown
const error = (message: string | RegExp) => ({ error: message })
const between = (min: number, max: number) => (value: unknown) => typeof value === 'number' && value >= min && value <= max

type Step = [command: (string | number)[], expected: Expectation]

/**
 * Command steps per section, run in order, with the result Redis gives (strings not
 * JSON-parsed). `k` names the section's keys, so that sections do not share state.
 */
function corpus(k: (name: string) => string): Record<string, Step[]> {
  const loaded = 'return ARGV[1]'
  return {
    'strings and counters': [
      [['SET', k('s'), 'v1', 'EX', 100], 'OK'],
      [['SET', k('s'), 'v2', 'NX'], null],
      [['SET', k('s'), 'v2', 'XX', 'GET'], 'v1'],
      [['GET', k('s')], 'v2'],
      [['TTL', k('s')], -1],
      [['SET', k('s'), 'v3', 'PX', 50000], 'OK'],
      [['SET', k('s'), 'v4', 'KEEPTTL'], 'OK'],
      [['PTTL', k('s')], between(45000, 50000)],
      [['SET', k('s'), 'x', 'EX', 0], error("ERR invalid expire time in 'set' command")],
      [['SET', k('s'), 'x', 'EX', 'soon'], error(NOT_INTEGER)],
      [['SET', k('s'), 'x', 'NX', 'XX'], error('ERR syntax error')],
      [['SET', k('s')], error("ERR wrong number of arguments for 'set' command")],
      [['GET', k('missing')], null],
      [['INCR', k('n')], 1],
      [['INCRBY', k('n'), 41], 42],
      [['DECR', k('n')], 41],
      [['DECRBY', k('n'), 1], 40],
      [['GET', k('n')], '40'],
      [['INCR', k('s')], error(NOT_INTEGER)],
      [['INCRBY', k('n'), '1.5'], error(NOT_INTEGER)],
      [['MGET', k('s'), k('missing'), k('n')], ['v4', null, '40']],
      [['EXISTS', k('s'), k('n'), k('missing')], 2],
      [['DEL', k('n'), k('missing')], 1],
      [['TYPE', k('s')], 'string'],
    ],
    expiry: [
      [['SET', k('n'), '1'], 'OK'],
      [['EXPIRE', k('n'), 100], 1],
      [['TTL', k('n')], between(98, 100)],
      [['EXPIRE', k('n'), 200, 'NX'], 0],
      [['EXPIRE', k('n'), 300, 'GT'], 1],
      [['TTL', k('n')], between(298, 300)],
      [['PEXPIRE', k('n'), 5000, 'LT'], 1],
      [['PTTL', k('n')], between(4000, 5000)],
      [['EXPIRE', k('missing'), 10], 0],
      [['TTL', k('missing')], -2],
      [['PTTL', k('missing')], -2],
      [['EXPIRE', k('n'), 'soon'], error(NOT_INTEGER)],
      [['PEXPIRE', k('n'), -1], 1],
      [['EXISTS', k('n')], 0],
    ],
    hashes: [
      [['HSET', k('h'), 'a', '1', 'b', 'two'], 2],
      [['HSET', k('h'), 'a', '3'], 0],
      [['HGET', k('h'), 'a'], '3'],
      [['HGET', k('h'), 'zz'], null],
      [['HGETALL', k('h')], ['a', '3', 'b', 'two']],
      [['HINCRBY', k('h'), 'a', 4], 7],
      [['HINCRBY', k('h'), 'b', 1], error('ERR hash value is not an integer')],
      [['HDEL', k('h'), 'b', 'zz'], 1],
      [['HGETALL', k('missing')], []],
      [['HSET', k('h'), 'odd'], error("ERR wrong number of arguments for 'hset' command")],
      [['SET', k('s'), 'v'], 'OK'],
      [['MGET', k('s'), k('missing'), k('h')], ['v', null, null]],
      [['GET', k('h')], error(WRONGTYPE)],
      [['INCR', k('h')], error(WRONGTYPE)],
      [['HGET', k('s'), 'a'], error(WRONGTYPE)],
      [['HDEL', k('h'), 'a'], 1],
      [['EXISTS', k('h')], 0],
    ],
    sets: [
      [['SADD', k('set'), 'x', 'y', 'x'], 2],
      [['SISMEMBER', k('set'), 'x'], 1],
      [['SISMEMBER', k('set'), 'q'], 0],
      [['SREM', k('set'), 'x', 'q'], 1],
      [['SMEMBERS', k('set')], ['y']],
      [['SET', k('s'), 'v'], 'OK'],
      [['SADD', k('s'), 'a'], error(WRONGTYPE)],
      [['SREM', k('set'), 'y'], 1],
      [['EXISTS', k('set')], 0],
    ],
    'sorted sets': [
      [['ZADD', k('z'), 1, 'a', 2, 'b', 3, 'c'], 3],
      [['ZADD', k('z'), 'XX', 'CH', 5, 'a'], 1],
      [['ZADD', k('z'), 'NX', 9, 'a', 4, 'd'], 1],
      [['ZADD', k('z'), 'GT', 'CH', 1, 'd'], 0],
      [['ZADD', k('z'), 'INCR', 1.5, 'b'], '3.5'],
      [['ZRANGE', k('z'), 0, -1, 'WITHSCORES'], ['c', '3', 'b', '3.5', 'd', '4', 'a', '5']],
      [['ZRANGE', k('z'), '(3', '+inf', 'BYSCORE', 'LIMIT', 0, 2], ['b', 'd']],
      [['ZRANGE', k('z'), 0, -1, 'REV'], ['a', 'd', 'b', 'c']],
      [['ZRANGEBYSCORE', k('z'), '-inf', 4, 'WITHSCORES'], ['c', '3', 'b', '3.5', 'd', '4']],
      [['ZRANGEBYSCORE', k('z'), 'low', 4], error('ERR min or max is not a float')],
      [['ZCARD', k('z')], 4],
      [['ZREM', k('z'), 'c', 'nope'], 1],
      [['ZREMRANGEBYSCORE', k('z'), '-inf', '(5'], 2],
      [['ZRANGE', k('z'), 0, -1], ['a']],
      [['ZADD', k('z'), 'many', 'a'], error('ERR value is not a valid float')],
      [['ZREM', k('z'), 'a'], 1],
      [['EXISTS', k('z')], 0],
    ],
    lists: [
      [['RPUSH', k('l'), 'a', 'b', 'c'], 3],
      [['LPUSH', k('l'), 'z'], 4],
      [['LRANGE', k('l'), 0, -1], ['z', 'a', 'b', 'c']],
      [['LTRIM', k('l'), 1, 2], 'OK'],
      [['LRANGE', k('l'), 0, -1], ['a', 'b']],
      [['LLEN', k('l')], 2],
      [['LRANGE', k('l'), 'x', 2], error(NOT_INTEGER)],
      [['SET', k('s'), 'v'], 'OK'],
      [['LPUSH', k('s'), 'x'], error(WRONGTYPE)],
      [['LTRIM', k('l'), 5, 10], 'OK'],
      [['EXISTS', k('l')], 0],
    ],
    'connection and unknown commands': [
      [['PING'], 'PONG'],
      [['PING', 'hi'], 'hi'],
      [['ECHO', 'héllo ✓'], 'héllo ✓'],
      [['NOSUCHCOMMAND', 'a'], error("ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'a' ")],
    ],
    scripts: [
      [['EVAL', 'return {1, 2.5, "x", false, {3, "y"}}', 0], [1, 2, 'x', null, [3, 'y']]],
      [['EVAL', 'return 3.99', 0], 3],
      [['EVAL', 'return -3.99', 0], -3],
      [['EVAL', 'return true', 0], 1],
      [['EVAL', 'return false', 0], null],
      [['EVAL', 'return KEYS[1] .. ARGV[1] .. #ARGV', 1, 'kk', 'aa', 'bb'], 'kkaa2'],
      [['EVAL', 'return redis.call("GET", KEYS[1])', 1, k('missing')], null],
      [['EVAL', 'return redis.call("SET", KEYS[1], 1000)', 1, k('s')], 'OK'],
      [['GET', k('s')], '1000'],
      [['EVAL', 'local r = redis.call("SET", KEYS[1], "x") return type(r)', 1, k('s')], 'table'],
      [['EVAL', 'local b = redis.call("HMGET", KEYS[1], "f", "g") return {#b, b[1] == false, b[2] == false}', 1, k('h')], [2, 1, 1]],
      [['EVAL', 'local v = redis.call("INCR", KEYS[1]) return v', 1, k('s')], error(/^ERR value is not an integer or out of range script: [0-9a-f]{40}, on @user_script:1\.$/)],
      [['EVAL', 'return redis.pcall("HGET", KEYS[1], "f")', 1, k('s')], error(WRONGTYPE)],
      [['EVAL', 'return redis.error_reply("MY_CODE custom")', 0], error('MY_CODE custom')],
      [['EVAL', 'return redis.status_reply("FINE")', 0], 'FINE'],
      [['EVAL', 'return 1', -1], error("ERR Number of keys can't be negative")],
      [['EVAL', 'return 1', 2, 'a'], error("ERR Number of keys can't be greater than number of args")],
      [['EVALSHA', 'f'.repeat(40), 0], error(NOSCRIPT)],
      [['SCRIPT', 'LOAD', loaded], sha1(loaded)],
      [['EVALSHA', sha1(loaded), 0, 'hey'], 'hey'],
      [['SCRIPT', 'EXISTS', sha1(loaded), 'f'.repeat(40)], [1, 0]],
    ],
  }
}

function matches(actual: unknown, expected: Expectation): boolean {
  if (typeof expected === 'function') return (expected as (value: unknown) => boolean)(actual)
  if (expected && typeof expected === 'object' && 'error' in expected) {
    const wanted = (expected as { error: string | RegExp }).error
    const got = (actual as { error?: unknown } | null)?.error
    return typeof got === 'string' && (typeof wanted === 'string' ? got === wanted : wanted.test(got))
  }
  return JSON.stringify(actual) === JSON.stringify(expected)
}

/** Runs a command through the client's POST / path; errors become {error: <Redis text>}. */
async function viaRest(command: (string | number)[]): Promise<unknown> {
  try {
    return await rawRedis.exec(command as [string, ...string[]])
  } catch (thrown) {
    // pkg/http.ts: `${body.error}, command was: ${JSON.stringify(req.body)}`
    return { error: (thrown as Error).message.replace(/, command was: .*$/s, '') }
  }
}

async function viaIoredis(client: IORedis, command: (string | number)[]): Promise<unknown> {
  try {
    const [name = '', ...args] = command
    return await client.call(String(name), ...args.map(String))
  } catch (thrown) {
    return { error: (thrown as Error).message }
  }
}

describe('command corpus', () => {
  const sections = Object.keys(corpus(key))
  it.each(sections)('answers %s as Redis does', async (section) => {
    const k = (name: string) => key(`${section}:${name}`)
    const mirror = (name: string) => mirrorKey(`${section}:${name}`)
    const steps = corpus(k)[section] ?? []
    const mirrored = corpus(mirror)[section] ?? []
    expect(steps.length).toBeGreaterThan(0)
    // The whole section as one /pipeline request, on its own keys: same answers, in order.
    const piped = corpus((name) => key(`piped:${section}:${name}`))[section] ?? []
    const answer = await http('/pipeline', piped.map(([command]) => command))
    const entries = answer.body as ({ result: unknown } | { error: string })[]
    expect(entries).toHaveLength(piped.length)
    for (const [index, entry] of entries.entries()) {
      const [command, expected] = piped[index] ?? [[], undefined]
      const actual = 'error' in entry ? entry : entry.result
      expect({ command, actual, ok: matches(actual, expected) }).toEqual({ command, actual, ok: true })
    }
    for (const [index, [command, expected]] of steps.entries()) {
      const actual = await viaRest(command)
      expect({ command, actual, ok: matches(actual, expected) }).toEqual({ command, actual, ok: true })
      if (direct) {
        // The same step, on other keys, straight through ioredis: the endpoint must agree with Redis.
        const [mirrorCommand = [], mirrorExpected] = mirrored[index] ?? []
        const reference = await viaIoredis(direct, mirrorCommand)
        expect({ command, reference, ok: matches(reference, mirrorExpected) }).toEqual({ command, reference, ok: true })
        if (typeof expected !== 'function') expect({ command, actual }).toEqual({ command, actual: reference })
      }
    }
  })

  it('iterates SCAN with MATCH and TYPE until the cursor returns to 0', async () => {
    await Promise.all([0, 1, 2, 3, 4].map((i) => redis.set(key(`scan:${i}`), i)))
    await redis.hset(key('scan:h'), { f: 1 })
    const found: string[] = []
    const strings: string[] = []
    for (const [type, into] of [[undefined, found], ['string', strings]] as const) {
      let cursor: string | number = 0
      do {
        const [next, keys]: [string | number, string[]] = await redis.scan(cursor, { match: key('scan:*'), count: 1000, ...(type ? { type } : {}) })
        into.push(...keys)
        cursor = next
      } while (String(cursor) !== '0')
    }
    expect(found.sort()).toEqual([0, 1, 2, 3, 4].map((i) => key(`scan:${i}`)).concat(key('scan:h')).sort())
    expect(strings.sort()).toEqual([0, 1, 2, 3, 4].map((i) => key(`scan:${i}`)).sort())
  })

  it.skipIf(realRedisUrl !== undefined)('empties the embedded store on FLUSHDB but keeps loaded scripts', async () => {
    const sha = await redis.scriptLoad('return 7')
    await redis.set(key('flush'), 1)
    expect(await redis.flushdb()).toBe('OK')
    expect(await redis.dbsize()).toBe(0)
    expect(await redis.evalsha(sha, [], [])).toBe(7)
  })
})

describe('typed client', () => {
  beforeEach(async () => {
    await admin('faults', { mode: 'off' })
  })

  it('batches concurrent commands into /pipeline requests (auto-pipelining)', async () => {
    await admin('stats/reset', {})
    const [set, incr, hset, zadd, sadd, expire] = await Promise.all([
      redis.set(key('auto:s'), 'value'),
      redis.incr(key('auto:n')),
      redis.hset(key('auto:h'), { a: 1, b: 'two' }),
      redis.zadd(key('auto:z'), { score: 2, member: 'm2' }, { score: 1, member: 'm1' }),
      redis.sadd(key('auto:set'), 'x', 'y'),
      redis.expire(key('auto:s'), 60),
    ])
    expect([set, incr, hset, zadd, sadd, expire]).toEqual(['OK', 1, 2, 2, 2, 1])
    const [get, ttl, mget, hget, zscore, sismember] = await Promise.all([
      redis.get(key('auto:s')),
      redis.ttl(key('auto:s')),
      redis.mget(key('auto:s'), key('auto:n'), key('auto:missing')),
      redis.hget(key('auto:h'), 'b'),
      redis.zscore(key('auto:z'), 'm2'),
      redis.sismember(key('auto:set'), 'y'),
    ])
    expect([get, ttl, mget, hget, zscore, sismember]).toEqual(['value', 60, ['value', 1, null], 'two', 2, 1])
    // Each batch holds only writes or only reads, so each travels as one /pipeline request.
    expect(await stats()).toEqual({ requests: 2, commands: 12 })
  })

  it('deserialises collections like Upstash does', async () => {
    expect(await redis.hgetall(key('auto:h'))).toEqual({ a: 1, b: 'two' })
    expect(await redis.zrange(key('auto:z'), 0, -1, { withScores: true })).toEqual(['m1', 1, 'm2', 2])
    expect((await redis.smembers(key('auto:set'))).sort()).toEqual(['x', 'y'])
    await redis.rpush(key('auto:l'), 'a', 'b', 'c')
    expect(await redis.lrange(key('auto:l'), 0, -1)).toEqual(['a', 'b', 'c'])
    expect(await redis.ltrim(key('auto:l'), 0, 0)).toBe('OK')
    expect(await redis.llen(key('auto:l'))).toBe(1)
  })

  it('round-trips JSON, unicode and control characters, with and without deserialisation', async () => {
    const values: Record<string, unknown> = {
      json: { name: 'Zoë', tags: ['a', 'b'], nested: { n: 1.5, ok: true, nil: null } },
      unicode: 'héllo wörld ✓ 日本語 🚀',
      control: 'nul:\u0000 bell:\u0007 del:\u007f latin1:\u00ff',
      numeric: '00123',
    }
    await Promise.all(Object.entries(values).map(([name, value]) => redis.set(key(`v:${name}`), value)))
    for (const [name, value] of Object.entries(values)) {
      expect(await redis.get(key(`v:${name}`))).toEqual(value)
      const text = typeof value === 'string' ? value : JSON.stringify(value)
      expect(await rawRedis.get(key(`v:${name}`))).toBe(text)
      const plain = new Redis({ url: server.url, token: TOKEN, enableTelemetry: false, responseEncoding: false })
      expect(await plain.get(key(`v:${name}`))).toEqual(value)
      if (direct) expect(await direct.get(key(`v:${name}`))).toBe(text)
    }
    expect(await redis.get(key('auto:n'))).toBe(1)
    expect(await rawRedis.get(key('auto:n'))).toBe('1')
  })

  it.runIf(realRedisUrl !== undefined)('returns the exact bytes Redis stores, base64-encoded', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x80, 0xfe, 0x0a])
    await direct?.set(key('binary'), bytes)
    const res = await http('/', ['GET', key('binary')], { 'Upstash-Encoding': 'base64' })
    expect(res.body).toEqual({ result: bytes.toString('base64') })
  })

  it('surfaces WRONGTYPE as an error, alone and inside pipelines', async () => {
    await expect(redis.incr(key('auto:h'))).rejects.toThrow(WRONGTYPE)
    await expect(redis.pipeline().set(key('pl'), 'a').incr(key('auto:h')).exec()).rejects.toThrow(
      `Command 2 [ incr ] failed: ${WRONGTYPE}`,
    )
    const kept = await redis.pipeline().get(key('pl')).incr(key('auto:h')).exec({ keepErrors: true })
    expect(kept[0]).toEqual({ error: undefined, result: 'a' })
    expect(kept[1]?.error).toBe(WRONGTYPE)
  })

  it('runs redis.multi() as one transaction, per-command errors included', async () => {
    const results = await redis.multi().set(key('tx'), 5).incrby(key('tx'), 10).get(key('tx')).exec()
    expect(results).toEqual(['OK', 15, 15])
    const kept = await redis.multi().incr(key('tx')).hget(key('tx'), 'f').incr(key('tx')).exec({ keepErrors: true })
    expect(kept.map((entry) => entry.error ?? entry.result)).toEqual([16, WRONGTYPE, 17])
  })
})

describe('scripts and @upstash/ratelimit', () => {
  const W = 1_000_000 // '1000 s': a window boundary is never crossed during the test

  async function countRequests<T>(task: () => Promise<T>): Promise<{ value: T; requests: number }> {
    await admin('stats/reset', {})
    const value = await task()
    return { value, requests: (await stats()).requests }
  }

  const limiter = (limiter: Ratelimit['limiter'], name: string) =>
    new Ratelimit({ redis, limiter, prefix: key(`rl:${name}`), ephemeralCache: false, analytics: false })

  it('answers EVALSHA of an unknown script with NOSCRIPT, then runs it once EVAL loaded it', async () => {
    // Unique per run: a real Redis keeps its script cache between runs.
    const script = `-- ${PREFIX}\nreturn redis.call("INCRBY", KEYS[1], ARGV[1])`
    const created = redis.createScript<number>(script)
    const first = await countRequests(() => created.exec([key('script')], ['2']))
    expect(first).toEqual({ value: 2, requests: 2 }) // EVALSHA → NOSCRIPT → EVAL
    const second = await countRequests(() => created.exec([key('script')], ['3']))
    expect(second).toEqual({ value: 5, requests: 1 })
    expect(await redis.scriptExists(sha1(script))).toEqual([1])
  })

  it('fixedWindow allows N then blocks, with remaining and reset', async () => {
    const rl = limiter(Ratelimit.fixedWindow(3, '1000 s'), 'fixed')
    const reset = (Math.floor(Date.now() / W) + 1) * W
    const first = await countRequests(() => rl.limit('user'))
    expect(first.requests).toBe(2) // the script is new to the server: EVALSHA fails, EVAL follows
    const rest = [await rl.limit('user'), await rl.limit('user'), await rl.limit('user')]
    expect([first.value, ...rest].map(({ success, remaining, limit }) => ({ success, remaining, limit }))).toEqual([
      { success: true, remaining: 2, limit: 3 },
      { success: true, remaining: 1, limit: 3 },
      { success: true, remaining: 0, limit: 3 },
      { success: false, remaining: 0, limit: 3 },
    ])
    for (const result of [first.value, ...rest]) expect(result.reset).toBe(reset)
    expect(await rl.getRemaining('user')).toEqual({ remaining: 0, reset, limit: 3 })
    await rl.resetUsedTokens('user')
    expect((await rl.limit('user')).remaining).toBe(2)
  })

  it('slidingWindow allows N then blocks, with remaining and reset', async () => {
    const rl = limiter(Ratelimit.slidingWindow(3, '1000 s'), 'sliding')
    const reset = (Math.floor(Date.now() / W) + 1) * W
    const first = await countRequests(() => rl.limit('user'))
    expect(first.requests).toBe(2)
    const rest = [await rl.limit('user'), await rl.limit('user'), await rl.limit('user')]
    expect([first.value, ...rest].map(({ success, remaining, reset: at }) => ({ success, remaining, at }))).toEqual([
      { success: true, remaining: 2, at: reset },
      { success: true, remaining: 1, at: reset },
      { success: true, remaining: 0, at: reset },
      { success: false, remaining: 0, at: reset },
    ])
    expect(await rl.getRemaining('user')).toEqual({ remaining: 0, reset, limit: 3 })
    await rl.resetUsedTokens('user')
    expect((await rl.limit('user')).remaining).toBe(2)
  })

  it('tokenBucket allows the burst then blocks until the next refill', async () => {
    const rl = limiter(Ratelimit.tokenBucket(1, '1000 s', 3), 'bucket')
    const before = Date.now()
    const first = await countRequests(() => rl.limit('user'))
    const after = Date.now()
    expect(first.requests).toBe(2)
    const rest = [await rl.limit('user'), await rl.limit('user'), await rl.limit('user')]
    expect([first.value, ...rest].map(({ success, remaining }) => ({ success, remaining }))).toEqual([
      { success: true, remaining: 2 },
      { success: true, remaining: 1 },
      { success: true, remaining: 0 },
      { success: false, remaining: 0 },
    ])
    const reset = first.value.reset
    expect(reset).toBeGreaterThanOrEqual(before + W)
    expect(reset).toBeLessThanOrEqual(after + W)
    for (const result of rest) expect(result.reset).toBe(reset)
    expect(await rl.getRemaining('user')).toEqual({ remaining: 0, reset, limit: 3 })
    await rl.resetUsedTokens('user')
    expect((await rl.limit('user')).remaining).toBe(2)
  })
})

describe('fault injection and stats', () => {
  beforeEach(async () => {
    await admin('faults', { mode: 'off' })
  })

  it('fails the next requests with the injected status, then recovers', async () => {
    await redis.set(key('fault'), 'v')
    expect(await admin('faults', { mode: 'fail', count: 2 })).toMatchObject({ status: 200, body: { ok: true } })
    expect(await http('/', ['GET', key('fault')])).toMatchObject({ status: 503, body: { error: 'injected failure' } })
    await expect(redis.get(key('fault'))).rejects.toThrow(/injected failure/)
    expect(await redis.get(key('fault'))).toBe('v')
  })

  it('lets `after` requests pass first and uses the given status', async () => {
    await admin('faults', { mode: 'fail', status: 500, after: 1, count: 1 })
    expect((await http('/', ['PING'])).status).toBe(200)
    expect(await http('/', ['PING'])).toMatchObject({ status: 500, body: { error: 'injected failure' } })
    expect((await http('/', ['PING'])).status).toBe(200)
  })

  it('fails every request until turned off when no count is given', async () => {
    await admin('faults', { mode: 'fail' })
    for (let i = 0; i < 3; i++) expect((await http('/', ['PING'])).status).toBe(503)
    await admin('faults', { mode: 'off' })
    expect((await http('/', ['PING'])).status).toBe(200)
  })

  it('delays requests, then serves them', async () => {
    await redis.set(key('slow'), 'late')
    await admin('faults', { mode: 'delay', delayMs: 300, count: 1 })
    const started = performance.now()
    expect(await redis.get(key('slow'))).toBe('late')
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    const again = performance.now()
    expect(await redis.get(key('slow'))).toBe('late')
    expect(performance.now() - again).toBeLessThan(290)
  })

  it('refuses an invalid fault plan with 400', async () => {
    expect((await admin('faults', { mode: 'explode' })).status).toBe(400)
    expect((await admin('faults', { mode: 'fail', count: -1 })).status).toBe(400)
  })

  it('counts protocol requests and commands, not /__atrium/ calls', async () => {
    expect(await admin('stats/reset', {})).toMatchObject({ status: 200, body: { ok: true } })
    expect(await stats()).toEqual({ requests: 0, commands: 0 })
    await http('/pipeline', [['PING'], ['PING'], ['PING']])
    await http('/', ['PING'])
    await http('/', ['PING'], { authorization: 'Bearer nope' })
    await admin('faults', { mode: 'fail', count: 1 })
    await http('/', ['PING'])
    await admin('stats')
    expect(await stats()).toEqual({ requests: 4, commands: 4 })
  })
})
