import { z } from '@hono/zod-openapi'
import { Slug } from '../tenants/schemas.ts'
import { TenantName } from '../../tenancy/settings-schema.ts'
import { MfaRequired, TokenResponse } from '../../identity/schemas.ts'

export const SelectionToken = z.string().regex(/^[A-Za-z0-9_-]{32,128}$/, 'not a selection token').openapi({ description: 'The selection_token of a platform sign-in' })

export const Workspace = z
  .object({ id: z.uuid(), slug: z.string(), name: z.string(), role: z.string(), url: z.string().openapi({ description: 'The tenant host, where POST /v1/auth/select is called' }) })
  .openapi('Workspace')

export const PlatformSignIn = z
  .object({
    workspaces: z.array(Workspace),
    selection_token: z.string().openapi({ description: 'Single use, valid expires_in seconds: POST /v1/auth/select on the chosen tenant’s host, or POST /v1/auth/workspaces to create one' }),
    expires_in: z.number().int(),
  })
  .openapi('PlatformSignIn')

export const SelectBody = z.strictObject({ selection_token: SelectionToken }).openapi('SelectWorkspace')
export const SelectHandoffBody = z
  .strictObject({ selection_token: SelectionToken, tenant: z.string().min(1).max(63).openapi({ description: 'Slug or id of the chosen organization' }) })
  .openapi('SelectWorkspaceHandoff')

export const NewOrganization = z.strictObject({
  name: TenantName,
  slug: Slug.optional().openapi({ description: 'Optional: a generated one otherwise' }),
})

export const CreateWithSelectionBody = NewOrganization.extend({ selection_token: SelectionToken }).openapi('CreateWorkspace')
export const CreateOwnTenantBody = NewOrganization.openapi('CreateOwnTenant')

const NewTenantRef = z.object({ id: z.uuid(), slug: z.string(), name: z.string(), url: z.string() })
/** The web app's form (X-Atrium-Session: cookie): the new organization is another origin, so its page gets a handoff to it, never its tokens. */
const HandedOver = z.object({
  tenant: NewTenantRef,
  handoff: z.object({ url: z.string().openapi({ description: 'The new organization’s page that redeems the single-use code (in the fragment)' }), expires_in: z.number() }),
})
export const CreatedWorkspace = z
  .union([TokenResponse.extend({ tenant: NewTenantRef }), MfaRequired.extend({ tenant: NewTenantRef }), HandedOver])
  .openapi('CreatedWorkspace')
