import type { MailMessage } from '../../platform/mail/index.ts'
import type { LinkPurpose } from './link-tokens.ts'

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
