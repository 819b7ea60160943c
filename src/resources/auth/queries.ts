/**
 * The SQL of the auth routes, one statement per database round trip.
 * Refresh-token rotation and revocation are single statements, so two
 * concurrent uses of one token can never both succeed.
 */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { users } from "../../db/schema";

const publicUser = { id: users.id, name: users.name, email: users.email, createdAt: users.createdAt };
export type PublicUser = { id: string; name: string; email: string; createdAt: Date };

/** A token of a family in which any token was revoked is dead: that is how a family is revoked. */
const familyRevoked = (alias: string) =>
  sql.raw(`EXISTS (SELECT 1 FROM refresh_tokens f WHERE f.family_id = ${alias}.family_id AND f.revoked_at IS NOT NULL)`);

/** Inserts a user; a duplicate email (any case) raises 23505 on users_email_key. */
export async function insertUser(db: Db, values: { name: string; email: string; passwordHash: string }): Promise<PublicUser> {
  const [user] = await db.insert(users).values(values).returning(publicUser);
  return user;
}

export async function findUser(db: Db, id: string): Promise<PublicUser | undefined> {
  const [user] = await db.select(publicUser).from(users).where(eq(users.id, id));
  return user;
}

export interface LoginState {
  userId: string | null;
  passwordHash: string | null;
  /** Login attempts for this email in the current window, this one included. */
  attempts: number;
  /** Seconds until the current window ends. */
  windowSecondsLeft: number;
}

/**
 * Login, round trip 1: counts this attempt for the email and reads the
 * account (if any), in one statement. The count is taken before the
 * password is checked, and the upsert serialises concurrent attempts on the
 * row, so however many Worker instances race, each attempt sees its own
 * number and at most the limit ever get a password check. A successful
 * login clears the row (round trip 2), so only failures accumulate.
 */
export async function countLoginAttempt(db: Db, email: string, emailHash: string, windowMinutes: number): Promise<LoginState> {
  const { rows } = await db.execute<{
    user_id: string | null;
    password_hash: string | null;
    attempts: number;
    seconds_left: number;
  }>(sql`
    WITH attempt AS (
      INSERT INTO login_attempts AS a (email_hash, failures, window_started_at)
      VALUES (${emailHash}, 1, now())
      ON CONFLICT (email_hash) DO UPDATE SET
        failures = CASE WHEN a.window_started_at <= now() - make_interval(mins => ${windowMinutes}) THEN 1
                        ELSE least(a.failures + 1, 1000000) END,
        window_started_at = CASE WHEN a.window_started_at <= now() - make_interval(mins => ${windowMinutes}) THEN now()
                                 ELSE a.window_started_at END
      RETURNING failures, window_started_at
    )
    SELECT u.id AS user_id, u.password_hash, attempt.failures AS attempts,
           ceil(extract(epoch FROM attempt.window_started_at + make_interval(mins => ${windowMinutes}) - now()))::int AS seconds_left
    FROM attempt
    LEFT JOIN users u ON lower(u.email) = ${email}`);
  const row = rows[0];
  return {
    userId: row.user_id,
    passwordHash: row.password_hash,
    attempts: row.attempts,
    windowSecondsLeft: row.seconds_left,
  };
}

/**
 * Login, round trip 2 after a correct password: start a refresh-token
 * family, clear the failure count, and store the rehashed password when the
 * old hash used fewer iterations than configured.
 */
export async function startSession(
  db: Db,
  args: { userId: string; emailHash: string; refreshHash: string; refreshDays: number; upgradedHash: string | null },
): Promise<void> {
  await db.execute(sql`
    WITH issued AS (
      INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
      VALUES (${args.userId}, gen_random_uuid(), ${args.refreshHash}, now() + make_interval(days => ${args.refreshDays}))
      RETURNING id
    ), cleared AS (
      DELETE FROM login_attempts WHERE email_hash = ${args.emailHash}
    ), upgraded AS (
      UPDATE users SET password_hash = ${args.upgradedHash}, updated_at = now()
      WHERE id = ${args.userId} AND ${args.upgradedHash}::text IS NOT NULL
    )
    SELECT count(*) FROM issued`);
}

/**
 * Refresh: exchanges a live token for its successor (`newHash`, derived from
 * the token itself) in the same family, in one statement. A token rotated
 * less than `graceSeconds` ago whose successor is still unused, in a family
 * not revoked, is a retry of a lost answer: it gets the same successor again
 * and nothing changes. Any other presentation of a known token — used
 * (reuse, or the loser of a race for the same token), revoked or expired —
 * revokes its family. Returns the user id when the successor is the answer.
 */
export async function rotateRefreshToken(
  db: Db,
  args: { oldHash: string; newHash: string; refreshDays: number; graceSeconds: number },
): Promise<string | undefined> {
  const { rows } = await db.execute<{ user_id: string | null }>(sql`
    WITH presented AS (
      SELECT family_id FROM refresh_tokens WHERE token_hash = ${args.oldHash}
    ), rotated AS (
      UPDATE refresh_tokens t SET used_at = now()
      WHERE t.token_hash = ${args.oldHash} AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()
        AND NOT ${familyRevoked("t")}
      RETURNING t.user_id, t.family_id
    ), issued AS (
      INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
      SELECT user_id, family_id, ${args.newHash}, now() + make_interval(days => ${args.refreshDays}) FROM rotated
      RETURNING user_id
    ), retried AS (
      SELECT t.user_id FROM refresh_tokens t
      JOIN refresh_tokens s ON s.family_id = t.family_id AND s.token_hash = ${args.newHash}
      WHERE t.token_hash = ${args.oldHash} AND t.used_at > now() - make_interval(secs => ${args.graceSeconds}) AND t.revoked_at IS NULL
        AND s.used_at IS NULL AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT ${familyRevoked("t")}
    ), revoked AS (
      UPDATE refresh_tokens t SET revoked_at = now()
      WHERE t.family_id IN (SELECT family_id FROM presented) AND t.revoked_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM rotated) AND NOT EXISTS (SELECT 1 FROM retried)
    )
    SELECT coalesce((SELECT user_id FROM issued), (SELECT user_id FROM retried)) AS user_id`);
  return rows[0]?.user_id ?? undefined;
}

/**
 * Logout: revokes the family of any known token, in one statement. Returns
 * whether the token was live (204); a used, revoked or expired one is a 401
 * (and, if used, reuse: its family is revoked all the same).
 */
export async function revokeFamily(db: Db, tokenHash: string): Promise<boolean> {
  const { rows } = await db.execute<{ live: boolean | null }>(sql`
    WITH presented AS (
      SELECT t.family_id,
             t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now() AND NOT ${familyRevoked("t")} AS live
      FROM refresh_tokens t WHERE t.token_hash = ${tokenHash}
    ), revoked AS (
      UPDATE refresh_tokens t SET revoked_at = now()
      WHERE t.family_id IN (SELECT family_id FROM presented) AND t.revoked_at IS NULL
    )
    SELECT (SELECT live FROM presented) AS live`);
  return rows[0]?.live === true;
}
