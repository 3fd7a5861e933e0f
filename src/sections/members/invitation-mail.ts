import type { MailMessage } from '../../platform/mail/index.ts'

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (ch) => HTML_ESCAPES[ch]!)
/** Tenant names are tenant-controlled: one line in the subject, escaped in the HTML part. */
const oneLine = (value: string) => value.replace(/[\r\n\t]+/g, ' ').trim()

export interface InvitationMailInput {
  to: string
  organization: string
  role: string
  link: string
  expiresInDays: number
}

/** The invitation email: who invites to what, the accept link, how long it lives. */
export function invitationMail(input: InvitationMailInput): MailMessage {
  const org = oneLine(input.organization)
  const intro = `You have been invited to join ${org} as ${input.role === 'admin' || input.role === 'owner' ? 'an' : 'a'} ${input.role}.`
  const expiry = `The link works once and expires in ${input.expiresInDays} days.`
  const ignore = 'If you did not expect this invitation, you can ignore this email.'
  const text = [intro, '', `Accept the invitation: ${input.link}`, '', expiry, ignore, ''].join('\n')
  const href = escapeHtml(input.link)
  const html = [
    '<!doctype html>',
    '<html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#111">',
    `<p>${escapeHtml(intro)}</p>`,
    `<p><a href="${href}" style="display:inline-block;padding:10px 16px;background:#111;color:#fff;text-decoration:none;border-radius:6px">Accept the invitation</a></p>`,
    `<p style="font-size:13px;color:#555">Or paste this address into your browser:<br>${href}</p>`,
    `<p style="font-size:13px;color:#555">${escapeHtml(expiry)} ${escapeHtml(ignore)}</p>`,
    '</body></html>',
  ].join('\n')
  return { to: input.to, subject: `You are invited to join ${org}`, text, html }
}
