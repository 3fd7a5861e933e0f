const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const
export type LogLevel = keyof typeof LEVELS
type Fields = Record<string, unknown>

/** Structured JSON logs, one object per line (Workers Logs and `wrangler tail` index the fields). */
export interface Logger {
  debug(msg: string, fields?: Fields): void
  info(msg: string, fields?: Fields): void
  warn(msg: string, fields?: Fields): void
  error(msg: string, fields?: Fields): void
  child(fields: Fields): Logger
}

function serialiseError(err: unknown): unknown {
  if (!(err instanceof Error)) return err
  const cause = err.cause === undefined ? undefined : serialiseError(err.cause)
  return { name: err.name, message: err.message, stack: err.stack, cause }
}

export function createLogger(level: LogLevel, base: Fields = {}): Logger {
  const threshold = LEVELS[level]
  const write = (at: Exclude<LogLevel, 'silent'>, msg: string, fields?: Fields) => {
    if (LEVELS[at] < threshold) return
    const entry: Fields = { level: at, msg, time: new Date().toISOString(), ...base, ...fields }
    if (entry.err !== undefined) entry.err = serialiseError(entry.err)
    const line = JSON.stringify(entry)
    if (at === 'error') console.error(line)
    else if (at === 'warn') console.warn(line)
    else console.log(line)
  }
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger(level, { ...base, ...fields }),
  }
}
