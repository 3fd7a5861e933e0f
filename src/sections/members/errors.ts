import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Error codes of members and invitations (docs/api/members.md). */
export const MemberErrors = {
  member_not_found: [404, 'No such member in this organization.'],
  owner_role_required: [403, 'Only an owner can grant or take away the owner role, or remove an owner.'],
  last_owner: [409, 'The organization must keep at least one owner: make someone else owner first.'],
  member_changed: [409, 'The member changed meanwhile; read it again and retry.'],
  already_member: [409, 'This person is already a member of the organization.'],
  invitation_pending: [409, 'A pending invitation for this email already exists: revoke it first to send a new one.'],
  invitation_not_found: [404, 'No such invitation.'],
  invitation_not_pending: [409, 'This invitation was already accepted or revoked.'],
  invitation_used: [410, 'This invitation was already accepted.'],
  invitation_revoked: [410, 'This invitation was revoked.'],
  invitation_expired: [410, 'This invitation has expired: ask for a new one.'],
  invitation_email_mismatch: [403, 'This invitation was sent to another email address.'],
  password_required: [400, 'A password is required to accept this invitation.'],
  invalid_cursor: [400, 'The cursor is not valid: use next_cursor of the previous page.'],
  mail_unavailable: [503, 'The invitation email could not be sent; try again later.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
