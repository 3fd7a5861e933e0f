import type { Reply, RedisReplyError } from './reply.ts'
import type { Command } from './request.ts'

/**
 * Where the REST endpoint runs commands. Error replies are returned as `RedisReplyError`
 * values; only infrastructure failures (a lost connection) are thrown.
 */
export interface RedisBackend {
  /** Says what the endpoint talks to, for its start-up log line. */
  readonly description: string
  /** Runs one command. */
  exec(command: Command): Promise<Reply>
  /** Runs commands in order, each independently of the others' failures. */
  pipeline(commands: Command[]): Promise<Reply[]>
  /** Runs commands as one MULTI/EXEC transaction; an EXECABORT error when Redis discards it. */
  transaction(commands: Command[]): Promise<Reply[] | RedisReplyError>
  close(): Promise<void>
}
