import type { TenantMigration } from '../src/db/tenant-migrations.ts'
import initial from './0001_initial.ts'
import identity from './0002_identity.ts'
import authorization from './0003_authorization.ts'
import webhooks from './0004_webhooks.ts'
import apiKeys from './0005_api_keys.ts'
import authzSubjects from './0006_authz_subjects.ts'
import idempotencyKeys from './0007_idempotency_keys.ts'
import refreshGrace from './0008_refresh_grace.ts'
import signingKeys from './0009_signing_keys.ts'

/**
 * Tenant migrations, applied to every tenant schema in order. Append only: a released
 * migration is never edited. Each one runs as one atomic batch with its journal row.
 */
export const tenantMigrations: readonly TenantMigration[] = [initial, identity, authorization, webhooks, apiKeys, authzSubjects, idempotencyKeys, refreshGrace, signingKeys]
