import type { MiddlewareHandler } from 'hono'
import { commonError } from '../../errors.ts'

/** JSON nested deeper than this is refused: no input of the API needs it, and Postgres' jsonb parser and recursive validators would hit their stack limits first. */
export const MAX_JSON_DEPTH = 64

/** A NUL character, or a UTF-16 surrogate that is not half of a pair. */
const UNSAFE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Why `text` cannot be stored as Postgres text (which has no NUL and only well-formed UTF-8), or null. */
export function textProblem(text: string): string | null {
  const match = UNSAFE_TEXT.exec(text)
  if (!match) return null
  return match[0] === '\u0000' ? 'contains a NUL character (U+0000)' : 'contains an unpaired UTF-16 surrogate'
}

/**
 * The text a percent-encoded URL component stands for, decoded strictly: a sequence that is not
 * UTF-8 (`%FF`, or `%ED%A0%80`, an encoded surrogate) answers null instead of U+FFFD, so it is
 * refused rather than silently changed (decodeURIComponent throws on both). A `%` not followed by
 * two hex digits stays literal, as URLSearchParams reads it.
 */
export function decodeUrlComponent(raw: string): string | null {
  if (!raw.includes('%')) return raw
  try {
    return decodeURIComponent(raw.replace(/%(?![0-9A-Fa-f]{2})/g, '%25'))
  } catch {
    return null
  }
}

interface Issue {
  path: string
  message: string
}

function urlIssue(where: string, raw: string): Issue | null {
  const text = decodeUrlComponent(raw)
  if (text === null) return { path: where, message: 'is not valid percent-encoded UTF-8' }
  const problem = textProblem(text)
  return problem ? { path: where, message: problem } : null
}

/** The first unsafe string (keys included) or excessive nesting in a parsed JSON value, walked without recursion. */
export function jsonIssue(value: unknown): Issue | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }]
  while (stack.length) {
    const { value: v, path, depth } = stack.pop()!
    if (typeof v === 'string') {
      const problem = textProblem(v)
      if (problem) return { path: path || '(body)', message: problem }
      continue
    }
    if (v === null || typeof v !== 'object') continue
    if (depth >= MAX_JSON_DEPTH) return { path: path || '(body)', message: `nests deeper than ${MAX_JSON_DEPTH} levels` }
    const entries: Array<[string, unknown]> = Array.isArray(v) ? v.map((item, i) => [String(i), item]) : Object.entries(v)
    for (const [key, child] of entries) {
      const childPath = path ? `${path}.${key}` : key
      const keyProblem = Array.isArray(v) ? null : textProblem(key)
      if (keyProblem) return { path: childPath, message: `has a key that ${keyProblem}` }
      stack.push({ value: child, path: childPath, depth: depth + 1 })
    }
  }
  return null
}

/**
 * One rule for every text input, before any route sees it: the path, each query parameter (name
 * and value) and every string of a JSON body (keys included) must be well-formed Unicode without
 * NUL. Postgres text cannot hold either, so without this rule such input reached the database and
 * failed there as a 500. Refused with 400 `validation_failed` in the shared shape; runs after
 * `jsonBody`, whose parse it reuses (Hono caches the parsed body).
 */
export function refuseUnsafeText(): MiddlewareHandler {
  return async function refuseUnsafeTextMiddleware(c, next) {
    const url = new URL(c.req.url)
    let issue = urlIssue('(path)', url.pathname)
    if (!issue && url.search.length > 1) {
      for (const pair of url.search.slice(1).split('&')) {
        const eq = pair.indexOf('=')
        const name = eq < 0 ? pair : pair.slice(0, eq)
        issue = urlIssue(`query.${name}`, name) ?? (eq < 0 ? null : urlIssue(`query.${name}`, pair.slice(eq + 1)))
        if (issue) break
      }
    }
    if (!issue && c.req.raw.body !== null && (c.req.header('content-type') ?? '').toLowerCase().includes('json')) {
      // jsonBody has already parsed (and so accepted) the body; a request without one has nothing to check.
      const body: unknown = await c.req.json().catch(() => undefined)
      issue = jsonIssue(body)
    }
    if (issue) {
      throw commonError('validation_failed', `Invalid ${issue.path}: ${issue.message}`, [{ path: issue.path, message: issue.message, code: 'invalid_text' }])
    }
    await next()
  }
}
