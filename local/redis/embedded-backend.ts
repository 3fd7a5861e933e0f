import type { RedisBackend } from './backend.ts'
import { queueingError, runEmbeddedCommand } from './embedded-commands.ts'
import { EmbeddedStore } from './embedded-store.ts'
import { EXECABORT } from './errors.ts'
import { type Reply, RedisReplyError } from './reply.ts'
import type { Command } from './request.ts'

/**
 * An in-process Redis built on ioredis-mock, for machines without a Redis server. Requests run
 * one at a time, so a transaction or a script is never interleaved with another request, as
 * with Redis's single command thread.
 */
export class EmbeddedBackend implements RedisBackend {
  readonly description = 'embedded in-memory store (ioredis-mock)'
  #store = new EmbeddedStore()
  #queue: Promise<unknown> = Promise.resolve()

  exec(command: Command): Promise<Reply> {
    return this.#exclusive(() => runEmbeddedCommand(this.#store, command))
  }

  pipeline(commands: Command[]): Promise<Reply[]> {
    return this.#exclusive(async () => {
      const replies: Reply[] = []
      for (const command of commands) replies.push(await runEmbeddedCommand(this.#store, command))
      return replies
    })
  }

  transaction(commands: Command[]): Promise<Reply[] | RedisReplyError> {
    return this.#exclusive(async () => {
      // Redis refuses to queue unknown commands and wrong arities, then discards the transaction.
      if (commands.some((command) => queueingError(this.#store, command))) return new RedisReplyError(EXECABORT)
      const replies: Reply[] = []
      for (const command of commands) replies.push(await runEmbeddedCommand(this.#store, command))
      return replies
    })
  }

  close(): Promise<void> {
    return this.#exclusive(() => this.#store.close())
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task)
    this.#queue = run.catch(() => undefined)
    return run
  }
}
