// Runs Lua scripts in ioredis-mock's engine (fengari, Lua 5.3) with Redis's conversion rules.
//
// ioredis-mock's own bridge (lib/index.js, `callToRedisCommand` / `makeReturnValue`) departs from
// Redis in ways @upstash/ratelimit's scripts notice: a nil element of an HMGET reply arrives as a
// JavaScript `null` userdata instead of `false` (the token bucket tests `bucket[1] == false`),
// nested arrays are zero-based proxies (the reset script iterates SCAN's key list), numbers come
// back as floats, and returned floats and booleans are not converted. So every script runs behind
// a prelude that wraps `redis.call`/`redis.pcall` and encodes the script's result as text.
import { RedisReplyError, type Reply } from './reply.ts'

/** What the prelude needs to know about the commands scripts may call. */
export interface LuaCommandTables {
  /** Commands scripts may call. */
  commands: ReadonlySet<string>
  /** Type the first key must hold (WRONGTYPE otherwise). */
  keyTypes: ReadonlyMap<string, string>
  /** Commands whose reply is an integer; numbers from other commands are bulk strings. */
  integerReplies: ReadonlySet<string>
  /** Commands whose reply is a status, which Redis hands to Lua as `{ok = "..."}`. */
  statusReplies: ReadonlySet<string>
  /** Commands that may empty a collection, which Redis then deletes. */
  removals: ReadonlySet<string>
}

function luaSet(names: Iterable<string>): string {
  return `{${[...names].map((name) => `["${name}"]=true`).join(',')}}`
}

function luaMap(entries: Iterable<[string, string]>): string {
  return `{${[...entries].map(([name, value]) => `["${name}"]="${value}"`).join(',')}}`
}

// The prelude is joined into the script's first line (see `buildProgram`), so it must not
// contain Lua comments, and no statement in it may start with a parenthesis.
function preludeSource(tables: LuaCommandTables): string {
  return `
local __raw = redis.call
local __known = ${luaSet(tables.commands)}
local __types = ${luaMap(tables.keyTypes)}
local __ints = ${luaSet(tables.integerReplies)}
local __status = ${luaSet(tables.statusReplies)}
local __removes = ${luaSet(tables.removals)}
local __lengths = {hash="hlen", set="scard", zset="zcard", list="llen"}
local function __fmt(n)
  if math.type(n) == "integer" then return tostring(n) end
  if n ~= n then return "nan" end
  if n == math.huge then return "inf" end
  if n == -math.huge then return "-inf" end
  local i = math.tointeger(n)
  if i then return tostring(i) end
  for p = 15, 17 do
    local s = string.format("%." .. p .. "g", n)
    if tonumber(s) == n then return s end
  end
  return string.format("%.17g", n)
end
local function __arg(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return __fmt(v) end
  error({err = "ERR Lua redis lib command arguments must be strings or integers"}, 0)
end
local function __len(v) return #v end
local __counters = {incr=true, incrby=true, decr=true, decrby=true, hincrby=true}
local function __is_int(v)
  if type(v) == "number" then return math.tointeger(v) ~= nil end
  return type(v) == "string" and (v == "0" or string.match(v, "^%-?[1-9]%d*$") ~= nil)
end
local function __from_js(v, depth, bulk)
  local t = type(v)
  if t == "number" then
    if bulk then return __fmt(v) end
    return math.tointeger(v) or v
  end
  if t == "userdata" then
    local ok, n = pcall(__len, v)
    if not ok then return false end
    local out = {}
    local shift = -1
    if depth == 0 then shift = 0 end
    for i = 1, n do
      local e = __from_js(v[i + shift], depth + 1, bulk)
      if e == nil then e = false end
      out[i] = e
    end
    return out
  end
  if t == "boolean" then
    if v then return 1 end
    return false
  end
  if v == nil then return false end
  return v
end
local function __err(e)
  if type(e) == "table" and type(e.err) == "string" then return e.err end
  local s = string.gsub(tostring(e), "^%a*Error: ", "")
  if not string.match(s, "^[A-Z][A-Z_]+ ") then s = "ERR " .. s end
  return s
end
local function __drop_if_empty(key)
  local length = __lengths[__raw("type", key)]
  if length and __raw(length, key) == 0 then __raw("del", key) end
end
local function __call(cmd, ...)
  if type(cmd) ~= "string" then error({err = "ERR Please specify at least one argument for this redis lib call"}, 0) end
  local name = string.lower(cmd)
  if not __known[name] then error({err = "ERR Unknown Redis command called from script"}, 0) end
  local n = select("#", ...)
  local args = {...}
  for i = 1, n do args[i] = __arg(args[i]) end
  local want = __types[name]
  if want and n >= 1 then
    local have = __raw("type", args[1])
    if have ~= "none" and have ~= want and have ~= false then
      error({err = "WRONGTYPE Operation against a key holding the wrong kind of value"}, 0)
    end
  end
  if __counters[name] then
    if name == "incrby" or name == "decrby" or name == "hincrby" then
      if not __is_int(args[n]) then error({err = "ERR value is not an integer or out of range"}, 0) end
    end
    local current
    if name == "hincrby" then current = __raw("hget", args[1], args[2]) else current = __raw("get", args[1]) end
    if current and not __is_int(current) then
      if name == "hincrby" then error({err = "ERR hash value is not an integer"}, 0) end
      error({err = "ERR value is not an integer or out of range"}, 0)
    end
  end
  if name == "hgetall" then
    local fields = __from_js(__raw("hkeys", args[1]), 0, true)
    local out = {}
    if #fields > 0 then
      local values = __from_js(__raw("hmget", args[1], table.unpack(fields)), 0, true)
      for i = 1, #fields do
        out[2 * i - 1] = fields[i]
        out[2 * i] = values[i]
      end
    end
    return out
  end
  local res = __from_js(__raw(name, table.unpack(args, 1, n)), 0, not __ints[name])
  if res == false and name == "get" and __raw("exists", args[1]) == 1 then res = "" end
  if res == false and name == "hget" and __raw("hexists", args[1], args[2]) == 1 then res = "" end
  if __removes[name] then __drop_if_empty(args[1]) end
  if __status[name] and type(res) == "string" then return {ok = res} end
  return res
end
redis.call = function(cmd, ...)
  local ok, res = pcall(__call, cmd, ...)
  if ok then return res end
  local level, line = 2, 0
  while line <= 0 do
    local info = debug.getinfo(level, "l")
    if not info then break end
    line = info.currentline
    level = level + 1
  end
  error({err = __err(res), line = math.max(line, 0)}, 0)
end
redis.pcall = function(cmd, ...)
  local ok, res = pcall(__call, cmd, ...)
  if ok then return res end
  return {err = __err(res)}
end
redis.error_reply = function(message) return {err = message} end
redis.status_reply = function(message) return {ok = message} end
redis.log = function() end
redis.LOG_DEBUG = 0
redis.LOG_VERBOSE = 1
redis.LOG_NOTICE = 2
redis.LOG_WARNING = 3
redis.setresp = function() end
redis.set_repl = function() end
redis.replicate_commands = function() return true end
redis.REPL_NONE = 0
redis.REPL_AOF = 1
redis.REPL_SLAVE = 2
redis.REPL_REPLICA = 2
redis.REPL_ALL = 3
local function __hex(s)
  return (string.gsub(s, ".", function(c) return string.format("%02x", string.byte(c)) end))
end
local function __encode(v)
  local t = type(v)
  if t == "string" then return '"' .. __hex(v) .. '"' end
  if t == "number" then
    if v ~= v then return "0" end
    local n = math.ceil(v)
    if v >= 0 then n = math.floor(v) end
    if math.type(n) == "integer" then return tostring(n) end
    return string.format("%.0f", n)
  end
  if t == "boolean" then
    if v then return "1" end
    return "null"
  end
  if t == "table" then
    if type(v.err) == "string" then return '{"e":"' .. __hex(v.err) .. '"}' end
    if type(v.ok) == "string" then return '{"s":"' .. __hex(v.ok) .. '"}' end
    local parts = {}
    local i = 1
    while rawget(v, i) ~= nil do
      parts[i] = __encode(rawget(v, i))
      i = i + 1
    end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  return "null"
end
local function __error_text(e, sha)
  if type(e) == "table" and type(e.err) == "string" then
    if e.line then return e.err .. " script: " .. sha .. ", on @user_script:" .. e.line .. "." end
    return e.err
  end
  local s = tostring(e)
  local line, message = string.match(s, '^%[string ".-"%]:(%d+): (.*)$')
  if line then
    return "ERR user_script:" .. line .. ": " .. message .. " script: " .. sha .. ", on @user_script:" .. line .. "."
  end
  return "ERR " .. s
end`
}

let cachedPrelude: { tables: LuaCommandTables; line: string } | undefined

function preludeLine(tables: LuaCommandTables): string {
  if (cachedPrelude?.tables !== tables) {
    cachedPrelude = { tables, line: preludeSource(tables).trim().split('\n').map((line) => line.trim()).join(' ') }
  }
  return cachedPrelude.line
}

/**
 * Wraps a script (shebang already removed) as one chunk: the prelude and the opening of a
 * protected function share line 1 with the script's own first line, so line numbers in error
 * messages are the script's. Run once, the chunk installs the prelude and returns the runner: a
 * function that runs the script and returns "R" + the JSON-encoded result or "E" + the error.
 */
function buildProgram(body: string, sha: string, tables: LuaCommandTables): string {
  return (
    `${preludeLine(tables)} return function() local __ok, __res = pcall(function() ${body}\n` +
    `end) if __ok then return "R" .. __encode(__res) end return "E" .. __hex(__error_text(__res, "${sha}")) end`
  )
}

/** Decodes the prelude's encoding: strings as hex, errors as {e}, status replies as {s}. */
function fromEncoded(value: unknown): Reply {
  if (value === null || typeof value === 'number') return value
  if (typeof value === 'string') return Buffer.from(value, 'hex')
  if (Array.isArray(value)) return value.map(fromEncoded)
  if (typeof value === 'object') {
    const { e, s } = value as { e?: unknown; s?: unknown }
    if (typeof e === 'string') return new RedisReplyError(Buffer.from(e, 'hex').toString('utf8'))
    if (typeof s === 'string') return Buffer.from(s, 'hex')
  }
  throw new Error(`unexpected script result encoding: ${JSON.stringify(value)}`)
}

/** Runs a compiled chunk (see embedded-lua-engine.ts): `key` names its compiled form. */
export interface LuaRunner {
  run(key: string, program: string, keys: readonly string[], argv: readonly string[]): unknown
}

/**
 * Runs a script body (without shebang) with KEYS and ARGV; `sha` is the SHA-1 the client knows
 * the script by, quoted in error messages as Redis does ("… script: <sha>, on @user_script:N.").
 * The script is compiled once per SHA-1 and kept.
 */
export async function runLuaScript(
  engine: LuaRunner,
  body: string,
  sha: string,
  keys: string[],
  argv: string[],
  tables: LuaCommandTables,
): Promise<Reply> {
  let output: unknown
  try {
    output = engine.run(sha, buildProgram(body, sha, tables), keys, argv)
  } catch (error) {
    // Only compilation errors get here: runtime errors are caught inside the chunk.
    const text = error instanceof Error ? error.message : String(error)
    const position = /\[string ".*?"\]:(\d+): (.*)$/s.exec(text)
    return new RedisReplyError(
      position ? `ERR Error compiling script (new function): user_script:${position[1]}: ${position[2]}` : `ERR ${text}`,
    )
  }
  if (typeof output !== 'string' || output.length === 0) throw new Error('the Lua prelude returned no result')
  if (output.startsWith('E')) return new RedisReplyError(Buffer.from(output.slice(1), 'hex').toString('utf8'))
  return fromEncoded(JSON.parse(output.slice(1)))
}
