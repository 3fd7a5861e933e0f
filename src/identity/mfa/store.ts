import { and, count, eq, isNotNull, isNull, sql } from 'drizzle-orm'
import { userBackupCodes, userMfa } from '../../db/public-schema.ts'
import type { Database } from '../../platform/database.ts'

/**
 * Every read and write of `user_mfa` and `user_backup_codes`. The neon-http driver has no
 * interactive transactions, so each change is one conditional statement (or one batch) whose
 * WHERE clause carries the check: two concurrent requests cannot both pass it.
 */
export interface MfaRow {
  secretEnc: string
  enabledAt: string | null
  lastUsedStep: number | null
}

/** The AES-GCM associated data of a user's TOTP secret: a value copied to another user does not decrypt. */
export const totpSecretContext = (userId: string) => `totp:${userId}`

export function mfaStore(db: Database) {
  return {
    async find(userId: string): Promise<MfaRow | undefined> {
      const rows = await db
        .select({ secretEnc: userMfa.totpSecretEnc, enabledAt: userMfa.enabledAt, lastUsedStep: userMfa.lastUsedStep })
        .from(userMfa)
        .where(eq(userMfa.userId, userId))
        .limit(1)
      return rows[0]
    },

    /**
     * Store a new pending secret, replacing an unconfirmed one; false (nothing written) when
     * TOTP is already on. Backup codes left from an earlier enrolment go in the same batch.
     */
    async startEnrolment(userId: string, secretEnc: string): Promise<boolean> {
      const [written] = await db.batch([
        db
          .insert(userMfa)
          .values({ userId, totpSecretEnc: secretEnc })
          .onConflictDoUpdate({
            target: userMfa.userId,
            set: { totpSecretEnc: secretEnc, lastUsedStep: null, createdAt: sql`now()` },
            setWhere: isNull(userMfa.enabledAt),
          })
          .returning({ userId: userMfa.userId }),
        db
          .delete(userBackupCodes)
          .where(and(eq(userBackupCodes.userId, userId), sql`not exists (select 1 from ${userMfa} where ${userMfa.userId} = ${userId} and ${userMfa.enabledAt} is not null)`)),
      ])
      return written.length > 0
    },

    /**
     * Turn TOTP on with the backup codes, in one statement: only if the secret that was checked
     * is still the pending one (not confirmed meanwhile, nor replaced by a new enrolment). The
     * confirming code's step becomes the last used one, so it cannot also complete a sign-in.
     */
    async confirm(userId: string, secretEnc: string, step: number, codeHashes: string[]): Promise<boolean> {
      const values = sql.join(codeHashes.map((h) => sql`(${h})`), sql`, `)
      const result = await db.execute(sql`
        with confirmed as (
          update ${userMfa} set enabled_at = now(), last_used_step = ${step}
          where ${userMfa.userId} = ${userId} and ${userMfa.enabledAt} is null and ${userMfa.totpSecretEnc} = ${secretEnc}
          returning ${userMfa.userId} as user_id
        )
        insert into ${userBackupCodes} (user_id, code_hash)
        select confirmed.user_id, codes.code_hash from confirmed cross join (values ${values}) as codes (code_hash)
        returning user_id`)
      return result.rows.length > 0
    },

    /** Record a TOTP step as used; false if it (or a later one) already was: a replay. */
    async useStep(userId: string, step: number): Promise<boolean> {
      const rows = await db
        .update(userMfa)
        .set({ lastUsedStep: step })
        .where(and(eq(userMfa.userId, userId), isNotNull(userMfa.enabledAt), sql`(${userMfa.lastUsedStep} is null or ${userMfa.lastUsedStep} < ${step})`))
        .returning({ userId: userMfa.userId })
      return rows.length > 0
    },

    /** Spend a backup code; false if it is unknown or already spent. */
    async useBackupCode(userId: string, codeHash: string): Promise<boolean> {
      const rows = await db
        .update(userBackupCodes)
        .set({ usedAt: sql`now()` })
        .where(and(eq(userBackupCodes.userId, userId), eq(userBackupCodes.codeHash, codeHash), isNull(userBackupCodes.usedAt)))
        .returning({ userId: userBackupCodes.userId })
      return rows.length > 0
    },

    /**
     * A new set of backup codes in place of the old one, in one statement, only while TOTP is
     * on; false (nothing written) otherwise.
     */
    async replaceBackupCodes(userId: string, codeHashes: string[]): Promise<boolean> {
      const values = sql.join(codeHashes.map((h) => sql`(${h})`), sql`, `)
      const result = await db.execute(sql`
        with enabled as (
          select ${userMfa.userId} as user_id from ${userMfa} where ${userMfa.userId} = ${userId} and ${userMfa.enabledAt} is not null
        ), removed as (
          delete from ${userBackupCodes} where ${userBackupCodes.userId} in (select user_id from enabled)
        )
        insert into ${userBackupCodes} (user_id, code_hash)
        select enabled.user_id, codes.code_hash from enabled cross join (values ${values}) as codes (code_hash)
        returning user_id`)
      return result.rows.length > 0
    },

    async backupCodesLeft(userId: string): Promise<number> {
      const [row] = await db.select({ n: count() }).from(userBackupCodes).where(and(eq(userBackupCodes.userId, userId), isNull(userBackupCodes.usedAt)))
      return Number(row?.n ?? 0)
    },

    /** The statements that remove TOTP and the backup codes, for the caller's batch (with its audit rows). */
    removal(userId: string) {
      return [
        db.delete(userMfa).where(eq(userMfa.userId, userId)).returning({ enabledAt: userMfa.enabledAt }),
        db.delete(userBackupCodes).where(eq(userBackupCodes.userId, userId)),
      ] as const
    },
  }
}

export type MfaStore = ReturnType<typeof mfaStore>
