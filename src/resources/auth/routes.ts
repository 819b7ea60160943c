/**
 * Accounts and tokens (docs/BEHAVIOUR.md). Round trips: register 1, login 2 (1 when
 * the password is wrong or the email rate-limited), refresh 1, logout 1, me 1,
 * password change 2 (read the hash; PBKDF2; write or count the failure);
 * verifying an access token 0.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../app-env";
import { classifyDbError } from "../../db/errors";
import { CONSTRAINTS } from "../../db/schema";
import { type AuthConfig, authConfig } from "../../lib/config";
import { requiredEmail, requiredText, verbatimText } from "../../lib/fields";
import { hashPassword, verifyPassword } from "../../lib/password";
import { passwordProblems } from "../../lib/password-rules";
import { problem } from "../../lib/problem";
import { actorOf } from "../../lib/resource";
import { describeRoute } from "../../lib/route-doc";
import { type IssuedTokens, loginAttemptKey, newRefreshToken, sha256, signAccessToken, successorRefreshToken } from "../../lib/tokens";
import { jsonBody } from "../../lib/validation";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { limitPerClientIp } from "../../middleware/rate-limit";
import {
  changePassword,
  countFailedPasswordCheck,
  countLoginAttempt,
  findMe,
  insertUser,
  meResponse,
  readCredentials,
  revokeFamily,
  rotateRefreshToken,
  startSession,
} from "./queries";

/** A new password's own rules; those that need the email (its local part) are applied where the email is known. */
const newPassword = () => verbatimText(8, 128);

const registerBody = z
  .strictObject({
    name: requiredText(150),
    email: requiredEmail(),
    password: newPassword(),
  })
  .superRefine(
    ({ password, email }, ctx) => {
      for (const message of passwordProblems(password, String(email).trim().toLowerCase())) {
        ctx.addIssue({ code: "custom", path: ["password"], message });
      }
    },
    // Also when another field failed, so that one answer lists every problem.
    {
      when: ({ value }) =>
        typeof (value as { password?: unknown })?.password === "string" && typeof (value as { email?: unknown })?.email === "string",
    },
  );

const loginBody = z.strictObject({
  email: requiredEmail(),
  // Any length a client might send; a wrong one simply does not match.
  password: verbatimText(1, 1024),
});

const refreshBody = z.strictObject({ refresh: requiredText(512) });

const passwordChangeBody = z
  .strictObject({
    // Any length a client might send; a wrong one simply does not match.
    current_password: verbatimText(1, 1024),
    new_password: newPassword(),
  })
  .superRefine(
    // The rules that need no email; the local-part rule runs once the account's email is read.
    ({ new_password }, ctx) => {
      for (const message of passwordProblems(new_password, "")) ctx.addIssue({ code: "custom", path: ["new_password"], message });
    },
    { when: ({ value }) => typeof (value as { new_password?: unknown })?.new_password === "string" },
  );

/** What register and me answer: the account, never its password or hash. */
export const userSchema = z.object({ id: z.uuid(), name: z.string(), email: z.email(), created_at: z.iso.datetime() }).meta({ id: "User" });
export const meSchema = meResponse.schema.meta({ id: "Me" });
export const tokensSchema = z
  .object({
    access: z.string().meta({ description: "HS256 JWT; send as `Authorization: Bearer <access>`." }),
    refresh: z.string().meta({ description: "Opaque, single-use: exchange it once at /api/auth/refresh/." }),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().meta({ description: "Seconds until the access token expires." }),
  })
  .meta({ id: "Tokens" });

// What each route documents (scripts/openapi.ts reads it from the chain below).
const registerDoc = describeRoute({
  operationId: "register",
  summary: "Create an account",
  description: "Password: 8–128 characters, not all digits, not containing the email's local part, not a common password.",
  bodyExample: { name: "Ada Lovelace", email: "ada@example.com", password: "analytical engine 1843" },
  success: { status: 201, description: "The account.", schema: userSchema },
  errors: [409, 429],
});
const loginDoc = describeRoute({
  operationId: "login",
  summary: "Log in: get an access and a refresh token",
  description:
    "After 10 failed logins for one email within 15 minutes, further logins for it answer 429 until the window passes. Register and login are also limited per client address (429 with Retry-After).",
  bodyExample: { email: "ada@example.com", password: "analytical engine 1843" },
  success: { status: 200, description: "A new session.", schema: tokensSchema },
  errors: [401, 429],
});
const refreshDoc = describeRoute({
  operationId: "refreshTokens",
  summary: "Exchange a refresh token for a new pair",
  description:
    "Refresh tokens are single-use: presenting one again revokes its whole session (reuse detection). Never refresh in parallel. " +
    "One exception for lost answers: presenting a token again within REFRESH_REUSE_GRACE_SECONDS (default 30) of its rotation, while its successor is unused, returns that same successor (and a fresh access token).",
  success: { status: 200, description: "A new pair; the old refresh token is spent.", schema: tokensSchema },
  errors: [401, 429],
});
const logoutDoc = describeRoute({
  operationId: "logout",
  summary: "End a session (revoke the refresh token's family)",
  success: { status: 204, description: "Revoked." },
  errors: [401],
});
const meDoc = describeRoute({
  operationId: "getMe",
  summary: "The caller's account",
  success: { status: 200, description: "The account, and whether it is an administrator's.", schema: meSchema },
});
const passwordDoc = describeRoute({
  operationId: "changePassword",
  summary: "Change one's own password: every other session ends, the answer starts a new one",
  description:
    "Every access token issued before the change is refused (one issued within the same second may be too), every refresh token is revoked, and the answer is a new pair. A wrong `current_password` is 400 under `errors.current_password` and counts as a failed login for the account's email: past the login limit the answer is 429, for a right password too. `new_password` follows the registration rules (`errors.new_password`). Two database round trips.",
  bodyExample: { current_password: "analytical engine 1843", new_password: "difference engine 1822" },
  success: { status: 200, description: "A new session.", schema: tokensSchema },
  errors: [429],
});

const INVALID_LOGIN = "Invalid email or password";
const WRONG_PASSWORD = "This is not the account's current password.";
const invalidRefresh = () => problem(401, "The refresh token is invalid, expired or already used.");

async function issueTokens(userId: string, config: AuthConfig, refresh: string, notBefore = 0): Promise<IssuedTokens> {
  const access = await signAccessToken(userId, config, notBefore);
  return { access: access.token, refresh, token_type: "Bearer", expires_in: access.expiresIn };
}

export const authRoutes = new Hono<AppEnv>()
  // Every auth route needs the token settings: without them, 500 before anything else.
  .use(async (c, next) => {
    authConfig(c.env, c.var.requestId);
    await next();
  })
  .use(database())
  .post("/register", registerDoc, limitPerClientIp("AUTH_PASSWORD_LIMITER"), jsonBody(registerBody), async (c) => {
    const config = authConfig(c.env, c.var.requestId);
    const { name, email, password } = c.req.valid("json");
    const passwordHash = await hashPassword(password, config.PASSWORD_ITERATIONS);
    const user = await insertUser(c.var.db, { name, email, passwordHash }).catch((error: unknown) => {
      if (classifyDbError(error)?.constraint === CONSTRAINTS.usersEmail) throw problem(409, "An account with this email already exists.");
      throw error;
    });
    return c.json(user, 201);
  })
  .post("/login", loginDoc, limitPerClientIp("AUTH_PASSWORD_LIMITER"), jsonBody(loginBody), async (c) => {
    const config = authConfig(c.env, c.var.requestId);
    const { email, password } = c.req.valid("json");
    const emailHash = await loginAttemptKey(email, config.JWT_SECRET);
    // The attempt is counted before the password is checked, so racing requests cannot all get a guess (docs/SECURITY.md).
    const state = await countLoginAttempt(c.var.db, email, emailHash, config.LOGIN_WINDOW_MINUTES);
    if (state.attempts > config.LOGIN_MAX_FAILURES) {
      throw problem(429, "Too many failed logins for this email; try again later.", {
        headers: { "Retry-After": String(Math.max(1, state.windowSecondsLeft)) },
      });
    }
    // Same PBKDF2 work whether or not the account exists (a dummy hash stands in).
    const check = await verifyPassword(password, state.passwordHash ?? undefined, config.PASSWORD_ITERATIONS);
    if (!check.valid || !state.userId) throw problem(401, INVALID_LOGIN);
    const refresh = newRefreshToken();
    const session = await startSession(c.var.db, {
      userId: state.userId,
      emailHash,
      refreshHash: await sha256(refresh),
      refreshDays: config.JWT_REFRESH_DAYS,
      upgradedHash: check.needsUpgrade ? await hashPassword(password, config.PASSWORD_ITERATIONS) : null,
    });
    // Deactivated between the two round trips.
    if (!session) throw problem(401, INVALID_LOGIN);
    return c.json(await issueTokens(state.userId, config, refresh, session.notBefore));
  })
  .post("/refresh", refreshDoc, limitPerClientIp("AUTH_REFRESH_LIMITER"), jsonBody(refreshBody), async (c) => {
    const config = authConfig(c.env, c.var.requestId);
    const presented = c.req.valid("json").refresh;
    // Derived, not random: a retry within the grace window gets this same token again (docs/SECURITY.md).
    const refresh = await successorRefreshToken(presented, config.JWT_SECRET);
    const rotated = await rotateRefreshToken(c.var.db, {
      oldHash: await sha256(presented),
      newHash: await sha256(refresh),
      refreshDays: config.JWT_REFRESH_DAYS,
      graceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
    });
    if (!rotated) throw invalidRefresh();
    return c.json(await issueTokens(rotated.userId, config, refresh, rotated.notBefore));
  })
  .post("/logout", logoutDoc, jsonBody(refreshBody), async (c) => {
    const live = await revokeFamily(c.var.db, await sha256(c.req.valid("json").refresh));
    if (!live) throw invalidRefresh();
    return c.body(null, 204);
  })
  .get("/me", meDoc, requireUser(), async (c) => c.json(await findMe(c.var.db, actorOf(c))))
  .post("/password", passwordDoc, requireUser(), limitPerClientIp("AUTH_PASSWORD_LIMITER"), jsonBody(passwordChangeBody), async (c) => {
    const config = authConfig(c.env, c.var.requestId);
    const actor = actorOf(c);
    const { current_password, new_password } = c.req.valid("json");
    const account = await readCredentials(c.var.db, actor);
    const check = await verifyPassword(current_password, account.passwordHash, config.PASSWORD_ITERATIONS);
    const errors: Record<string, string[]> = {};
    const newProblems = passwordProblems(new_password, account.email);
    if (newProblems.length > 0) errors.new_password = newProblems;
    const emailHash = await loginAttemptKey(account.email, config.JWT_SECRET);
    const tooMany = (secondsLeft: number) =>
      problem(429, "Too many failed logins for this email; try again later.", {
        headers: { "Retry-After": String(Math.max(1, secondsLeft)) },
      });
    if (!check.valid) {
      const state = await countFailedPasswordCheck(c.var.db, actor, emailHash, config.LOGIN_WINDOW_MINUTES);
      if (state.attempts > config.LOGIN_MAX_FAILURES) throw tooMany(state.windowSecondsLeft);
      throw problem(400, "The request body is invalid.", { errors: { current_password: [WRONG_PASSWORD], ...errors } });
    }
    if (newProblems.length > 0) throw problem(400, "The request body is invalid.", { errors });
    const refresh = newRefreshToken();
    const change = await changePassword(c.var.db, actor, {
      verifiedHash: account.passwordHash,
      newHash: await hashPassword(new_password, config.PASSWORD_ITERATIONS),
      emailHash,
      refreshHash: await sha256(refresh),
      refreshDays: config.JWT_REFRESH_DAYS,
      maxFailures: config.LOGIN_MAX_FAILURES,
      windowMinutes: config.LOGIN_WINDOW_MINUTES,
    });
    if (change.status === "limited") throw tooMany(change.windowSecondsLeft);
    if (change.status === "stale") throw problem(400, "The request body is invalid.", { errors: { current_password: [WRONG_PASSWORD] } });
    return c.json(await issueTokens(actor.userId, config, refresh, change.notBefore));
  });
