import { createRoute, z } from '@hono/zod-openapi'
import type { AppScope } from '../../app-env.ts'
import { requireAuth } from '../../middleware/auth/index.ts'
import { tenantHostOnly } from '../../middleware/tenant/index.ts'
import { errorResponses, sectionRouter, json, body, security } from '../../openapi.ts'
import { credentialThrottle } from '../../middleware/rate-limit/index.ts'
import { MfaRequired, TokenResponse } from '../../identity/schemas.ts'
import { confirmEmailVerification, mailLinkIfMember, requestEmailVerification, resetPassword, signInWithMagicLink } from './flows.ts'
import { Accepted, EmailBody, EmailVerified, PasswordChanged, ResetBody, TokenBody } from './schemas.ts'

const tags = ['Auth: email']

/** The same words whether or not the address has an account here. */
const ACCEPTED = { message: 'If this address belongs to an account of this organization, an email is on its way.' }

/**
 * Work done after the answer is sent (waitUntil): the answer to "mail this address" must not
 * depend on, or take longer because of, whether the address has an account.
 */
function afterResponse(c: AppScope, what: string, task: () => Promise<void>) {
  c.executionCtx.waitUntil(task().catch((err: unknown) => c.var.logger.error(`${what} failed`, { err })))
}

/** Email verification, password reset and magic-link sign-in: /v1/auth/verify-email|password|magic-link. */
export function registerEmailFlowRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()

  router.openapi(
    createRoute({
      method: 'post', path: '/verify-email/request', tags, security, middleware: [tenantHostOnly(), requireAuth(), credentialThrottle] as const,
      summary: 'Mail the signed-in user a link that confirms their email address (single use; valid EMAIL_VERIFICATION_TTL_SECONDS, 24 h by default)',
      responses: {
        202: json(z.object({ message: z.string() }), 'The link is on its way'),
        ...errorResponses(401, 409, 429, 503),
      },
    }),
    async (c) => {
      await requestEmailVerification(c, c.var.tenant, c.var.auth.sub)
      return c.json({ message: 'A verification link is on its way.' }, 202)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/verify-email/confirm', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Confirm an email address with the token of a verification link',
      request: body(TokenBody),
      responses: { 200: json(EmailVerified, 'The address is verified'), ...errorResponses(400, 429, 503) },
    }),
    async (c) => c.json(await confirmEmailVerification(c, c.var.tenant, c.req.valid('json').token), 200),
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/password/forgot', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Mail a password-reset link (valid PASSWORD_RESET_TTL_SECONDS, 30 min by default) to a member of this organization. Answers the same for every address.',
      request: body(EmailBody),
      responses: { 202: json(Accepted, 'Accepted (whether or not the address has an account here)'), ...errorResponses(400, 429) },
    }),
    (c) => {
      const { email } = c.req.valid('json')
      afterResponse(c, 'password reset mail', () => mailLinkIfMember(c, c.var.tenant, 'password_reset', email))
      return c.json(ACCEPTED, 202)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/password/reset', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Set a new password with the token of a reset link; ends every session of the account, in every organization',
      request: body(ResetBody),
      responses: { 200: json(PasswordChanged, 'Password changed; sign in again'), ...errorResponses(400, 429, 503) },
    }),
    async (c) => {
      const { token, password } = c.req.valid('json')
      return c.json(await resetPassword(c, c.var.tenant, token, password), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/magic-link', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Mail a sign-in link (valid MAGIC_LINK_TTL_SECONDS, 15 min by default) to a member of this organization. Answers the same for every address.',
      request: body(EmailBody),
      responses: { 202: json(Accepted, 'Accepted (whether or not the address has an account here)'), ...errorResponses(400, 429) },
    }),
    (c) => {
      const { email } = c.req.valid('json')
      afterResponse(c, 'magic link mail', () => mailLinkIfMember(c, c.var.tenant, 'magic_link', email))
      return c.json(ACCEPTED, 202)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/magic-link/verify', tags, middleware: [tenantHostOnly(), credentialThrottle] as const,
      summary: 'Sign in with the token of a magic link (single use). Answers tokens, or an MFA challenge.',
      request: body(TokenBody),
      responses: {
        200: json(z.union([TokenResponse, MfaRequired]), 'Tokens, or mfa_required with an mfa_token'),
        ...errorResponses(400, 429, 503),
      },
    }),
    async (c) => c.json(await signInWithMagicLink(c, c.var.tenant, c.req.valid('json').token), 200),
  )

  app.route('/v1/auth', router)
}
