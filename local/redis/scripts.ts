import { createHash } from 'node:crypto'
import { RedisReplyError } from './reply.ts'

/** Lowercase hex SHA-1 of the script text, as EVALSHA and SCRIPT LOAD use it. */
export function scriptSha(script: string): string {
  return createHash('sha1').update(script, 'utf8').digest('hex')
}

// Flags Redis itself knows (redis/src/eval.c, `scripts_flags_def`).
const REDIS_FLAGS = new Set(['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'])

// Upstash-only flags. @upstash/ratelimit ≥ 2.1 starts every Lua script with
// `#!lua flags=allow-key-locking` (dist/index.mjs, src/lua-scripts/single.ts); Redis answers
// "ERR Unexpected flag in script shebang: allow-key-locking". The flag only narrows Upstash's
// locking, so dropping it keeps the script's meaning (hiett/serverless-redis-http#40).
const UPSTASH_ONLY_FLAGS = new Set(['allow-key-locking'])

interface Shebang {
  /** The first line, without its newline. */
  line: string
  flags: string[]
  /** The script after the first line, starting with its newline (keeps line numbers). */
  rest: string
}

function readShebang(script: string): Shebang | null {
  if (!script.startsWith('#!')) return null
  const end = script.indexOf('\n')
  const line = end === -1 ? script : script.slice(0, end)
  const rest = end === -1 ? '' : script.slice(end)
  const parts = line.slice(2).split(' ').filter((part) => part !== '')
  if (parts[0] !== 'lua') {
    throw new RedisReplyError(`ERR Unexpected engine in script shebang: ${parts[0] ?? ''}`)
  }
  let flags: string[] = []
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) throw new RedisReplyError(`ERR Unknown lua shebang option: ${part}`)
    flags = part.slice('flags='.length).split(',').filter((flag) => flag !== '')
  }
  return { line, flags, rest }
}

/**
 * The script as a real Redis accepts it: Upstash-only shebang flags removed. When no flag is
 * left the shebang becomes an empty line, so line numbers in error messages stay the same.
 */
export function scriptForRedis(script: string): string {
  let shebang: Shebang | null
  try {
    shebang = readShebang(script)
  } catch {
    return script // let Redis report the malformed shebang itself
  }
  if (!shebang || !shebang.flags.some((flag) => UPSTASH_ONLY_FLAGS.has(flag))) return script
  const kept = shebang.flags.filter((flag) => !UPSTASH_ONLY_FLAGS.has(flag))
  return (kept.length > 0 ? `#!lua flags=${kept.join(',')}` : '') + shebang.rest
}

/**
 * The script body without its shebang line (replaced by an empty line), for a Lua engine that
 * does not understand shebangs. Rejects engines and flags that neither Redis nor Upstash know.
 */
export function scriptBody(script: string): string {
  const shebang = readShebang(script)
  if (!shebang) return script
  for (const flag of shebang.flags) {
    if (!REDIS_FLAGS.has(flag) && !UPSTASH_ONLY_FLAGS.has(flag)) {
      throw new RedisReplyError(`ERR Unexpected flag in script shebang: ${flag}`)
    }
  }
  return shebang.rest
}

/** The scripts this endpoint has seen through EVAL or SCRIPT LOAD, by the SHA-1 clients use. */
export class ScriptRegistry {
  #scripts = new Map<string, string>()

  /** Remembers a script and returns its SHA-1. */
  register(script: string): string {
    const sha = scriptSha(script)
    this.#scripts.set(sha, script)
    return sha
  }

  /** The script with this SHA-1 (any case), if it was registered. */
  get(sha: string): string | undefined {
    return this.#scripts.get(sha.toLowerCase())
  }

  flush(): void {
    this.#scripts.clear()
  }
}
