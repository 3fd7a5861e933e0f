// Without `Neon-Raw-Text-Output: true` the proxy turns Postgres text output into JSON values
// (neondatabase/neon proxy/src/serverless/json.rs, pg_text_to_json): bool → boolean,
// int2/int4 → number, float4/float8 → number (NaN and ±Infinity stay strings), json/jsonb → parsed,
// arrays → JSON arrays of converted elements; everything else (int8, numeric, dates…) stays a string.
// The official client always asks for raw text, so this path only serves other HTTP callers.

const BOOL = 16
const INT2 = 21
const INT4 = 23
const FLOAT4 = 700
const FLOAT8 = 701
const JSON_OID = 114
const JSONB = 3802

/** Converts one non-null text value; `elementType` is the element OID when the column is an array. */
export function pgTextToJson(text: string, type: number, elementType: number | undefined): unknown {
  if (elementType !== undefined) return parseArray(text, elementType)
  switch (type) {
    case BOOL:
      return text === 't'
    case INT2:
    case INT4:
      return Number.parseInt(text, 10)
    case FLOAT4:
    case FLOAT8: {
      const value = Number(text)
      return Number.isFinite(value) ? value : text
    }
    case JSON_OID:
    case JSONB:
      return JSON.parse(text)
    default:
      return text
  }
}

/** Parses Postgres array output (https://www.postgresql.org/docs/current/arrays.html#ARRAYS-IO). */
function parseArray(text: string, elementType: number): unknown[] {
  let pos = 0
  // Bounds decoration such as `[0:1]={…}` has no JSON equivalent; the proxy drops it too.
  if (text.startsWith('[')) pos = text.indexOf('=') + 1
  const fail = (): never => {
    throw new Error(`could not parse postgres array output: ${text}`)
  }
  const skipSpace = () => {
    while (text[pos] === ' ') pos++
  }

  const parseLevel = (): unknown[] => {
    skipSpace()
    if (text[pos] !== '{') fail()
    pos++
    const items: unknown[] = []
    skipSpace()
    if (text[pos] === '}') {
      pos++
      return items
    }
    for (;;) {
      skipSpace()
      if (text[pos] === '{') {
        items.push(parseLevel())
      } else if (text[pos] === '"') {
        pos++
        let value = ''
        while (text[pos] !== '"') {
          if (pos >= text.length) fail()
          if (text[pos] === '\\') pos++
          value += text[pos]
          pos++
        }
        pos++
        items.push(pgTextToJson(value, elementType, undefined))
      } else {
        const end = text.slice(pos).search(/[,}]/)
        if (end === -1) fail()
        const raw = text.slice(pos, pos + end).trimEnd()
        pos += end
        items.push(raw === 'NULL' ? null : pgTextToJson(raw, elementType, undefined))
      }
      skipSpace()
      if (text[pos] === ',') {
        pos++
        continue
      }
      if (text[pos] !== '}') fail()
      pos++
      return items
    }
  }

  const result = parseLevel()
  skipSpace()
  if (pos !== text.length) fail()
  return result
}
