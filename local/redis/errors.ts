// Redis's own error texts (redis/src/server.c, t_string.c, eval.c …), so that clients matching on
// them (e.g. the NOSCRIPT fallback of @upstash/ratelimit, src/hash.ts) behave as against Redis.

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value'
export const NOT_INTEGER = 'ERR value is not an integer or out of range'
export const NOT_FLOAT = 'ERR value is not a valid float'
export const MIN_MAX_NOT_FLOAT = 'ERR min or max is not a float'
export const HASH_NOT_INTEGER = 'ERR hash value is not an integer'
export const SYNTAX = 'ERR syntax error'
export const INVALID_CURSOR = 'ERR invalid cursor'
export const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.'
export const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.'

export function wrongArity(fullName: string): string {
  return `ERR wrong number of arguments for '${fullName}' command`
}

/** Redis 7 `processCommand`: the name as typed, then up to 128 characters of each argument. */
export function unknownCommand(name: string, args: readonly string[]): string {
  const shown = args.map((arg) => `'${arg.slice(0, 128)}' `).join('')
  return `ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${shown}`
}

export function unknownSubcommand(subcommand: string, command: string): string {
  return `ERR unknown subcommand '${subcommand.slice(0, 128)}'. Try ${command.toUpperCase()} HELP.`
}

/**
 * Commands that change the state of a connection or block it. Both backends share one
 * connection between all HTTP requests, so these are refused (the REST API has no sessions).
 */
const CONNECTION_COMMANDS = new Set([
  'multi', 'exec', 'discard', 'watch', 'unwatch', 'select', 'swapdb', 'auth', 'hello', 'reset', 'quit',
  'client', 'monitor', 'sync', 'psync', 'replconf', 'subscribe', 'psubscribe', 'ssubscribe',
  'unsubscribe', 'punsubscribe', 'sunsubscribe', 'blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop',
  'bzpopmin', 'bzpopmax', 'bzmpop', 'wait', 'waitaof', 'shutdown', 'debug',
])

/** The error text for a command the REST endpoint refuses, or null when it may run. */
export function refusedCommand(name: string): string | null {
  const lower = name.toLowerCase()
  return CONNECTION_COMMANDS.has(lower) ? `ERR Command is not available over REST: '${lower}'` : null
}
