/**
 * Accounts and tokens (docs/BEHAVIOUR.md). Round trips: register 1, login 2 (1 when
 * the password is wrong or the email rate-limited), refresh 1, logout 1, me 1;
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
import { describeRoute } from "../../lib/route-doc";
import { type IssuedTokens, loginAttemptKey, newRefreshToken, sha256, signAccessToken, successorRefreshToken } from "../../lib/tokens";
import { jsonBody } from "../../lib/validation";
import { requireUser, unauthorized } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { limitPerClientIp } from "../../middleware/rate-limit";
import { countLoginAttempt, findUser, insertUser, type PublicUser, revokeFamily, rotateRefreshToken, startSession } from "./queries";

const registerBody = z
  .strictObject({
    name: requiredText(150),
    email: requiredEmail(),
    password: verbatimText(8, 128),
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

/** What register and me answer: the account, never its password or hash. */
export const userSchema = z.object({ id: z.uuid(), name: z.string(), email: z.email(), created_at: z.iso.datetime() }).meta({ id: "User" });
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
  success: { status: 200, description: "The account.", schema: userSchema },
});

const INVALID_LOGIN = "Invalid email or password";
const invalidRefresh = () => problem(401, "The refresh token is invalid, expired or already used.");

const userResponse = (u: PublicUser) => ({ id: u.id, name: u.name, email: u.email, created_at: u.createdAt.toISOString() });

async function issueTokens(userId: string, config: AuthConfig, refresh: string): Promise<IssuedTokens> {
  const access = await signAccessToken(userId, config);
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
    return c.json(userResponse(user), 201);
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
    await startSession(c.var.db, {
      userId: state.userId,
      emailHash,
      refreshHash: await sha256(refresh),
      refreshDays: config.JWT_REFRESH_DAYS,
      upgradedHash: check.needsUpgrade ? await hashPassword(password, config.PASSWORD_ITERATIONS) : null,
    });
    return c.json(await issueTokens(state.userId, config, refresh));
  })
  .post("/refresh", refreshDoc, limitPerClientIp("AUTH_REFRESH_LIMITER"), jsonBody(refreshBody), async (c) => {
    const config = authConfig(c.env, c.var.requestId);
    const presented = c.req.valid("json").refresh;
    // Derived, not random: a retry within the grace window gets this same token again (docs/SECURITY.md).
    const refresh = await successorRefreshToken(presented, config.JWT_SECRET);
    const userId = await rotateRefreshToken(c.var.db, {
      oldHash: await sha256(presented),
      newHash: await sha256(refresh),
      refreshDays: config.JWT_REFRESH_DAYS,
      graceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
    });
    if (!userId) throw invalidRefresh();
    return c.json(await issueTokens(userId, config, refresh));
  })
  .post("/logout", logoutDoc, jsonBody(refreshBody), async (c) => {
    const live = await revokeFamily(c.var.db, await sha256(c.req.valid("json").refresh));
    if (!live) throw invalidRefresh();
    return c.body(null, 204);
  })
  .get("/me", meDoc, requireUser(), async (c) => {
    const user = await findUser(c.var.db, c.var.userId);
    // A signed token for a user that no longer exists is as good as no token.
    if (!user) throw unauthorized();
    return c.json(userResponse(user));
  });
