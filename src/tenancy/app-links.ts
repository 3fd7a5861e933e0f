import type { RequestScope } from '../platform/request-scope.ts'
import { tenantUrl } from './hosts.ts'
import type { Tenant } from './registry.ts'

/**
 * The web app's pages that emailed links open (docs/api/email-flows.md). Each page reads the
 * token from the URL fragment and POSTs it to the API endpoint named beside it: a fragment is
 * never sent to any server, so the token stays out of access logs, proxies and `Referer`.
 */
export const APP_PAGES = {
  verify_email: '/verify-email', // → POST /v1/auth/verify-email/confirm {token}
  password_reset: '/reset-password', // → POST /v1/auth/password/reset {token, password}
  magic_link: '/magic-link', // → POST /v1/auth/magic-link/verify {token}
  invitation: '/accept-invitation', // → POST /v1/invitations/accept {token, …}
} as const

export type AppPage = keyof typeof APP_PAGES

/** Placeholders an APP_URL pattern may use; it must use at least one, since links are redeemed per tenant. */
export const APP_URL_PLACEHOLDERS = ['{slug}', '{host}'] as const

/**
 * The web app's origin for a tenant: APP_URL with `{slug}` (the tenant's slug) and `{host}` (the
 * tenant's host as this request reached the deployment, port included) filled in, or, without
 * APP_URL, the tenant's own origin (`https://<slug>.<base domain>`).
 */
export function appUrl(c: RequestScope, tenant: Pick<Tenant, 'slug'>): string {
  const pattern = c.var.config.APP_URL
  const own = tenantUrl(c, tenant)
  if (!pattern) return own
  return pattern.replaceAll('{slug}', tenant.slug).replaceAll('{host}', new URL(own).host).replace(/\/+$/, '')
}

/** The link a mail carries: the app's page for `page`, the token in the fragment. */
export function appLink(c: RequestScope, tenant: Pick<Tenant, 'slug'>, page: AppPage, token: string): string {
  return `${appUrl(c, tenant)}${APP_PAGES[page]}#token=${encodeURIComponent(token)}`
}
