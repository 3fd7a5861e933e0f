import { inArray, isNotNull, or, sql } from 'drizzle-orm'
import type { BatchItem } from 'drizzle-orm/batch'
import { tenantTables } from '../db/tenant-schema.ts'
import { decryptSecret, encryptSecret } from '../identity/secrets.ts'
import type { Database } from '../platform/database.ts'
import { generateSigningJwk, importVerifyKey, publicJwkOf, signingJwkOf, type PublicJwk, type SigningKeys } from '../platform/signing-keys.ts'
import type { Tenant } from './registry.ts'

/**
 * Every tenant signs its access tokens with its own ES512 key, so a token of one tenant can
 * never verify as another's, whatever its claims say, and a tenant's JWKS publishes only its
 * own keys. The private half is stored in the tenant's schema encrypted under
 * DATA_ENCRYPTION_KEY; JWT_PRIVATE_KEY stays the platform host's key (and verifies the tokens
 * a tenant's sessions got before the tenant had a key of its own, until they expire).
 */

/** The `aud` of a tenant's access tokens. */
export const tenantAudience = (tenantId: string) => `atrium:${tenantId}`

const keyContext = (tenantId: string, kid: string) => `signing_key:${tenantId}:${kid}`

export interface NewTenantKey {
  kid: string
  publicJwk: PublicJwk
  privateJwk: SigningKeys['privateJwk']
  privateKeyEnc: string
}

/** A fresh key for a tenant, its private half encrypted and bound to the tenant and the kid. */
export async function newTenantKey(dataKey: string, tenantId: string): Promise<NewTenantKey> {
  const { privateJwk, publicJwk } = await generateSigningJwk()
  const privateKeyEnc = await encryptSecret(dataKey, JSON.stringify(privateJwk), keyContext(tenantId, publicJwk.kid))
  return { kid: publicJwk.kid, publicJwk, privateJwk, privateKeyEnc }
}

/** The insert of a new current key: in the provisioning batch, or the rotation's. */
export function currentKeyInsert(db: Database, schemaName: string, key: NewTenantKey) {
  return db.insert(tenantTables(schemaName).signingKeys).values({ kid: key.kid, status: 'current', publicJwk: key.publicJwk, privateKeyEnc: key.privateKeyEnc })
}

export interface TenantKeySet {
  /** The current key, as `sign` wants it. */
  signer: SigningKeys['privateJwk']
  /** Keys whose tokens verify: current and previous, by kid. */
  verifyKeys: ReadonlyMap<string, CryptoKey>
  /** The public JWKS of the tenant: current first, then previous. */
  publicJwks: readonly PublicJwk[]
  /** When the tenant, created before per-tenant keys, got its first one (ms); null if it had one from the start. */
  adoptedAt: number | null
}

export interface TenantKeyDeps {
  db: Database
  dataKey: string
  /** SIGNING_KEY_CACHE_TTL_SECONDS: how long an isolate keeps a tenant's keys (another isolate's rotation shows within it). */
  cacheTtlSeconds: number
}

type KeyTenant = Pick<Tenant, 'id' | 'schemaName'>

/**
 * A tenant's keys, read from its schema. A tenant created before per-tenant keys has none: it
 * gets one here, by a conditional insert that at most one concurrent request wins (the
 * partial unique index on the current key), marked as adopted so that the platform-signed
 * tokens it issued before keep verifying until they expire.
 */
export async function loadTenantKeys(deps: Pick<TenantKeyDeps, 'db' | 'dataKey'>, tenant: KeyTenant): Promise<TenantKeySet> {
  const t = tenantTables(tenant.schemaName)
  const read = () =>
    deps.db.select().from(t.signingKeys).where(or(inArray(t.signingKeys.status, ['current', 'previous']), isNotNull(t.signingKeys.adoptedAt)))
  let rows = await read()
  if (!rows.some((r) => r.status === 'current')) {
    const key = await newTenantKey(deps.dataKey, tenant.id)
    await deps.db
      .insert(t.signingKeys)
      .values({ kid: key.kid, status: 'current', publicJwk: key.publicJwk, privateKeyEnc: key.privateKeyEnc, adoptedAt: sql`now()` })
      .onConflictDoNothing()
    rows = await read()
  }
  const current = rows.find((r) => r.status === 'current')
  if (!current?.privateKeyEnc) throw new Error(`tenant ${tenant.id} has no current signing key`)
  const previous = rows.filter((r) => r.status === 'previous')
  const signer = await signingJwkOf(JSON.parse(await decryptSecret(deps.dataKey, current.privateKeyEnc, keyContext(tenant.id, current.kid))) as JsonWebKey)
  if (signer.kid !== current.kid) throw new Error(`tenant ${tenant.id}: signing key ${current.kid} does not match its thumbprint`)
  const publicJwks = await Promise.all([current, ...previous].map((r) => publicJwkOf(r.publicJwk)))
  const verifyKeys = new Map<string, CryptoKey>()
  for (const jwk of publicJwks) verifyKeys.set(jwk.kid, await importVerifyKey(jwk))
  const adopted = rows.map((r) => r.adoptedAt).filter((a): a is string => a !== null).map((a) => Date.parse(a))
  return { signer, verifyKeys, publicJwks, adoptedAt: adopted.length ? Math.min(...adopted) : null }
}

/*
 * The isolate's copy of each tenant's keys: bounded (oldest entry evicted first), refreshed
 * after SIGNING_KEY_CACHE_TTL_SECONDS, dropped at once by a rotation in this isolate. A token
 * naming a kid the copy does not know (another isolate rotated) reloads it, at most every
 * UNKNOWN_KID_RELOAD_MS per tenant, so made-up kids cannot turn every request into a query.
 */
const MAX_CACHED_TENANTS = 1000
const UNKNOWN_KID_RELOAD_MS = 5_000
const cache = new Map<string, { at: number; keys: Promise<TenantKeySet> }>()

function remember(tenantId: string, keys: Promise<TenantKeySet>) {
  cache.delete(tenantId)
  if (cache.size >= MAX_CACHED_TENANTS) cache.delete(cache.keys().next().value!)
  const entry = { at: Date.now(), keys }
  cache.set(tenantId, entry)
  keys.catch(() => {
    if (cache.get(tenantId) === entry) cache.delete(tenantId)
  })
  return keys
}

/** The tenant's keys, from the isolate's cache when fresh. `kid`: the key a token names (reloads once if unknown). */
export async function tenantKeys(deps: TenantKeyDeps, tenant: KeyTenant, kid?: string): Promise<TenantKeySet> {
  const entry = cache.get(tenant.id)
  const age = entry ? Date.now() - entry.at : Infinity
  if (!entry || age >= deps.cacheTtlSeconds * 1000) return remember(tenant.id, loadTenantKeys(deps, tenant))
  const keys = await entry.keys
  if (kid !== undefined && !keys.verifyKeys.has(kid) && age >= UNKNOWN_KID_RELOAD_MS && cache.get(tenant.id) === entry) {
    return remember(tenant.id, loadTenantKeys(deps, tenant))
  }
  return keys
}

/** Drop the isolate's copy (after a rotation). */
export function forgetTenantKeys(tenantId: string) {
  cache.delete(tenantId)
}

/** After provisioning: the new tenant's one key is known, no need to read it back. */
export async function rememberProvisionedKey(tenantId: string, key: NewTenantKey) {
  const keys: TenantKeySet = {
    signer: key.privateJwk,
    verifyKeys: new Map([[key.kid, await importVerifyKey(key.publicJwk)]]),
    publicJwks: [key.publicJwk],
    adoptedAt: null,
  }
  await remember(tenantId, Promise.resolve(keys))
}

/**
 * Rotate a tenant's key: the previous key is retired (its tokens stop verifying, its private
 * half is erased), the current one becomes previous (its tokens keep verifying until they
 * expire) and a new key becomes current. One batch, serialised per tenant by an advisory lock,
 * so two concurrent rotations are two rotations, never two current keys. `extra` adds
 * statements to the batch (the audit entry). Other isolates sign with the new key within
 * SIGNING_KEY_CACHE_TTL_SECONDS, and accept it at once (an unknown kid reloads).
 */
export async function rotateTenantKey(deps: TenantKeyDeps, tenant: KeyTenant, extra: (key: NewTenantKey) => BatchItem<'pg'>[] = () => []): Promise<TenantKeySet> {
  // A tenant without a key adopts one first, so that the record of its earlier tokens is kept.
  await loadTenantKeys(deps, tenant)
  const key = await newTenantKey(deps.dataKey, tenant.id)
  const s = sql.identifier(tenant.schemaName)
  await deps.db.batch([
    deps.db.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`atrium:signing_keys:${tenant.id}`}, 0))`),
    deps.db.execute(sql`update ${s}.signing_keys set status = 'retired', retired_at = now(), private_key_enc = null where status = 'previous'`),
    deps.db.execute(sql`update ${s}.signing_keys set status = 'previous', rotated_at = now() where status = 'current'`),
    currentKeyInsert(deps.db, tenant.schemaName, key),
    ...extra(key),
  ])
  forgetTenantKeys(tenant.id)
  return tenantKeys(deps, tenant)
}
