import type { ApiError } from '../api/client.ts'

/**
 * The API's refusals of member changes in words a person can act on (the codes stay stable; the
 * API's own message is the fallback).
 */
export function memberErrorMessage(error: ApiError): string {
  const details = (error.details ?? {}) as { permission?: string; permissions?: string[]; role?: string }
  const beyond = details.permissions?.join(', ')
  switch (error.code) {
    case 'last_owner': return 'The organization must keep at least one owner. Make someone else owner first, then change or remove this one.'
    // details: { permissions: those beyond the caller's own, role? } (assertGrantCeiling, src/authz/permissions.ts)
    case 'grant_exceeds_own': return `You cannot give more than you hold yourself${beyond ? ` (${details.role ? `the role ${details.role} grants` : 'this grants'} ${beyond}, which you do not hold)` : ''}.`
    case 'owner_role_required': return 'Only an owner can make someone owner, take the owner role away, or remove an owner.'
    case 'permission_denied': return `You are not allowed to do this${details.permission ? ` (it needs ${details.permission})` : ''}.`
    case 'already_member': return 'This person is already a member.'
    case 'invitation_pending': return 'An invitation to this address is already pending: revoke it first to send a new one.'
    default: return error.message
  }
}

/** "a@x.com, b@y.com" or one per line: the distinct addresses, in order. */
export function parseAddresses(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).map((a) => a.trim()).filter(Boolean))]
}
