import type { EventEmitter } from 'node:events'
import pg from 'pg'
import type { QueryData, RequestOptions } from './request.ts'
import { pgTextToJson } from './text-to-json.ts'

// Runs statements the way the Neon proxy does (proxy/src/serverless/sql_over_http.rs,
// query_to_json / BatchQueryData::process) and shapes its JSON reply.

export interface FieldJson {
  name: string
  dataTypeID: number
  tableID: number
  columnID: number
  dataTypeSize: number
  dataTypeModifier: number
  format: 'text'
}

export interface ResultJson {
  command: string
  rowCount: number | null
  rowAsArray: boolean
  fields: FieldJson[]
  rows: unknown[]
}

type TextRow = (string | null)[]

export class SqlExecutor {
  readonly #pool: pg.Pool
  /** ReadyForQuery status ('I' idle, 'T' in transaction, 'E' failed transaction) per connection. */
  readonly #status = new WeakMap<pg.ClientBase, string>()
  /** Array element type per type OID (null: not an array); only used without raw text output. */
  readonly #elementTypes = new Map<number, number | null>()

  constructor(pool: pg.Pool) {
    this.#pool = pool
    pool.on('connect', (client) => {
      // pg keeps the ReadyForQuery status to itself; its Connection emits every backend message.
      const connection = (client as unknown as { connection: EventEmitter }).connection
      connection.on('readyForQuery', (message: { status: string }) => this.#status.set(client, message.status))
    })
  }

  /** One statement in its own implicit transaction. */
  async single(statement: QueryData, options: RequestOptions): Promise<ResultJson> {
    const client = await this.#pool.connect()
    let broken = false
    try {
      return await this.#run(client, statement, options)
    } catch (error) {
      broken = !(error instanceof pg.DatabaseError)
      throw error
    } finally {
      // The proxy drops a pooled connection that a statement left inside a transaction
      // (Discard::check_idle); rolling back leaves the same state behind.
      if (!broken && this.#status.get(client) !== 'I') {
        await client.query('ROLLBACK').catch(() => (broken = true))
      }
      client.release(broken)
    }
  }

  /** All statements in one transaction opened with the request's options; rolled back on any error. */
  async batch(statements: QueryData[], options: RequestOptions): Promise<{ results: ResultJson[] }> {
    const client = await this.#pool.connect()
    let broken = false
    try {
      await client.query(options.begin)
      const results: ResultJson[] = []
      try {
        for (const statement of statements) results.push(await this.#run(client, statement, options))
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => (broken = true))
        throw error
      }
      return { results }
    } catch (error) {
      broken ||= !(error instanceof pg.DatabaseError)
      throw error
    } finally {
      client.release(broken)
    }
  }

  async #run(client: pg.PoolClient, statement: QueryData, options: RequestOptions): Promise<ResultJson> {
    // The proxy always uses the extended protocol (query_raw_txt), so several statements in one
    // query fail with 42601 as on Neon; pg alone would use the simple protocol without parameters.
    const config = { text: statement.query, values: statement.params, rowMode: 'array', queryMode: 'extended' }
    const result = await client.query<TextRow>(config as pg.QueryArrayConfig)
    const fields: FieldJson[] = result.fields.map((f) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: 'text',
    }))
    let rows: unknown[][] = result.rows
    if (!options.rawTextOutput) {
      const elementTypes: (number | null)[] = []
      for (const field of fields) elementTypes.push(await this.#elementType(client, field.dataTypeID))
      rows = result.rows.map((row) =>
        row.map((value, i) =>
          value === null ? null : pgTextToJson(value, fields[i]!.dataTypeID, elementTypes[i] ?? undefined),
        ),
      )
    }
    const rowAsArray = statement.arrayMode ?? options.arrayMode
    return {
      // pg splits the command tag like the proxy's parse_command_tag: first word, then the row
      // count when the tag has one (`INSERT 0 5` → 5, `CREATE TABLE` → null).
      command: result.command ?? '',
      rowCount: result.rowCount ?? null,
      rowAsArray,
      fields,
      rows: rowAsArray ? rows : rows.map((row) => Object.fromEntries(row.map((v, i) => [fields[i]!.name, v]))),
    }
  }

  async #elementType(client: pg.PoolClient, type: number): Promise<number | null> {
    let element = this.#elementTypes.get(type)
    if (element === undefined) {
      const found = await client.query<TextRow>({
        text: "SELECT typelem FROM pg_type WHERE oid = $1 AND typcategory = 'A' AND typelem <> 0",
        values: [String(type)],
        rowMode: 'array',
      })
      const typelem = found.rows[0]?.[0]
      element = typelem ? Number(typelem) : null
      this.#elementTypes.set(type, element)
    }
    return element
  }
}
