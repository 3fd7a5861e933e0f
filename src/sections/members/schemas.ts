import { z } from '@hono/zod-openapi'
import { BUILT_IN_ROLES } from '../../identity/memberships.ts'
import { Email, Password, TokenResponse, UserSchema, MfaRequired } from '../../identity/schemas.ts'

export const Role = z.enum(BUILT_IN_ROLES).openapi({ description: 'Built-in role (owner, admin or member); further permissions come from role bindings', example: 'member' })

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: 'Page size (1–100, default 20)' }),
  cursor: z.string().min(1).max(300).optional().openapi({ description: 'Opaque: next_cursor of the previous page' }),
})

export const MemberListQuery = PageQuery.extend({
  q: z.string().trim().min(1).max(200).optional().openapi({ description: 'Only members whose email or name contains this text (case-insensitive); keep it for the next pages' }),
})

export const UserIdParam = z.object({ userId: z.uuid().openapi({ param: { name: 'userId', in: 'path' } }) })
export const InvitationIdParam = z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }) })

export const MemberSchema = z
  .object({
    user_id: z.uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: z.string(),
    status: z.enum(['active', 'disabled']),
    joined_at: z.string(),
  })
  .openapi('Member')

export const MemberPage = z.object({ data: z.array(MemberSchema), next_cursor: z.string().nullable() }).openapi('MemberPage')

export const UpdateMemberBody = z.strictObject({ role: Role }).openapi('UpdateMember')

export const InvitationSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    role: z.string(),
    status: z.enum(['pending', 'accepted', 'revoked', 'expired']),
    invited_by: z.uuid().nullable(),
    created_at: z.string(),
    expires_at: z.string(),
    accepted_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi('Invitation')

export const InvitationPage = z.object({ data: z.array(InvitationSchema), next_cursor: z.string().nullable() }).openapi('InvitationPage')

export const CreateInvitationBody = z.strictObject({ email: Email, role: Role }).openapi('CreateInvitation')

export const AcceptInvitationBody = z
  .strictObject({
    token: z.string().min(16).max(200).openapi({ description: 'The token of the accept link' }),
    password: Password.optional().openapi({ description: 'New account: its password. Existing account: its current password.' }),
    name: z.string().trim().min(1).max(200).optional().openapi({ description: 'New account only: display name' }),
    email: Email.optional().openapi({ description: 'Optional: the address the caller expects; refused if it is not the invited one' }),
  })
  .openapi('AcceptInvitation')

const JoinedTenant = z.object({ id: z.uuid(), slug: z.string() })

export const AcceptedInvitation = TokenResponse.extend({ user: UserSchema, tenant: JoinedTenant }).openapi('AcceptedInvitation')
export const AcceptedNeedsMfa = MfaRequired.extend({ user: UserSchema, tenant: JoinedTenant }).openapi('AcceptedInvitationMfa')
