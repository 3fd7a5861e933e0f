import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** Error codes of platform sign-in, the workspace picker and self-service organizations (docs/api/auth.md). */
export const WorkspaceErrors = {
  invalid_selection: [401, 'This sign-in has expired or was already used: sign in again.'],
  tenant_creation_refused: [403, 'Creating organizations is not open on this deployment.'],
} as const satisfies Record<string, readonly [ContentfulStatusCode, string]>
