import { AppError, commonError } from '../errors.ts'
import { dependencyFailure } from '../platform/dependency-errors.ts'
import { mailSender, type MailMessage } from '../platform/mail/index.ts'
import type { RequestScope } from '../platform/request-scope.ts'
import { appLink } from '../tenancy/app-links.ts'
import type { Tenant } from '../tenancy/registry.ts'
import { IdentityErrors } from './errors.ts'
import { issueLinkToken, linkTtlSeconds, takeMailQuota, type LinkGrant, type LinkPurpose } from './link-tokens.ts'
import type { User } from './users.ts'

/** What every link mail says: whose organization, where the link goes, how long it lives. */
export interface LinkMailInput {
  to: string
  /** The tenant's display name (tenant-controlled text: escaped in the HTML part). */
  organization: string
  link: string
  ttlSeconds: number
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!)
}

/** Subject lines are one line: a name with line breaks must not add headers or lines of its own. */
const oneLine = (value: string) => value.replace(/[\r\n\t]+/g, ' ').trim()

function duration(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? '1 hour' : `${seconds / 3600} hours`
  if (seconds >= 60 && seconds % 60 === 0) return seconds === 60 ? '1 minute' : `${seconds / 60} minutes`
  return seconds === 1 ? '1 second' : `${seconds} seconds`
}

interface Wording {
  subject: (org: string) => string
  intro: (org: string) => string
  action: string
  ignore: string
}

const WORDING: Record<LinkPurpose, Wording> = {
  verify_email: {
    subject: (org) => `Confirm your email address for ${org}`,
    intro: (org) => `Please confirm that this is your email address for your ${org} account.`,
    action: 'Confirm my email address',
    ignore: 'If you did not ask for this, you can ignore this email.',
  },
  password_reset: {
    subject: (org) => `Reset your ${org} password`,
    intro: (org) => `Someone (hopefully you) asked to reset the password of your ${org} account.`,
    action: 'Choose a new password',
    ignore: 'If you did not ask for this, ignore this email: your password stays as it is.',
  },
  magic_link: {
    subject: (org) => `Your sign-in link for ${org}`,
    intro: (org) => `Use this link to sign in to ${org}.`,
    action: 'Sign in',
    ignore: 'If you did not ask for this, ignore this email: nobody can sign in without the link.',
  },
}

/** The mail carrying a single-use link, as plain text and HTML. */
export function linkMail(purpose: LinkPurpose, input: LinkMailInput): MailMessage {
  const w = WORDING[purpose]
  const org = oneLine(input.organization)
  const expiry = `The link works once and expires in ${duration(input.ttlSeconds)}.`
  const text = [w.intro(org), '', `${w.action}: ${input.link}`, '', expiry, w.ignore, ''].join('\n')
  const href = escapeHtml(input.link)
  const html = [
    '<!doctype html>',
    '<html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111">',
    `<p>${escapeHtml(w.intro(org))}</p>`,
    `<p><a href="${href}" style="display:inline-block;padding:10px 16px;background:#111;color:#fff;text-decoration:none;border-radius:6px">${escapeHtml(w.action)}</a></p>`,
    `<p style="font-size:13px;color:#555">Or paste this address into your browser:<br>${href}</p>`,
    `<p style="font-size:13px;color:#555">${escapeHtml(expiry)} ${escapeHtml(w.ignore)}</p>`,
    '</body></html>',
  ].join('\n')
  return { to: input.to, subject: w.subject(org), text, html }
}

/** Without Redis there are no links: refuse plainly rather than answer "invalid link". */
export async function redisCall<T>(c: Pick<RequestScope, 'var'>, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    c.var.logger.error(`email link ${what} failed`, { err })
    throw dependencyFailure(err) ?? commonError('service_unavailable')
  }
}

/**
 * Mail `user` a fresh single-use link for `purpose`. Answers false, sending nothing, once the
 * address has had its hourly share of mail in this tenant.
 */
export async function sendLink(c: RequestScope, tenant: Tenant, purpose: LinkPurpose, user: User, options: { claim?: boolean } = {}): Promise<boolean> {
  const { config, redis } = c.var
  if (!(await redisCall(c, 'quota', () => takeMailQuota(redis, tenant.id, user.email)))) return false
  const ttlSeconds = linkTtlSeconds(config, purpose)
  const grant: LinkGrant = { purpose, tenantId: tenant.id, userId: user.id, email: user.email }
  if (purpose === 'password_reset') grant.passwordChangedAt = user.passwordChangedAt
  if (options.claim) grant.claim = true
  const token = await redisCall(c, 'write', () => issueLinkToken(redis, grant, ttlSeconds))
  const link = appLink(c, tenant, purpose, token)
  try {
    await mailSender(config, redis).send(linkMail(purpose, { to: user.email, organization: tenant.name, link, ttlSeconds }))
  } catch (err) {
    throw new AppError(IdentityErrors.mail_unavailable[0], 'mail_unavailable', IdentityErrors.mail_unavailable[1], undefined, { cause: err })
  }
  return true
}

/**
 * A verification link for `tenant` to the account's address, sent now; answers whether it went
 * out. Used where a domain sign-up waits for its proof: a failure is logged, not answered, since
 * the membership stays pending and signing in again sends another link.
 */
export async function mailVerificationLink(c: RequestScope, tenant: Tenant, user: User): Promise<boolean> {
  try {
    const sent = await sendLink(c, tenant, 'verify_email', user)
    if (!sent) c.var.logger.info('verification mail dropped: hourly limit for the address', { tenant: tenant.id })
    return sent
  } catch (err) {
    c.var.logger.warn('verification mail not sent', { err, tenant: tenant.id })
    return false
  }
}

/**
 * A password-reset link that lets the owner of an address take an unverified account over
 * (someone registered their address): sent by a sign-up that finds the address claimed. Answers
 * whether it went out; failures are logged (the answer must not depend on the account).
 */
export async function mailClaimLink(c: RequestScope, tenant: Tenant, user: User): Promise<boolean> {
  try {
    return await sendLink(c, tenant, 'password_reset', user, { claim: true })
  } catch (err) {
    c.var.logger.warn('claim mail not sent', { err, tenant: tenant.id })
    return false
  }
}
