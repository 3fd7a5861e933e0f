import type { MiddlewareHandler } from 'hono'
import { commonError } from '../../errors.ts'
import { constantTimeEqual } from '../../platform/crypto.ts'
import { platformHostOnly } from '../tenant/index.ts'

/**
 * Guards the platform API with PLATFORM_ADMIN_TOKEN sent as `Authorization: Bearer …`.
 * The comparison is constant-time over SHA-256 digests, so neither content nor length leaks.
 */
export function requirePlatformAdmin(token: (c: Parameters<MiddlewareHandler>[0]) => string): MiddlewareHandler {
  return async function requirePlatformAdminMiddleware(c, next) {
    const presented = c.req.header('authorization')?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim()
    if (!presented) throw commonError('unauthenticated', 'Send the platform admin token as a Bearer token.')
    if (!(await constantTimeEqual(presented, token(c)))) throw commonError('forbidden', 'The platform admin token is not valid.')
    await next()
  }
}

/**
 * The gates of a platform API route: the platform host, and PLATFORM_ADMIN_TOKEN. Declared on
 * each route (`middleware: platformApi()`), as every route declares its own gates.
 */
export function platformApi(): [ReturnType<typeof platformHostOnly>, MiddlewareHandler] {
  return [platformHostOnly(), requirePlatformAdmin((c) => c.var.config.PLATFORM_ADMIN_TOKEN)]
}
