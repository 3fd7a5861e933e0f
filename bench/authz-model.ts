import type { CheckInput } from '../src/authz/engine.ts'

/**
 * The RBAC model the authorization bench seeds into one tenant and hands to casbin: N custom
 * roles over a handful of registered resource types, users who are members of the tenant, and
 * bindings of those users to the roles (tenant-wide, and on one resource instance). Generated
 * from a seed, so a run is reproducible; nothing here talks to the stack.
 */

export const RESOURCE_TYPES = Array.from({ length: 20 }, (_, i) => `doc_${i}`)
export const ACTIONS = ['read', 'write', 'delete', 'share'] as const
/** Instances that instance-scoped bindings and checks name, per type. */
const INSTANCES = 50

export interface BenchRole {
  id: string
  name: string
  permissions: string[]
}

export interface BenchBinding {
  id: string
  userId: string
  role: BenchRole
  /** Both null for a tenant-wide binding. */
  resourceType: string | null
  resourceId: string | null
}

export interface BenchModel {
  roles: BenchRole[]
  /** Members of the tenant (besides the owner), each with the built-in `member` role. */
  users: string[]
  bindings: BenchBinding[]
  /** The checks every engine answers, in this order. */
  checks: CheckInput[]
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
export function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function uuidFrom(next: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16))
  hex[12] = '4'
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  const h = hex.join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const pick = <T>(next: () => number, list: readonly T[]): T => list[Math.floor(next() * list.length)]!

/**
 * Role i holds `doc_{i%20}:read` and `doc_{(7i+3)%20}:write`; every tenth role also a type
 * wildcard (`doc_k:*`) and every fiftieth an action wildcard (`*:share`), so both kinds of
 * pattern decide some checks. No custom role holds `*:*` (the owner does).
 */
function rolePermissions(i: number): string[] {
  const permissions = [`doc_${i % 20}:read`, `doc_${(i * 7 + 3) % 20}:write`]
  if (i % 10 === 3) permissions.push(`doc_${(i * 3) % 20}:*`)
  if (i % 50 === 7) permissions.push('*:share')
  return [...new Set(permissions)]
}

/** The type:action pair a permission pattern names, with each `*` half made concrete. */
function concrete(next: () => number, permission: string): { type: string; action: string } {
  const [type, action] = permission.split(':') as [string, string]
  return { type: type === '*' ? pick(next, RESOURCE_TYPES) : type, action: action === '*' ? pick(next, ACTIONS) : action }
}

/**
 * `roleCount` roles; max(200, roleCount) users, each bound tenant-wide to two roles and to one
 * role on one instance (of a type that role names, so the binding can matter); `checkCount`
 * checks: about half built from a permission the subject holds through some binding (mostly
 * allowed, unless the binding is on another instance), the rest random pairs (mostly denied),
 * about a third instance-scoped, and one in twenty from a user who is no member at all.
 */
export function generateModel(roleCount: number, checkCount: number, seed = 20261123): BenchModel {
  const next = random(seed + roleCount)
  const roles = Array.from({ length: roleCount }, (_, i) => ({ id: uuidFrom(next), name: `role_${String(i).padStart(5, '0')}`, permissions: rolePermissions(i) }))
  const users = Array.from({ length: Math.max(200, roleCount) }, () => uuidFrom(next))
  const bindings: BenchBinding[] = []
  const byUser = new Map<string, BenchBinding[]>()
  for (const userId of users) {
    const first = pick(next, roles)
    let second = pick(next, roles)
    if (roles.length > 1) while (second === first) second = pick(next, roles)
    const scoped = pick(next, roles)
    const own: BenchBinding[] = [
      { id: uuidFrom(next), userId, role: first, resourceType: null, resourceId: null },
      ...(second === first ? [] : [{ id: uuidFrom(next), userId, role: second, resourceType: null, resourceId: null }]),
      {
        id: uuidFrom(next), userId, role: scoped,
        resourceType: concrete(next, pick(next, scoped.permissions)).type, resourceId: `obj_${Math.floor(next() * INSTANCES)}`,
      },
    ]
    // A tenant-wide and an instance binding of the same role may coexist (the unique index includes the resource).
    bindings.push(...own)
    byUser.set(userId, own)
  }

  const checks: CheckInput[] = []
  for (let i = 0; i < checkCount; i++) {
    const stranger = next() < 0.05
    const userId = stranger ? uuidFrom(next) : pick(next, users)
    const held = byUser.get(userId)
    let type: string
    let action: string
    let id: string | undefined
    if (held && next() < 0.5) {
      const binding = pick(next, held)
      ;({ type, action } = concrete(next, pick(next, binding.role.permissions)))
      if (binding.resourceType !== null) {
        // On its instance, or (one time in four) on another one of the same type: denied unless held tenant-wide.
        type = binding.resourceType
        id = next() < 0.75 ? binding.resourceId! : `obj_${Math.floor(next() * INSTANCES)}`
      } else if (next() < 0.3) id = `obj_${Math.floor(next() * INSTANCES)}`
    } else {
      type = pick(next, RESOURCE_TYPES)
      action = pick(next, ACTIONS)
      if (next() < 0.3) id = `obj_${Math.floor(next() * INSTANCES)}`
    }
    checks.push({ subject: { type: 'user', id: userId }, action, resource: id === undefined ? { type } : { type, id } })
  }
  return { roles, users, bindings, checks }
}
