import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { runEmbeddedCommand } from '../../local/redis/embedded-commands.ts'
import { EmbeddedStore } from '../../local/redis/embedded-store.ts'
import { RedisReplyError } from '../../local/redis/reply.ts'

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')
const text = (reply: unknown) => (Buffer.isBuffer(reply) ? (reply as Buffer).toString() : reply)

describe('the embedded store’s Lua engine', () => {
  it('compiles a script once and runs it on every EVALSHA, with fresh KEYS and ARGV each time', async () => {
    const store = new EmbeddedStore()
    const script = "local n = redis.call('incrby', KEYS[1], ARGV[1]) return {n, ARGV[2] or false, #KEYS}"
    expect(text(await runEmbeddedCommand(store, ['SCRIPT', 'LOAD', script]))).toBe(sha1(script))
    const replies = []
    for (let i = 1; i <= 5; i++) replies.push(await runEmbeddedCommand(store, ['EVALSHA', sha1(script), '1', 'counter', String(i), ...(i === 3 ? ['third'] : [])]))
    expect(replies.map((r) => (r as unknown[]).map(text))).toEqual([[1, null, 1], [3, null, 1], [6, 'third', 1], [10, null, 1], [15, null, 1]])
    expect(store.lua.compilations).toBe(1)
    // EVAL of the same text reuses the compiled script too; another script compiles once more.
    await runEmbeddedCommand(store, ['EVAL', script, '1', 'counter', '1'])
    expect(store.lua.compilations).toBe(1)
    await runEmbeddedCommand(store, ['EVAL', 'return 1', '0'])
    expect(store.lua.compilations).toBe(2)
    await store.close()
  })

  it('keeps Redis’s answers: runtime errors with the script line, compile errors, NOSCRIPT after SCRIPT FLUSH', async () => {
    const store = new EmbeddedStore()
    const failing = "redis.call('set', KEYS[1], 'x')\nlocal n = redis.call('incr', KEYS[1])\nreturn n"
    for (let i = 0; i < 2; i++) {
      const reply = await runEmbeddedCommand(store, ['EVAL', failing, '1', 'k'])
      expect(reply).toBeInstanceOf(RedisReplyError)
      expect((reply as RedisReplyError).message).toBe(`ERR value is not an integer or out of range script: ${sha1(failing)}, on @user_script:2.`)
    }
    const broken = await runEmbeddedCommand(store, ['EVAL', 'local x = = 1', '0'])
    expect((broken as RedisReplyError).message).toMatch(/^ERR Error compiling script \(new function\): user_script:1: /)
    await runEmbeddedCommand(store, ['SCRIPT', 'FLUSH'])
    const gone = await runEmbeddedCommand(store, ['EVALSHA', sha1(failing), '1', 'k'])
    expect((gone as RedisReplyError).message).toBe('NOSCRIPT No matching script. Please use EVAL.')
    await store.close()
  })
})
