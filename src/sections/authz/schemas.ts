import { z } from '@hono/zod-openapi'
import { conditionSizeProblem, ConditionSchema } from '../../authz/conditions.ts'
import { parseIp } from '../../authz/ip.ts'
import { NAME, parsePermission } from '../../authz/permissions.ts'
import { ATTRIBUTE_TYPES } from '../../authz/snapshot.ts'
import { UUID_PATTERN } from '../../db/ids.ts'

export const iso = (v: string | null) => (v ? new Date(v).toISOString() : null)

/** Registered resource types per tenant (Atrium's own come on top). */
export const MAX_RESOURCE_TYPES = 500

export const TypeName = z.string().regex(NAME, 'lowercase letters, digits, _ and -, starting with a letter (at most 63)').openapi({ example: 'invoice' })
const ActionName = z.string().regex(NAME, 'lowercase letters, digits, _ and -, starting with a letter (at most 63)').openapi({ example: 'approve' })
const Actions = z.array(ActionName).min(1).max(100).transform((a) => [...new Set(a)])
const Description = z.string().trim().max(500)

export const AttributeSchemaBody = z
  .record(
    z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'attribute names: letters, digits, _ and - (at most 64)'),
    z.strictObject({ type: z.enum(ATTRIBUTE_TYPES), description: Description.optional() }),
  )
  .refine((r) => Object.keys(r).length <= 50, 'at most 50 attributes')
  .openapi({ description: 'Declared attributes of the instances; a check that passes one with another type is refused (400)', example: { owner: { type: 'string' }, amount: { type: 'number' } } })

export const CreateResourceType = z
  .strictObject({ name: TypeName, description: Description.optional(), actions: Actions, attributes: AttributeSchemaBody.optional() })
  .openapi('CreateResourceType')

export const UpdateResourceType = z
  .strictObject({
    add_actions: Actions.optional().openapi({ description: 'Actions to add (existing ones are kept; actions are never removed)' }),
    description: Description.nullable().optional(),
    attributes: AttributeSchemaBody.nullable().optional().openapi({ description: 'Replaces the attribute schema; null removes it' }),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one of add_actions, description, attributes')
  .openapi('UpdateResourceType')

export const ResourceType = z
  .object({
    name: z.string(),
    description: z.string().nullable(),
    actions: z.array(z.string()),
    permissions: z.array(z.string()).openapi({ example: ['invoice:read', 'invoice:approve'] }),
    attributes: z.record(z.string(), z.object({ type: z.string(), description: z.string().optional() })).nullable(),
    built_in: z.boolean().openapi({ description: 'One of Atrium’s own types (read-only)' }),
    created_at: z.string().nullable(),
    updated_at: z.string().nullable(),
  })
  .openapi('ResourceType')

export const Permission = z
  .string()
  .max(130)
  .refine((p) => parsePermission(p) !== null, { error: (i) => `${JSON.stringify(i.input)} is not a permission: use type:action, type:*, *:action or *:*` })
  .openapi({ example: 'invoice:approve' })

export const RoleName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'lowercase letters, digits, _ . and -, starting with a letter or digit (at most 63)').openapi({ example: 'approver' })

// Not UUID-shaped: /v1/roles/{idOrName} takes a UUID as an id.
const NewRoleName = RoleName.refine((v) => !UUID_PATTERN.test(v), 'a role name cannot have the form of an id (a UUID)')

/** Custom roles per tenant (the benchmark runs 10,000). */
export const MAX_ROLES = 10_000

export const CreateRole = z
  .strictObject({ name: NewRoleName, description: Description.optional(), permissions: z.array(Permission).max(500).transform((p) => [...new Set(p)]) })
  .openapi('CreateRole')

export const UpdateRole = z
  .strictObject({ name: NewRoleName.optional(), description: Description.nullable().optional(), permissions: z.array(Permission).max(500).transform((p) => [...new Set(p)]).optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one of name, description, permissions')
  .openapi('UpdateRole')

export const Role = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    permissions: z.array(z.string()),
    built_in: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Role')

export const SubjectType = z.enum(['user', 'api_key'])

const future = (v: string | undefined) => !v || new Date(v).getTime() > Date.now()

export const CreateRoleBinding = z
  .strictObject({
    subject: z.strictObject({ type: SubjectType, id: z.uuid() }),
    role: RoleName,
    resource_type: TypeName.optional(),
    resource_id: z.string().min(1).max(200).optional(),
    expires_at: z.iso.datetime({ offset: true }).optional().refine(future, 'must be in the future'),
  })
  .refine((b) => (b.resource_type === undefined) === (b.resource_id === undefined), { message: 'give both resource_type and resource_id (one instance), or neither (tenant-wide)', path: ['resource_id'] })
  .openapi('CreateRoleBinding')

export const RoleBinding = z
  .object({
    id: z.uuid(),
    subject: z.object({ type: SubjectType, id: z.string() }),
    role: z.string(),
    resource_type: z.string().nullable(),
    resource_id: z.string().nullable(),
    expires_at: z.string().nullable(),
    expired: z.boolean(),
    created_by: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('RoleBinding')

export const RoleBindingQuery = z.object({
  subject_type: SubjectType.optional(),
  subject_id: z.uuid().optional(),
  role: RoleName.optional(),
  resource_type: TypeName.optional(),
  resource_id: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.uuid().optional(),
})

export const Conditions = z
  .unknown()
  .superRefine((value, ctx) => {
    if (value === null || value === undefined) return
    if (JSON.stringify(value).length > 16_384) {
      ctx.addIssue({ code: 'custom', message: 'conditions are at most 16 KiB of JSON' })
      return
    }
    const result = ConditionSchema.safeParse(value)
    if (!result.success) {
      for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as PropertyKey[], message: issue.message })
      return
    }
    const size = conditionSizeProblem(result.data)
    if (size) ctx.addIssue({ code: 'custom', message: size })
  })
  .openapi({
    description: 'A condition tree (JSON): {"all"|"any": [c…]}, {"not": c}, {"eq"|"ne"|"in"|"not_in"|"gt"|"gte"|"lt"|"lte"|"contains"|"ip_in_cidr": [a, b]}; operands are literals or {"ref": "subject.id"}. See docs/api/authorization.md.',
    example: { all: [{ eq: [{ ref: 'resource.attributes.owner' }, { ref: 'subject.id' }] }, { ip_in_cidr: [{ ref: 'context.ip' }, ['10.0.0.0/8']] }] },
  })

// Not UUID-shaped: /v1/policies/{idOrName} takes a UUID as an id.
export const PolicyName = RoleName.refine((v) => !UUID_PATTERN.test(v), 'a policy name cannot have the form of an id (a UUID)').openapi({ example: 'no-weekend-approvals' })

export const CreatePolicy = z
  .strictObject({ name: PolicyName, description: Description.optional(), effect: z.enum(['allow', 'deny']), permission: Permission, conditions: Conditions.optional() })
  .openapi('CreatePolicy')

export const UpdatePolicy = z
  .strictObject({ name: PolicyName.optional(), description: Description.nullable().optional(), effect: z.enum(['allow', 'deny']).optional(), permission: Permission.optional(), conditions: Conditions.optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'give at least one of name, description, effect, permission, conditions')
  .openapi('UpdatePolicy')

export const Policy = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    effect: z.enum(['allow', 'deny']),
    permission: z.string(),
    conditions: z.unknown().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Policy')

const Attributes = z
  .record(z.string().max(64), z.unknown())
  .refine((a) => Object.keys(a).length <= 100 && JSON.stringify(a).length <= 16_384, 'at most 100 attributes and 16 KiB')

export const Check = z
  .strictObject({
    subject: z.strictObject({ type: SubjectType, id: z.string().min(1).max(100), attributes: Attributes.optional() }),
    action: ActionName,
    resource: z.strictObject({ type: TypeName, id: z.string().min(1).max(200).optional(), attributes: Attributes.optional() }),
    context: z
      .strictObject({
        ip: z.string().max(64).refine((v) => parseIp(v) !== null, 'not an IPv4 or IPv6 address').optional(),
        time: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Evaluate at this time (default: now)' }),
        attributes: Attributes.optional(),
      })
      .optional(),
  })
  .openapi('AuthzCheck', {
    example: { subject: { type: 'user', id: '0190b6a2-7c1e-7f00-8000-000000000001', attributes: { department: 'finance' } }, action: 'approve', resource: { type: 'invoice', id: '42', attributes: { amount: 1200 } }, context: { ip: '203.0.113.7' } },
  })

export const Decision = z
  .object({
    allowed: z.boolean(),
    reason: z.string().openapi({ example: "role 'approver' bound on invoice:42 (binding 0190b6a2-7c1e-7f00-8000-0000000000b1)" }),
  })
  .openapi('AuthzDecision')

export const MAX_BATCH = 100
export const CheckBatch = z.strictObject({ checks: z.array(Check).min(1).max(MAX_BATCH) }).openapi('AuthzCheckBatch')
export const DecisionBatch = z.object({ results: z.array(Decision) }).openapi('AuthzDecisionBatch')

export const ForceQuery = z.object({
  force: z.enum(['true', 'false']).default('false').openapi({ description: 'Delete even if in use (see the endpoint’s description)' }),
})
