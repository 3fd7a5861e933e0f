import type { AppScope } from '../../app-env.ts'
import { changeDeps, commitChange } from '../../changes/commit.ts'
import { authzVersionChanged, tenantChanged } from '../../changes/effects.ts'
import { isPgError, UNIQUE_VIOLATION } from '../../db/pg-errors.ts'
import { fail } from '../../errors.ts'
import { requestMeta, userEventInsert } from '../../identity/audit.ts'
import { tenantUrl } from '../../tenancy/hosts.ts'
import type { User } from '../../identity/users.ts'
import { TenantErrors } from '../../tenancy/errors.ts'
import { provisioningStatements, type Tenant } from '../../tenancy/registry.ts'
import { admitTenantCreation, isTenantCapError, ownedTenantCapStatements, tenantCapError } from '../../tenancy/creation-limits.ts'
import { rememberProvisionedKey } from '../../tenancy/signing-keys.ts'
import { completeLogin } from '../../identity/sign-in.ts'
import { membershipStatements } from '../../identity/memberships.ts'
import { personalSlug } from '../../tenancy/slug.ts'

export interface NewOwnTenant {
  name: string
  slug?: string
}

/**
 * An existing account creates another organization and owns it (POST /v1/me/tenants on a tenant
 * host, POST /v1/auth/workspaces on the platform host). The creation limits admit it first
 * (`admitTenantCreation`, and `ownedTenantCapStatements` opening the batch); the registry row, the schema, the owner membership and
 * the audit entries are one batch. Then the user is signed in to the new tenant as by a sign-in
 * there: tokens, or an MFA challenge when the account has TOTP on.
 */
export async function createOwnTenant(c: AppScope, user: Pick<User, 'id' | 'email'>, input: NewOwnTenant) {
  await admitTenantCreation(c, { accountId: user.id })
  const max = c.var.config.MAX_TENANTS_PER_ACCOUNT
  const db = c.var.db
  const meta = requestMeta(c)
  for (let attempt = 0; ; attempt++) {
    const slug = input.slug ?? personalSlug(user.email)
    const prepared = await provisioningStatements(db, { slug, name: input.name }, { actorType: 'user', actorId: user.id, ...meta }, { dataKey: c.var.config.DATA_ENCRYPTION_KEY })
    let tenant: Tenant
    try {
      const { results } = await commitChange(changeDeps(c), {
        tenant: prepared,
        meta,
        // First: serialises the account's creations and aborts the batch at the cap.
        guards: ownedTenantCapStatements(db, user.id, max),
        statements: [...prepared.statements, ...membershipStatements(db, prepared, user.id, 'owner'), userEventInsert(db, user.id, meta, 'tenant.created', { tenant: prepared.id, slug })],
        audit: { action: 'member.joined', actorId: user.id, targetType: 'user', targetId: user.id, details: { role: 'owner', via: 'self_service' } },
        // The members insert bumped the new tenant's authorization version (0006 trigger); a miss for this slug may be cached.
        effects: [authzVersionChanged(prepared), tenantChanged({ id: prepared.id, slug })],
      })
      tenant = (results[0] as Tenant[])[0]!
    } catch (err) {
      if (isTenantCapError(err)) throw tenantCapError(max)
      if (isPgError(err, UNIQUE_VIOLATION, 'tenants_slug_unique')) {
        if (input.slug !== undefined) throw fail(TenantErrors, 'slug_taken', undefined, { slug })
        if (attempt < 3) continue
      }
      throw err
    }
    await rememberProvisionedKey(tenant.id, prepared.signingKey)
    const signIn = await completeLogin(c, tenant, user)
    return { tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, url: tenantUrl(c, tenant) }, ...signIn }
  }
}
