import { z } from '@hono/zod-openapi'
import { normaliseTotpCode } from '../../identity/mfa/totp.ts'
import { Password } from '../../identity/schemas.ts'
import { canonicalBackupCode } from '../../identity/mfa/backup-codes.ts'

export const TotpCode = z
  .string()
  .max(16)
  .refine((v) => normaliseTotpCode(v) !== null, 'must be the 6-digit code shown by the authenticator app')
  .openapi({ example: '123456', description: '6 digits; spaces and a dash are ignored' })

/** A TOTP code or a backup code: malformed input is refused before it costs an attempt. */
export const SecondFactorCode = z
  .string()
  .max(32)
  .refine((v) => normaliseTotpCode(v) !== null || canonicalBackupCode(v) !== null, 'must be a 6-digit code or a backup code (xxxx-xxxx)')
  .openapi({ example: '123456', description: 'A 6-digit TOTP code, or a backup code such as `7k2m-9q4x`' })

export const TotpEnrolment = z
  .object({
    secret: z.string().openapi({ description: 'The TOTP seed, base32 (for manual entry)', example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' }),
    otpauth_uri: z.string().openapi({ example: 'otpauth://totp/Acme:ada%40example.com?issuer=Acme&secret=JBSW…&algorithm=SHA1&digits=6&period=30' }),
    qr_svg: z.string().openapi({ description: 'The otpauth URI as an SVG QR code' }),
  })
  .openapi('TotpEnrolment')

export const ConfirmTotpBody = z.strictObject({ code: TotpCode }).openapi('ConfirmTotp')

export const BackupCodes = z
  .object({ backup_codes: z.array(z.string()).openapi({ description: 'Ten single-use codes, shown this once', example: ['7k2m-9q4x', 'h3ta-0wpe'] }) })
  .openapi('BackupCodes')

export const DisableMfaBody = z
  .strictObject({
    password: Password.optional().openapi({ description: 'Required for accounts with a password' }),
    code: SecondFactorCode.optional().openapi({ description: 'For accounts without a password (social sign-in only): a current TOTP code or a backup code' }),
  })
  .openapi('DisableMfa')

export const RegenerateBackupCodesBody = z
  .strictObject({ code: SecondFactorCode.openapi({ description: 'A current TOTP code (or an unused backup code): proof that the second factor is at hand' }) })
  .openapi('RegenerateBackupCodes')

export const MfaStatus = z
  .object({
    totp: z.object({ enabled: z.boolean(), enabled_at: z.string().nullable(), pending: z.boolean().openapi({ description: 'An enrolment waits for confirmation' }) }),
    backup_codes_remaining: z.number().int(),
  })
  .openapi('MfaStatus')

export const VerifyMfaBody = z.strictObject({ mfa_token: z.string().min(1).max(128), code: SecondFactorCode }).openapi('VerifyMfa')
