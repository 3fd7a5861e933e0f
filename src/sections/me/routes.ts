import { createRoute, z } from '@hono/zod-openapi'
import { and, asc, desc, eq, lt, sql } from 'drizzle-orm'
import { memberships, tenants, userEvents, users } from '../../db/public-schema.ts'
import { fail } from '../../errors.ts'
import { requestMeta } from '../../identity/audit.ts'
import { sessionDeps } from '../../identity/context.ts'
import { tenantUrl } from '../../tenancy/hosts.ts'
import { IdentityErrors } from '../../identity/errors.ts'
import { listSessions, revokeAllSessions, revokeSession } from '../../identity/sessions.ts'
import { findUserById, presentUser } from '../../identity/users.ts'
import { selfService } from '../../middleware/membership/index.ts'
import { errorResponses, sectionRouter, json, security, body } from '../../openapi.ts'
import { credentialThrottle } from '../../middleware/rate-limit/index.ts'
import { Password, UserSchema } from '../../identity/schemas.ts'
import { PasswordChanged } from '../auth-email/schemas.ts'
import { changePassword } from './password.ts'
import { deleteAccount, deletionPlan, presentPlan } from './delete-account.ts'
import { clearSessionCookie } from '../browser-session/cookie.ts'
import { createOwnTenant } from '../workspaces/create.ts'
import { registerMyPermissions } from './permissions.ts'
import { CreatedWorkspace, CreateOwnTenantBody } from '../workspaces/schemas.ts'

const tags = ['Me']

const MeTenant = z.object({ id: z.uuid(), slug: z.string(), name: z.string(), role: z.string(), url: z.string(), current: z.boolean() }).openapi('MyTenant')
const Session = z
  .object({ id: z.uuid(), created_at: z.string(), last_used_at: z.string(), expires_at: z.string(), ip: z.string().nullable(), user_agent: z.string().nullable(), current: z.boolean() })
  .openapi('Session')

const UserEvent = z
  .object({ id: z.uuid(), action: z.string(), ip: z.string().nullable(), user_agent: z.string().nullable(), details: z.record(z.string(), z.unknown()), created_at: z.string() })
  .openapi('UserEvent')

const ChangePasswordBody = z
  .strictObject({
    current_password: Password,
    new_password: Password.openapi({ description: 'Must meet this tenant’s password_policy.min_length (default 10)' }),
    end_other_sessions: z.boolean().default(true).openapi({ description: 'End every other session of the account, in every tenant (default true); the calling session stays' }),
  })
  .openapi('ChangePassword')

const DeletionOutcome = z.enum(['left', 'deleted', 'blocks_deletion']).openapi({
  description: 'left: the membership ends; deleted: no other member, the organization is deleted with the account; blocks_deletion: the only owner of an organization with other members',
})
const DeletionPlan = z
  .object({
    tenants: z.array(z.object({ id: z.uuid(), slug: z.string(), name: z.string(), role: z.string(), other_members: z.number().int(), outcome: DeletionOutcome })),
    blocked: z.boolean().openapi({ description: 'Whether some organization blocks the deletion (the account is its only owner and it has other members)' }),
    confirmation: z.enum(['password', 'recent_sign_in']).openapi({ description: 'What DELETE /v1/me needs: the password, or (no password) a sign-in within the last 10 minutes' }),
  })
  .openapi('AccountDeletionPlan')
const DeleteAccountBody = z
  .strictObject({
    confirm: z.literal('delete my account').openapi({ description: 'The words "delete my account", typed by the person' }),
    password: Password.optional().openapi({ description: 'Required when the account has a password' }),
  })
  .openapi('DeleteAccount')

/** The signed-in user's own account, tenants and sessions: /v1/me*. */
export function registerMeRoutes(app: ReturnType<typeof sectionRouter>) {
  const router = sectionRouter()

  router.openapi(
    createRoute({ method: 'get', path: '/', middleware: selfService(), tags, security, summary: 'The signed-in user', responses: { 200: json(UserSchema, 'The user'), ...errorResponses(401, 403) } }),
    async (c) => {
      const user = await findUserById(c.var.db, c.var.auth.sub)
      if (!user) throw fail(IdentityErrors, 'not_a_member')
      return c.json(presentUser(user), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'patch', path: '/', middleware: selfService(), tags, security, summary: 'Update the signed-in user’s profile',
      request: body(z.strictObject({ name: z.string().trim().min(1).max(200).nullable() }).openapi('UpdateMe')),
      responses: { 200: json(UserSchema, 'The updated user'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const [user] = await c.var.db
        .update(users)
        .set({ name: c.req.valid('json').name, updatedAt: sql`now()` })
        .where(eq(users.id, c.var.auth.sub))
        .returning()
      return c.json(presentUser(user!), 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/deletion', middleware: selfService(), tags, security,
      summary: 'What deleting the account would do to each organization it belongs to (shown before DELETE /v1/me)',
      responses: { 200: json(DeletionPlan, 'The plan'), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const user = await findUserById(c.var.db, c.var.auth.sub)
      if (!user) throw fail(IdentityErrors, 'not_a_member')
      const plan = presentPlan(await deletionPlan(c.var.db, user.id))
      return c.json({ tenants: plan, blocked: plan.some((p) => p.outcome === 'blocks_deletion'), confirmation: user.passwordHash ? 'password' as const : 'recent_sign_in' as const }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/', tags, security, middleware: [...selfService(), credentialThrottle] as const,
      summary: 'Delete the account: refused while it is the only owner of an organization with other members; organizations with no other member are deleted with it; every session ends',
      request: body(DeleteAccountBody),
      responses: {
        200: json(z.object({ deleted: z.literal(true), deleted_tenants: z.array(z.uuid()) }).openapi('AccountDeleted'), 'Deleted, with the organizations deleted with it'),
        ...errorResponses(400, 401, 403, 409, 429),
      },
    }),
    async (c) => {
      const auth = c.var.auth
      const { deleted_tenants } = await deleteAccount(c, c.var.tenant, auth.sub, auth.sid, c.req.valid('json').password)
      // The browser's session cookie is of no further use.
      clearSessionCookie(c)
      c.header('Cache-Control', 'no-store')
      return c.json({ deleted: true as const, deleted_tenants }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/password', tags, security, middleware: [...selfService(), credentialThrottle] as const,
      summary: 'Change the password (the current one required). By default every other session of the account ends, in every tenant; this one stays.',
      request: body(ChangePasswordBody),
      responses: { 200: json(PasswordChanged, 'Password changed'), ...errorResponses(400, 401, 403, 409, 429) },
    }),
    async (c) => {
      const auth = c.var.auth
      return c.json(await changePassword(c, c.var.tenant, auth.sub, auth.sid, c.req.valid('json')), 200)
    },
  )

  router.openapi(
    createRoute({ method: 'get', path: '/tenants', middleware: selfService(), tags, security, summary: 'Every tenant the user belongs to, with the role (for an org switcher)', responses: { 200: json(z.object({ data: z.array(MeTenant) }), 'Memberships'), ...errorResponses(401, 403) } }),
    async (c) => {
      const rows = await c.var.db
        .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, role: memberships.role })
        .from(memberships)
        .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
        .where(and(eq(memberships.userId, c.var.auth.sub), eq(tenants.status, 'active')))
        .orderBy(asc(tenants.slug))
      return c.json({ data: rows.map((r) => ({ ...r, url: tenantUrl(c, r), current: r.id === c.var.tenant.id })) }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/tenants', tags, security, middleware: [...selfService(), credentialThrottle] as const,
      summary: 'Create another organization: the user owns it and is signed in there (tokens, or an MFA challenge, for the new tenant)',
      request: body(CreateOwnTenantBody),
      responses: { 201: json(CreatedWorkspace, 'The new organization, with tokens or an MFA challenge for it'), ...errorResponses(400, 401, 403, 409, 429) },
    }),
    async (c) => {
      const user = await findUserById(c.var.db, c.var.auth.sub)
      if (!user) throw fail(IdentityErrors, 'not_a_member')
      return c.json(await createOwnTenant(c, user, c.req.valid('json')), 201)
    },
  )

  router.openapi(
    createRoute({ method: 'get', path: '/sessions', middleware: selfService(), tags, security, summary: 'The user’s live sessions in this tenant', responses: { 200: json(z.object({ data: z.array(Session) }), 'Sessions, newest first'), ...errorResponses(401, 403) } }),
    async (c) => {
      const rows = await listSessions(c.var.db, c.var.tenant, c.var.auth.sub)
      const iso = (v: string) => new Date(v).toISOString()
      return c.json({
        data: rows.map((s) => ({ id: s.id, created_at: iso(s.createdAt), last_used_at: iso(s.lastUsedAt), expires_at: iso(s.expiresAt), ip: s.ip, user_agent: s.userAgent, current: s.id === c.var.auth.sid })),
      }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'delete', path: '/sessions/{id}', middleware: selfService(), tags, security, summary: 'End one of the user’s sessions',
      request: { params: z.object({ id: z.uuid() }) },
      responses: { 204: { description: 'Ended' }, ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const tenant = c.var.tenant
      const ended = await revokeSession(await sessionDeps(c, tenant), tenant, c.req.valid('param').id, 'user', requestMeta(c), c.var.auth.sub, c.var.auth.sub)
      if (!ended) throw fail(IdentityErrors, 'session_not_found')
      return c.body(null, 204)
    },
  )

  router.openapi(
    createRoute({
      method: 'post', path: '/sessions/revoke-others', middleware: selfService(), tags, security, summary: 'End every session of the user in this tenant except the current one',
      responses: { 200: json(z.object({ revoked: z.number() }), 'How many sessions ended'), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const tenant = c.var.tenant
      const ids = await revokeAllSessions(await sessionDeps(c, tenant), tenant, c.var.auth.sub, 'user_revoked_others', c.var.auth.sid)
      return c.json({ revoked: ids.length }, 200)
    },
  )

  router.openapi(
    createRoute({
      method: 'get', path: '/events', middleware: selfService(), tags, security, summary: 'Account events kept for the user across tenants (account created, password changed…), newest first',
      request: { query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50), cursor: z.uuid().optional() }) },
      responses: { 200: json(z.object({ data: z.array(UserEvent), next_cursor: z.string().nullable() }), 'A page of events'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query')
      const rows = await c.var.db
        .select()
        .from(userEvents)
        .where(and(eq(userEvents.userId, c.var.auth.sub), cursor ? lt(userEvents.id, cursor) : undefined))
        .orderBy(desc(userEvents.id))
        .limit(limit + 1)
      const page = rows.slice(0, limit)
      return c.json({
        data: page.map((e) => ({ id: e.id, action: e.action, ip: e.ip, user_agent: e.userAgent, details: e.details, created_at: new Date(e.createdAt).toISOString() })),
        next_cursor: rows.length > limit ? page.at(-1)!.id : null,
      }, 200)
    },
  )

  registerMyPermissions(router)
  app.route('/v1/me', router)
}
