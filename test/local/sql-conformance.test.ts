// Conformance of the local Neon SQL-over-HTTP endpoint: the real @neondatabase/serverless client
// (and drizzle-orm/neon-http) against it must see what pg sees when it asks the same database.
// Embedded PGlite by default; with ATRIUM_LOCAL_POSTGRES_URL set, a fresh database on that server.

import { NeonDbError, neon, neonConfig, type NeonQueryFunction } from '@neondatabase/serverless'
import { sql as dsql } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/neon-http'
import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type SqlServer, startSqlServer } from '../../local/sql-server.ts'

const adminUrl = process.env.ATRIUM_LOCAL_POSTGRES_URL
const runDatabase = `atrium_sqlconf_${process.pid}_${Date.now().toString(36)}`

let server: SqlServer
let direct: pg.Client
let sql: NeonQueryFunction<false, false>

async function withAdmin(statement: string): Promise<void> {
  const admin = new pg.Client(adminUrl)
  await admin.connect()
  try {
    await admin.query(statement)
  } finally {
    await admin.end()
  }
}

beforeAll(async () => {
  let postgresUrl: string | undefined
  if (adminUrl) {
    await withAdmin(`CREATE DATABASE ${runDatabase}`)
    const url = new URL(adminUrl)
    url.pathname = `/${runDatabase}`
    postgresUrl = url.toString()
  }
  server = await startSqlServer({ port: 0, postgresUrl })
  neonConfig.fetchEndpoint = server.url
  // The client always sends this as Neon-Connection-String; the local server accepts and ignores it.
  sql = neon('postgresql://atrium:secret@ep-local-123.atrium.local/atrium?sslmode=require')
  direct = new pg.Client(server.directUrl)
  await direct.connect()
  await direct.query(`
    CREATE TABLE conf_users (id int PRIMARY KEY, email text NOT NULL CONSTRAINT conf_users_email_key UNIQUE, nick varchar(20));
    CREATE TABLE conf_items (id int PRIMARY KEY, name text NOT NULL, tags text[], created_at timestamptz NOT NULL DEFAULT now());
  `)
}, 60_000)

// Clean-up only: a step that hangs is reported, not failed, and the next still runs. On a loaded
// machine with the Worker suite writing to the same server, DROP DATABASE waits for an immediate
// checkpoint, which has taken over a minute.
afterAll(async () => {
  await settleWithin(30_000, 'closing the direct connection', async () => direct?.end())
  await settleWithin(30_000, 'closing the endpoint', async () => server?.close())
  if (adminUrl) await settleWithin(120_000, `dropping ${runDatabase}`, () => withAdmin(`DROP DATABASE IF EXISTS ${runDatabase} WITH (FORCE)`))
}, 200_000)

async function settleWithin(ms: number, step: string, run: () => Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)))
  try {
    if ((await Promise.race([run(), late])) === 'late') console.warn(`sql-conformance clean-up: ${step} did not finish within ${ms} ms; continuing`)
  } finally {
    clearTimeout(timer)
  }
}

beforeEach(async () => {
  await direct.query('TRUNCATE conf_users, conf_items')
  await fetch(new URL('/__atrium/faults', server.url), { method: 'POST', body: '{"mode":"off"}' })
})

/** POSTs to the endpoint without the client, to observe the wire format itself. */
async function post(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(server.url, { method: 'POST', body: JSON.stringify(body), headers })
  return { response, json: (await response.json()) as Record<string, unknown> }
}

async function admin(path: string, body?: unknown) {
  const response = await fetch(new URL(path, server.url), {
    method: body === undefined ? 'GET' : 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: response.status, json: (await response.json()) as Record<string, unknown> }
}

async function rejection(promise: Promise<unknown>): Promise<NeonDbError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(Error)
  // Drizzle wraps driver errors as DrizzleQueryError(query, params, cause).
  const cause = (error as { cause?: unknown }).cause ?? error
  expect(cause).toBeInstanceOf(NeonDbError)
  return cause as NeonDbError
}

describe('values through neon() match pg on the same database', () => {
  const timestamp = new Date('2024-02-29T12:34:56.789Z')
  const corpus: { name: string; query: string; params: unknown[]; expected: Record<string, unknown> }[] = [
    { name: 'int2', query: 'SELECT 32767::int2 AS v, $1::int2 AS p', params: [-7], expected: { v: 32767, p: -7 } },
    { name: 'int4', query: 'SELECT $1::int4 AS v', params: [-2147483648], expected: { v: -2147483648 } },
    {
      name: 'int8 beyond 2^53 stays a string',
      query: 'SELECT 9007199254740993::int8 AS v, $1::int8 AS p',
      params: ['-9223372036854775808'],
      expected: { v: '9007199254740993', p: '-9223372036854775808' },
    },
    {
      name: 'numeric keeps its scale',
      query: 'SELECT $1::numeric(12,6) AS v, 0.1::numeric + 0.2 AS s',
      params: ['12345.6789'],
      expected: { v: '12345.678900', s: '0.3' },
    },
    { name: 'float8', query: 'SELECT 1.5::float8 AS v, $1::float8 AS p', params: [-0.25], expected: { v: 1.5, p: -0.25 } },
    { name: 'bool', query: 'SELECT true AS t, $1::bool AS f', params: [false], expected: { t: true, f: false } },
    {
      name: 'text with quotes, backslashes and non-ASCII',
      query: 'SELECT $1::text AS v',
      params: [`héllo "wörld" 🚀 \\ ' {x,y}`],
      expected: { v: `héllo "wörld" 🚀 \\ ' {x,y}` },
    },
    {
      name: 'uuid',
      query: 'SELECT $1::uuid AS v',
      params: ['0B8F6B8E-3C7A-4F6E-9A51-6C1D2E3F4A5B'],
      expected: { v: '0b8f6b8e-3c7a-4f6e-9a51-6c1d2e3f4a5b' },
    },
    {
      name: 'json from an object parameter',
      query: 'SELECT $1::json AS v',
      params: [{ a: 1, b: [true, null, 'x'] }],
      expected: { v: { a: 1, b: [true, null, 'x'] } },
    },
    {
      name: 'jsonb',
      query: `SELECT '{"b": 2, "a": [1, "x", {"c": null}]}'::jsonb AS v`,
      params: [],
      expected: { v: { a: [1, 'x', { c: null }], b: 2 } },
    },
    {
      name: 'int[] with a NULL element',
      query: 'SELECT $1::int[] AS v, ARRAY[[1,2],[3,4]] AS m',
      params: [[1, 2, null, 4]],
      expected: { v: [1, 2, null, 4], m: [[1, 2], [3, 4]] },
    },
    {
      name: 'text[] needing quotes',
      query: 'SELECT $1::text[] AS v',
      params: [['a', 'b c', 'quo"te', 'back\\slash', null, '', 'NULL']],
      expected: { v: ['a', 'b c', 'quo"te', 'back\\slash', null, '', 'NULL'] },
    },
    {
      name: 'timestamptz from a Date parameter',
      query: 'SELECT $1::timestamptz AS v',
      params: [timestamp],
      expected: { v: timestamp },
    },
    {
      name: 'date',
      query: `SELECT '2024-02-29'::date AS v`,
      params: [],
      expected: { v: new Date(2024, 1, 29) },
    },
    {
      name: 'bytea from a Buffer parameter',
      query: 'SELECT $1::bytea AS v, length($1::bytea) AS n',
      params: [Buffer.from([0, 1, 127, 128, 254, 255])],
      expected: { v: Buffer.from([0, 1, 127, 128, 254, 255]), n: 6 },
    },
    {
      name: 'NULL literal and NULL parameter',
      query: 'SELECT NULL::text AS a, $1::int AS b, $2::text IS NULL AS c',
      params: [null, null],
      expected: { a: null, b: null, c: true },
    },
  ]

  for (const { name, query, params, expected } of corpus) {
    it(`returns ${name} as pg does`, async () => {
      const viaNeon = await sql.query(query, params)
      const viaPg = await direct.query(query, params)
      expect(viaNeon).toHaveLength(1)
      expect({ ...viaNeon[0] }).toEqual(expected)
      for (const [key, value] of Object.entries(expected)) {
        // Compare bytes, not Buffer classes: the driver bundles its own Buffer polyfill.
        if (Buffer.isBuffer(value)) expect(Buffer.from(viaNeon[0]![key] as Uint8Array)).toEqual(viaPg.rows[0][key])
        else expect(viaNeon[0]![key]).toEqual(viaPg.rows[0][key])
      }
    })
  }

  it('returns table rows and field metadata (table OID, column number, typmod) as pg does', async () => {
    await direct.query(`INSERT INTO conf_users VALUES (1, 'a@x.test', 'ann'), (2, 'b@x.test', NULL)`)
    const query = 'SELECT id, email, nick FROM conf_users WHERE id >= $1 ORDER BY id'
    const viaNeon = await sql.query(query, [1], { fullResults: true })
    const viaPg = await direct.query(query, [1])
    expect(viaNeon.rows).toEqual([
      { id: 1, email: 'a@x.test', nick: 'ann' },
      { id: 2, email: 'b@x.test', nick: null },
    ])
    expect(viaNeon.rows).toEqual(viaPg.rows)
    expect(viaNeon.command).toBe('SELECT')
    expect(viaNeon.rowCount).toBe(2)
    const pick = (f: pg.FieldDef) => ({
      name: f.name,
      dataTypeID: f.dataTypeID,
      tableID: f.tableID,
      columnID: f.columnID,
      dataTypeSize: f.dataTypeSize,
      dataTypeModifier: f.dataTypeModifier,
      format: f.format,
    })
    expect(viaNeon.fields.map(pick)).toEqual(viaPg.fields.map(pick))
    expect(viaNeon.fields[0]!.tableID).toBeGreaterThan(0)
    expect(viaNeon.fields.map((f) => [f.dataTypeID, f.columnID, f.dataTypeModifier])).toEqual([
      [23, 1, -1],
      [25, 2, -1],
      [1043, 3, 24],
    ])
  })
})

describe('result shapes', () => {
  it('returns rows as arrays in array mode', async () => {
    const rows = await sql.query('SELECT 1 AS a, $1::text AS b, NULL AS c', ['two'], { arrayMode: true })
    expect(rows).toEqual([[1, 'two', null]])
  })

  it('reports command and rowCount from the command tag', async () => {
    const insert = await sql.query(`INSERT INTO conf_items (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')`, [], {
      fullResults: true,
    })
    expect([insert.command, insert.rowCount, insert.rows, insert.fields]).toEqual(['INSERT', 3, [], []])
    const update = await sql.query(`UPDATE conf_items SET name = 'z' WHERE id > 1`, [], { fullResults: true })
    expect([update.command, update.rowCount]).toEqual(['UPDATE', 2])
    const ddl = await sql.query('CREATE TEMP TABLE IF NOT EXISTS conf_scratch (x int)', [], { fullResults: true })
    expect([ddl.command, ddl.rowCount]).toEqual(['CREATE', null])
  })

  it('sends objects keyed by name without Neon-Array-Mode, arrays with it, raw text with Neon-Raw-Text-Output', async () => {
    const query = { query: `SELECT 7::int8 AS n, '{1,2}'::int[] AS a, NULL::text AS z, true AS b`, params: [] }
    const objects = await post(query, { 'Neon-Raw-Text-Output': 'true' })
    expect(objects.json.rowAsArray).toBe(false)
    expect(objects.json.rows).toEqual([{ n: '7', a: '{1,2}', z: null, b: 't' }])
    const arrays = await post(query, { 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true' })
    expect(arrays.json.rowAsArray).toBe(true)
    expect(arrays.json.rows).toEqual([['7', '{1,2}', null, 't']])
    expect(arrays.json.fields).toEqual([
      { name: 'n', dataTypeID: 20, tableID: 0, columnID: 0, dataTypeSize: 8, dataTypeModifier: -1, format: 'text' },
      { name: 'a', dataTypeID: 1007, tableID: 0, columnID: 0, dataTypeSize: -1, dataTypeModifier: -1, format: 'text' },
      { name: 'z', dataTypeID: 25, tableID: 0, columnID: 0, dataTypeSize: -1, dataTypeModifier: -1, format: 'text' },
      { name: 'b', dataTypeID: 16, tableID: 0, columnID: 0, dataTypeSize: 1, dataTypeModifier: -1, format: 'text' },
    ])
    // Without raw text output the proxy converts to JSON types itself (int8 stays a string).
    const typed = await post(query)
    expect(typed.json.rows).toEqual([{ n: '7', a: [1, 2], z: null, b: true }])
  })

  it('lets a statement override the array mode header with its own arrayMode field', async () => {
    const { json } = await post({ query: 'SELECT 1 AS one', arrayMode: false }, { 'Neon-Array-Mode': 'true' })
    expect(json.rows).toEqual([{ one: 1 }])
  })

  it('does not let a stray BEGIN keep the pooled connection inside a transaction', async () => {
    await sql`BEGIN`
    // A transaction-local setting outlives its statement only if a transaction is still open.
    await sql`SELECT set_config('atrium.marker', 'leaked', true)`
    const [row] = await sql`SELECT current_setting('atrium.marker', true) AS marker`
    expect(row!.marker).not.toBe('leaked')
  })
})

describe('errors', () => {
  it('surfaces a unique violation as NeonDbError with code, constraint and detail', async () => {
    await sql`INSERT INTO conf_users (id, email) VALUES (1, 'dup@x.test')`
    const error = await rejection(sql`INSERT INTO conf_users (id, email) VALUES (2, 'dup@x.test')`)
    expect(error.message).toBe('duplicate key value violates unique constraint "conf_users_email_key"')
    expect(error.code).toBe('23505')
    expect(error.constraint).toBe('conf_users_email_key')
    expect(error.table).toBe('conf_users')
    expect(error.schema).toBe('public')
    expect(error.severity).toBe('ERROR')
    expect(error.detail).toBe('Key (email)=(dup@x.test) already exists.')
  })

  it('surfaces a syntax error as 42601 with its position', async () => {
    const error = await rejection(sql.query('SELECT 1 FRM conf_users'))
    expect(error.code).toBe('42601')
    expect(error.position).toBe('14')
    expect(error.message).toBe('syntax error at or near "conf_users"')
  })

  it('refuses several statements in one query, as the proxy’s extended protocol does', async () => {
    const error = await rejection(sql.query('SELECT 1; SELECT 2'))
    expect(error.code).toBe('42601')
    expect(error.message).toBe('cannot insert multiple commands into a prepared statement')
  })

  it('answers the full error body with HTTP 400 and CORS', async () => {
    const { response, json } = await post({ query: 'SELECT 1/0' })
    expect(response.status).toBe(400)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(json).toMatchObject({ message: 'division by zero', code: '22012', severity: 'ERROR', constraint: null })
    expect(Object.keys(json).sort()).toEqual(
      [
        'message', 'code', 'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'severity', 'where',
        'table', 'column', 'schema', 'dataType', 'constraint', 'file', 'line', 'routine',
      ].sort(),
    )
  })

  it('answers malformed requests with 400 and a message', async () => {
    const notJson = await fetch(server.url, { method: 'POST', body: '{"query": ' })
    expect(notJson.status).toBe(400)
    expect(((await notJson.json()) as { message: string }).message).toMatch(/^could not parse the HTTP request body/)
    const noQuery = await post({ params: ['1'] })
    expect(noQuery.response.status).toBe(400)
    expect(noQuery.json.message).toMatch(/^could not parse the HTTP request body/)
    const badParams = await post({ query: 'SELECT $1', params: 'x' })
    expect(badParams.response.status).toBe(400)
  })

  it('answers OPTIONS /sql with 200 and CORS headers', async () => {
    const response = await fetch(server.url, { method: 'OPTIONS' })
    expect(response.status).toBe(200)
    expect(response.headers.get('access-control-allow-origin')).toBe('*')
    expect(response.headers.get('access-control-allow-headers')).toContain('Neon-Connection-String')
    const ok = await post({ query: 'SELECT 1' })
    expect(ok.response.headers.get('access-control-allow-origin')).toBe('*')
  })
})

describe('batches', () => {
  const items = pgTable('conf_items', {
    id: integer('id').primaryKey(),
    name: text('name').notNull(),
    tags: text('tags').array(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  })
  const db = () => drizzle({ client: sql })
  const countItems = async () => Number((await direct.query('SELECT count(*) AS n FROM conf_items')).rows[0].n)

  it('runs a drizzle batch in one transaction and returns each result', async () => {
    const [inserted, rows] = await db().batch([
      db()
        .insert(items)
        .values({ id: 1, name: 'one', tags: ['a', 'b c'] })
        .returning({ id: items.id, tags: items.tags }),
      db().select({ id: items.id, name: items.name, createdAt: items.createdAt }).from(items),
    ])
    expect(inserted).toEqual([{ id: 1, tags: ['a', 'b c'] }])
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ id: 1, name: 'one' })
    const stored = await direct.query('SELECT created_at FROM conf_items WHERE id = 1')
    expect(rows[0]!.createdAt).toEqual(stored.rows[0].created_at)
  })

  it('leaves no trace of a drizzle batch whose third statement fails', async () => {
    const error = await rejection(
      db().batch([
        db().insert(items).values({ id: 1, name: 'one' }),
        db().insert(items).values({ id: 2, name: 'two' }),
        db().insert(items).values({ id: 1, name: 'duplicate' }),
      ]),
    )
    expect(error.code).toBe('23505')
    expect(error.constraint).toBe('conf_items_pkey')
    expect(await countItems()).toBe(0)
  })

  it('leaves no trace of a neon transaction whose third statement fails', async () => {
    const error = await rejection(
      sql.transaction([
        sql`INSERT INTO conf_items (id, name) VALUES (1, 'one')`,
        sql`UPDATE conf_items SET name = 'changed'`,
        sql`INSERT INTO conf_items (id, name) VALUES (3, NULL)`,
      ]),
    )
    expect(error.code).toBe('23502')
    expect(await countItems()).toBe(0)
    // The connection is usable afterwards (not left in an aborted transaction).
    expect(await sql`SELECT 1 AS ok`).toEqual([{ ok: 1 }])
  })

  it('opens the transaction with the requested isolation level, read-only and deferrable modes', async () => {
    const show = (options: Parameters<typeof sql.transaction>[1]) =>
      sql.transaction(
        [
          sql`SELECT current_setting('transaction_isolation') AS v`,
          sql`SELECT current_setting('transaction_read_only') AS v`,
          sql`SELECT current_setting('transaction_deferrable') AS v`,
        ],
        options,
      )
    expect((await show({})).flat()).toEqual([{ v: 'read committed' }, { v: 'off' }, { v: 'off' }])
    expect((await show({ isolationLevel: 'RepeatableRead' })).flat()[0]).toEqual({ v: 'repeatable read' })
    expect((await show({ isolationLevel: 'ReadUncommitted' })).flat()[0]).toEqual({ v: 'read uncommitted' })
    expect((await show({ isolationLevel: 'Serializable', readOnly: true, deferrable: true })).flat()).toEqual([
      { v: 'serializable' },
      { v: 'on' },
      { v: 'on' },
    ])
    // The client sends "false" for readOnly: false; only the exact string "true" counts.
    expect((await show({ readOnly: false, deferrable: false })).flat()).toEqual([
      { v: 'read committed' },
      { v: 'off' },
      { v: 'off' },
    ])
  })

  it('echoes the transaction options as response headers on a batch', async () => {
    const { response, json } = await post(
      { queries: [{ query: 'SELECT 1 AS a', params: [] }, { query: 'SELECT $1::text AS b', params: ['x'] }] },
      { 'Neon-Batch-Isolation-Level': 'Serializable', 'Neon-Batch-Read-Only': 'true', 'Neon-Raw-Text-Output': 'true' },
    )
    expect(response.status).toBe(200)
    expect(response.headers.get('neon-batch-isolation-level')).toBe('Serializable')
    expect(response.headers.get('neon-batch-read-only')).toBe('true')
    expect((json.results as { rows: unknown[] }[]).map((r) => r.rows)).toEqual([[{ a: '1' }], [{ b: 'x' }]])
  })

  it('rejects an unknown isolation level with 400', async () => {
    const error = await rejection(
      sql.transaction([sql`SELECT 1`], { isolationLevel: 'Chaotic' as 'Serializable' }),
    )
    expect(error.message).toBe('invalid isolation level')
    const { response } = await post({ queries: [] }, { 'Neon-Batch-Isolation-Level': 'serializable' })
    expect(response.status).toBe(400)
  })

  it('refuses a write inside a read-only batch and keeps nothing', async () => {
    const error = await rejection(
      sql.transaction([sql`SELECT 1`, sql`INSERT INTO conf_items (id, name) VALUES (1, 'x')`], { readOnly: true }),
    )
    expect(error.code).toBe('25006')
    expect(await countItems()).toBe(0)
  })
})

describe('fault injection and stats', () => {
  const elapsed = async (run: () => Promise<unknown>) => {
    const started = performance.now()
    await run()
    return performance.now() - started
  }

  it('fails the next requests with the given status, then recovers', async () => {
    expect(await admin('/__atrium/faults', { mode: 'fail', status: 503, count: 2 })).toEqual({
      status: 200,
      json: { ok: true },
    })
    for (let i = 0; i < 2; i++) {
      const error = await sql`SELECT 1`.then(
        () => undefined,
        (e: unknown) => e as Error,
      )
      expect(error).toBeInstanceOf(NeonDbError)
      expect(error!.message).toBe('Server error (HTTP status 503): {"message":"injected failure"}')
    }
    expect(await sql`SELECT 1 AS ok`).toEqual([{ ok: 1 }])
  })

  it('lets `after` requests pass first and fails until turned off without `count`', async () => {
    await admin('/__atrium/faults', { mode: 'fail', status: 500, after: 1 })
    expect(await sql`SELECT 1 AS ok`).toEqual([{ ok: 1 }])
    for (let i = 0; i < 3; i++) {
      const { response, json } = await post({ query: 'SELECT 1' })
      expect([response.status, json]).toEqual([500, { message: 'injected failure' }])
    }
    await admin('/__atrium/faults', { mode: 'off' })
    expect(await sql`SELECT 2 AS ok`).toEqual([{ ok: 2 }])
  })

  it('delays requests by delayMs and then serves them normally', async () => {
    await admin('/__atrium/faults', { mode: 'delay', delayMs: 400, count: 1 })
    let rows: unknown
    const slow = await elapsed(async () => (rows = await sql`SELECT 41 + 1 AS answer`))
    expect(rows).toEqual([{ answer: 42 }])
    expect(slow).toBeGreaterThanOrEqual(390)
    const fast = await elapsed(() => sql`SELECT 1`)
    expect(fast).toBeLessThan(390)
  })

  it('counts protocol requests, not admin requests, and resets the count', async () => {
    expect(await admin('/__atrium/stats/reset', {})).toEqual({ status: 200, json: { ok: true } })
    await sql`SELECT 1`
    await sql.transaction([sql`SELECT 1`, sql`SELECT 2`])
    await admin('/__atrium/faults', { mode: 'fail', count: 1 })
    await sql`SELECT 1`.catch(() => undefined)
    expect(await admin('/__atrium/stats')).toEqual({ status: 200, json: { requests: 3 } })
    await admin('/__atrium/stats/reset', {})
    expect((await admin('/__atrium/stats')).json).toEqual({ requests: 0 })
  })

  it('rejects an invalid fault configuration', async () => {
    expect((await admin('/__atrium/faults', { mode: 'explode' })).status).toBe(400)
    expect((await admin('/__atrium/faults', { mode: 'fail', count: -1 })).status).toBe(400)
    expect(await sql`SELECT 1 AS ok`).toEqual([{ ok: 1 }])
  })
})

describe('drizzle through the endpoint', () => {
  it('runs builder queries and raw sql with parameters', async () => {
    const db = drizzle({ client: sql })
    const users = pgTable('conf_users', { id: integer('id').primaryKey(), email: text('email').notNull() })
    await db.insert(users).values([
      { id: 1, email: 'a@x.test' },
      { id: 2, email: 'b@x.test' },
    ])
    const found = await db.select().from(users).where(dsql`${users.email} LIKE ${'b%'}`)
    expect(found).toEqual([{ id: 2, email: 'b@x.test' }])
    const result = await db.execute(dsql`SELECT count(*)::int AS n FROM conf_users`)
    expect(result.rows).toEqual([{ n: 2 }])
  })
})
