// Argument checks Redis performs before running a command, which ioredis-mock skips.
import { MIN_MAX_NOT_FLOAT, NOT_FLOAT, NOT_INTEGER } from './errors.ts'
import { RedisReplyError } from './reply.ts'

// Redis's string2ll: optional minus, no plus sign, no leading zeros, no spaces, fits in 64 bits.
const INTEGER = /^(0|-?[1-9]\d*)$/
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

export function isInteger(text: string): boolean {
  if (!INTEGER.test(text)) return false
  const value = BigInt(text)
  return value >= INT64_MIN && value <= INT64_MAX
}

/** Parses a 64-bit integer argument (as a JS number), or answers Redis's error. */
export function parseInteger(text: string | undefined, error = NOT_INTEGER): number {
  if (text === undefined || !isInteger(text)) throw new RedisReplyError(error)
  return Number(text)
}

const DOUBLE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i
const INFINITY = /^([+-]?)inf(inity)?$/i

/** Parses a double argument the way Redis's strtod-based helpers do (inf allowed, nan refused). */
export function parseDouble(text: string | undefined, error = NOT_FLOAT): number {
  if (text !== undefined) {
    const infinity = INFINITY.exec(text)
    if (infinity) return infinity[1] === '-' ? -Infinity : Infinity
    if (DOUBLE.test(text)) return Number(text)
  }
  throw new RedisReplyError(error)
}

/** Checks a ZRANGEBYSCORE-style bound: a double, optionally prefixed by "(" for exclusive. */
export function checkScoreBound(text: string | undefined): void {
  parseDouble(text?.startsWith('(') ? text.slice(1) : text, MIN_MAX_NOT_FLOAT)
}

/**
 * Formats a score as Redis ≥ 7.2 does (shortest round-trip form, fpconv_dtoa); Redis 7.0
 * printed %.17g, so 0.1 came back as "0.10000000000000001" there.
 */
export function formatDouble(value: number): string {
  if (value === Infinity) return 'inf'
  if (value === -Infinity) return '-inf'
  return String(value)
}
