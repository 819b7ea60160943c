/**
 * The SQL of the auth routes, one statement per database round trip.
 * Refresh-token rotation and revocation are single statements, so two
 * concurrent uses of one token can never both succeed.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type Actor, actorCheck, bare, tokensRefusedUntilNow } from "../../db/fragments";
import { responseOf } from "../../db/response";
import { users } from "../../db/schema";

/** What POST /api/auth/register answers: the new account. */
export const registeredUser = responseOf({ id: users.id, name: users.name, email: users.email, created_at: users.createdAt });

/** A token of a family in which any token was revoked is dead: that is how a family is revoked. */
const familyRevoked = (alias: string) =>
  sql.raw(`EXISTS (SELECT 1 FROM refresh_tokens f WHERE f.family_id = ${alias}.family_id AND f.revoked_at IS NOT NULL)`);

/** Inserts a user; a duplicate email (any case) raises 23505 on users_email_key. */
export async function insertUser(db: Db, values: { name: string; email: string; passwordHash: string }) {
  const { rows } = await db.execute<{ body: typeof registeredUser.schema._output }>(sql`
    WITH u AS (
      INSERT INTO ${users} (${bare(users.name)}, ${bare(users.email)}, ${bare(users.passwordHash)})
      VALUES (${values.name}, ${values.email}, ${values.passwordHash}) RETURNING *
    )
    SELECT ${registeredUser.json("u")} AS body FROM u`);
  return rows[0].body;
}

/** What GET /api/auth/me answers: the caller's account, with whether it is an administrator. */
export const meResponse = responseOf({
  id: users.id,
  name: users.name,
  email: users.email,
  created_at: users.createdAt,
  is_admin: users.isAdmin,
});

/** The caller's account; the statement's token check answers 401 for an inactive, signed-out or vanished account. */
export async function findMe(db: Db, actor: Actor) {
  const { rows } = await db.execute<{ body: typeof meResponse.schema._output }>(sql`
    SELECT ${actorCheck(actor)} AS actor, (SELECT ${meResponse.json("u")} FROM ${users} u WHERE u.id = ${actor.userId}) AS body`);
  return rows[0].body;
}

/**
 * `floor(epoch) + 1` of the account's tokens_valid_after: the first whole
 * second whose tokens the account's token check accepts (signAccessToken's
 * notBefore); NULL when the account was never signed out everywhere.
 */
const notBefore = (column: string) => sql.raw(`(floor(extract(epoch FROM ${column})) + 1)::float8`);

/** One more login attempt for the email: the login limit's counter (see countLoginAttempt). */
const countAttempt = (emailHash: string, windowMinutes: number) => sql`
      INSERT INTO login_attempts AS a (email_hash, failures, window_started_at)
      VALUES (${emailHash}, 1, now())
      ON CONFLICT (email_hash) DO UPDATE SET
        failures = CASE WHEN a.window_started_at <= now() - make_interval(mins => ${windowMinutes}) THEN 1
                        ELSE least(a.failures + 1, 1000000) END,
        window_started_at = CASE WHEN a.window_started_at <= now() - make_interval(mins => ${windowMinutes}) THEN now()
                                 ELSE a.window_started_at END
      RETURNING failures, window_started_at`;
const secondsLeft = (windowStartedAt: string, windowMinutes: number) =>
  sql`ceil(extract(epoch FROM ${sql.raw(windowStartedAt)} + make_interval(mins => ${windowMinutes}) - now()))::int`;

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
    WITH attempt AS (${countAttempt(emailHash, windowMinutes)})
    SELECT u.id AS user_id, u.password_hash, attempt.failures AS attempts, ${secondsLeft("attempt.window_started_at", windowMinutes)} AS seconds_left
    FROM attempt
    -- A deactivated account logs in no more than an unknown email (the same dummy-hash work, the same 401).
    LEFT JOIN users u ON lower(u.email) = ${email} AND u.is_active`);
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
 * family, clear the failure count, record the login (last_login_at, and the
 * version the administrators' ETag is made from), and store the rehashed
 * password when the old hash used fewer iterations than configured. An
 * account deactivated since round trip 1 gets no session (undefined: 401).
 */
export async function startSession(
  db: Db,
  args: { userId: string; emailHash: string; refreshHash: string; refreshDays: number; upgradedHash: string | null },
): Promise<{ notBefore: number } | undefined> {
  const { rows } = await db.execute<{ started: number; not_before: number | null }>(sql`
    WITH account AS (
      UPDATE users SET last_login_at = now(), version = version + 1,
        password_hash = coalesce(${args.upgradedHash}::text, password_hash),
        updated_at = CASE WHEN ${args.upgradedHash}::text IS NULL THEN updated_at ELSE now() END
      WHERE id = ${args.userId} AND is_active
      RETURNING id, tokens_valid_after
    ), issued AS (
      INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
      SELECT id, gen_random_uuid(), ${args.refreshHash}, now() + make_interval(days => ${args.refreshDays}) FROM account
      RETURNING id
    ), cleared AS (
      DELETE FROM login_attempts WHERE email_hash = ${args.emailHash}
    )
    SELECT (SELECT count(*) FROM issued)::int AS started, (SELECT ${notBefore("tokens_valid_after")} FROM account) AS not_before`);
  return rows[0].started === 1 ? { notBefore: rows[0].not_before ?? 0 } : undefined;
}

/**
 * Password change, round trip 1: the caller's email (the login limit's key)
 * and password hash, read by the statement that checks the token.
 */
export async function readCredentials(db: Db, actor: Actor): Promise<{ email: string; passwordHash: string }> {
  const { rows } = await db.execute<{ account: { email: string; password_hash: string } }>(sql`
    SELECT ${actorCheck(actor)} AS actor,
           (SELECT json_build_object('email', u.email, 'password_hash', u.password_hash) FROM users u WHERE u.id = ${actor.userId}) AS account`);
  return { email: rows[0].account.email, passwordHash: rows[0].account.password_hash };
}

/**
 * Password change, round trip 2 after a wrong current password: counted as
 * a failed login for the account's email, as login counts it.
 */
export async function countFailedPasswordCheck(
  db: Db,
  actor: Actor,
  emailHash: string,
  windowMinutes: number,
): Promise<{ attempts: number; windowSecondsLeft: number }> {
  const { rows } = await db.execute<{ attempts: number; seconds_left: number }>(sql`
    WITH attempt AS (${countAttempt(emailHash, windowMinutes)})
    SELECT ${actorCheck(actor)} AS actor, attempt.failures AS attempts, ${secondsLeft("attempt.window_started_at", windowMinutes)} AS seconds_left
    FROM attempt`);
  return { attempts: rows[0].attempts, windowSecondsLeft: rows[0].seconds_left };
}

export type PasswordChange =
  | { status: "changed"; notBefore: number }
  /** The email is at the login limit: a right password is refused too, so that guessing learns nothing past it. */
  | { status: "limited"; windowSecondsLeft: number }
  /** The hash changed since round trip 1 (a concurrent change): the password given is no longer the current one. */
  | { status: "stale" };

/**
 * Password change, round trip 2 after a right current password, in one
 * statement: the new hash stored (only over the hash that was verified),
 * every access token issued until now refused (tokens_valid_after), every
 * refresh family revoked, a new family started, the failure count cleared.
 */
export async function changePassword(
  db: Db,
  actor: Actor,
  args: {
    verifiedHash: string;
    newHash: string;
    emailHash: string;
    refreshHash: string;
    refreshDays: number;
    maxFailures: number;
    windowMinutes: number;
  },
): Promise<PasswordChange> {
  const { rows } = await db.execute<{ limited: number; seconds_left: number | null; not_before: number | null }>(sql`
    WITH limited AS (
      SELECT window_started_at FROM login_attempts
      WHERE email_hash = ${args.emailHash} AND failures >= ${args.maxFailures}
        AND window_started_at > now() - make_interval(mins => ${args.windowMinutes})
    ), changed AS (
      UPDATE users SET password_hash = ${args.newHash}, tokens_valid_after = ${tokensRefusedUntilNow(sql`users.tokens_valid_after`)}, version = version + 1, updated_at = now()
      WHERE id = ${actor.userId} AND password_hash = ${args.verifiedHash} AND NOT EXISTS (SELECT 1 FROM limited)
      RETURNING id, tokens_valid_after
    ), revoked AS (
      -- Sees the tokens as they were before this statement: the new family below stays live.
      UPDATE refresh_tokens SET revoked_at = now()
      WHERE user_id = ${actor.userId} AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM changed)
    ), issued AS (
      INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
      SELECT id, gen_random_uuid(), ${args.refreshHash}, now() + make_interval(days => ${args.refreshDays}) FROM changed
    ), cleared AS (
      DELETE FROM login_attempts WHERE email_hash = ${args.emailHash} AND EXISTS (SELECT 1 FROM changed)
    )
    SELECT ${actorCheck(actor)} AS actor, (SELECT count(*) FROM limited)::int AS limited,
           (SELECT ${secondsLeft("window_started_at", args.windowMinutes)} FROM limited) AS seconds_left,
           (SELECT ${notBefore("tokens_valid_after")} FROM changed) AS not_before`);
  const row = rows[0];
  if (row.limited > 0) return { status: "limited", windowSecondsLeft: row.seconds_left ?? 1 };
  if (row.not_before === null) return { status: "stale" };
  return { status: "changed", notBefore: row.not_before };
}

/**
/**
 * Refresh: exchanges a live token for its successor (`newHash`, derived from
 * the token itself) in the same family, in one statement. A token rotated
 * less than `graceSeconds` ago whose successor is still unused, in a family
 * not revoked, is a retry of a lost answer: it gets the same successor again
 * and nothing changes. Any other presentation of a known token — used
 * (reuse, or the loser of a race for the same token), revoked or expired —
 * revokes its family, as does an account that was deactivated. Returns the
 * user id (and the notBefore for its access token) when the successor is the answer.
 */
export async function rotateRefreshToken(
  db: Db,
  args: { oldHash: string; newHash: string; refreshDays: number; graceSeconds: number },
): Promise<{ userId: string; notBefore: number } | undefined> {
  const { rows } = await db.execute<{ user_id: string | null; not_before: number | null }>(sql`
    WITH presented AS (
      SELECT family_id FROM refresh_tokens WHERE token_hash = ${args.oldHash}
    ), rotated AS (
      UPDATE refresh_tokens t SET used_at = now()
      WHERE t.token_hash = ${args.oldHash} AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now()
        AND NOT ${familyRevoked("t")}
        -- A deactivated account refreshes no more (its families were revoked too, when it was deactivated).
        AND EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id AND u.is_active)
      RETURNING t.user_id, t.family_id
    ), issued AS (
      INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
      SELECT user_id, family_id, ${args.newHash}, now() + make_interval(days => ${args.refreshDays}) FROM rotated
      RETURNING user_id
    ), retried AS (
      SELECT t.user_id FROM refresh_tokens t
      JOIN refresh_tokens s ON s.family_id = t.family_id AND s.token_hash = ${args.newHash}
      -- 0 turns the window off outright: a racing loser whose transaction began before the winner's sees
      -- used_at later than its own now(), which the comparison alone would take for "rotated 0 s ago".
      WHERE ${args.graceSeconds}::int > 0 AND t.token_hash = ${args.oldHash}
        AND t.used_at > now() - make_interval(secs => ${args.graceSeconds}) AND t.revoked_at IS NULL
        AND s.used_at IS NULL AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT ${familyRevoked("t")}
        AND EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id AND u.is_active)
    ), revoked AS (
      UPDATE refresh_tokens t SET revoked_at = now()
      WHERE t.family_id IN (SELECT family_id FROM presented) AND t.revoked_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM rotated) AND NOT EXISTS (SELECT 1 FROM retried)
    )
    SELECT coalesce((SELECT user_id FROM issued), (SELECT user_id FROM retried)) AS user_id,
           (SELECT ${notBefore("u.tokens_valid_after")} FROM users u
            WHERE u.id = coalesce((SELECT user_id FROM issued), (SELECT user_id FROM retried))) AS not_before`);
  const row = rows[0];
  return row?.user_id ? { userId: row.user_id, notBefore: row.not_before ?? 0 } : undefined;
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
