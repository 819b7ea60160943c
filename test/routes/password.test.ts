/**
 * POST /api/auth/password/: changing one's own password ends every session
 * of the account (access tokens refused from the next request, refresh
 * families revoked) and answers a new one; a wrong current password counts
 * against the login limit of the account's email; the new password follows
 * the registration rules.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loginAttemptKey } from "../../src/lib/tokens";
import {
  call,
  callWithEnv,
  directSql,
  expectProblem,
  jsonRequest,
  login,
  newUser,
  PASSWORD,
  type TestUser,
  type TokenPair,
} from "../helpers";

const NEW_PASSWORD = "a brand new passphrase";
const change = (user: { auth: { Authorization: string } }, body: unknown, send = call) =>
  send("/api/auth/password/", jsonRequest("POST", body, user.auth));
const me = (access: string) => call("/api/auth/me/", { headers: { Authorization: `Bearer ${access}` } });
const refresh = (token: string) => call("/api/auth/refresh/", jsonRequest("POST", { refresh: token }));

describe("POST /api/auth/password/", () => {
  it("answers a new pair that works at once; every earlier access and refresh token is dead; the new password logs in", async () => {
    const user = await newUser();
    const other = await login(user.email, PASSWORD);
    const res = await change(user, { current_password: PASSWORD, new_password: NEW_PASSWORD });
    expect(res.status).toBe(200);
    const pair = (await res.json()) as TokenPair;
    expect(pair).toEqual({ access: expect.any(String), refresh: expect.any(String), token_type: "Bearer", expires_in: expect.any(Number) });
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    // Within the same second as the change, the new token works.
    expect((await me(pair.access)).status).toBe(200);
    for (const access of [user.tokens.access, other.access]) {
      const refused = await me(access);
      await expectProblem(refused, 401);
      expect(refused.headers.get("WWW-Authenticate")).toBe("Bearer");
    }
    for (const old of [user.tokens.refresh, other.refresh]) expect((await refresh(old)).status).toBe(401);
    // The new family is live.
    expect((await refresh(pair.refresh)).status).toBe(200);
    expect((await call("/api/auth/login/", jsonRequest("POST", { email: user.email, password: PASSWORD }))).status).toBe(401);
    await login(user.email, NEW_PASSWORD);
  });

  it("refuses a wrong current password with 400 under current_password, counted as a failed login, and changes nothing", async () => {
    const user = await newUser();
    const emailHash = await loginAttemptKey(user.email, env.JWT_SECRET);
    const body = await expectProblem(await change(user, { current_password: "not the password", new_password: NEW_PASSWORD }), 400);
    expect(Object.keys(body.errors ?? {})).toEqual(["current_password"]);
    expect(await directSql()`SELECT failures FROM login_attempts WHERE email_hash = ${emailHash}`).toEqual([{ failures: 1 }]);
    expect((await me(user.tokens.access)).status).toBe(200);
    await login(user.email, PASSWORD);
  });

  it("shares the login limit: past it, 429 for a wrong and for a right current password, and login is limited too", async () => {
    const user = await newUser();
    const limited = (u: TestUser, body: unknown) => change(u, body, (path, init) => callWithEnv({ LOGIN_MAX_FAILURES: "2" }, path, init));
    const wrong = { current_password: "not the password", new_password: NEW_PASSWORD };
    expect((await limited(user, wrong)).status).toBe(400);
    expect((await limited(user, wrong)).status).toBe(400);
    const third = await limited(user, wrong);
    await expectProblem(third, 429);
    expect(third.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
    await expectProblem(await limited(user, { current_password: PASSWORD, new_password: NEW_PASSWORD }), 429);
    const loginRes = await callWithEnv(
      { LOGIN_MAX_FAILURES: "2" },
      "/api/auth/login/",
      jsonRequest("POST", { email: user.email, password: PASSWORD }),
    );
    expect(loginRes.status).toBe(429);
    // Nothing changed: the old password and token still stand.
    expect((await me(user.tokens.access)).status).toBe(200);
  });

  it("applies the registration rules to new_password, the email's local part included, and changes nothing", async () => {
    const user = await newUser();
    const local = user.email.split("@")[0];
    for (const new_password of ["1234567890", "short", "password123", `xx${local}xx`]) {
      const body = await expectProblem(await change(user, { current_password: PASSWORD, new_password }), 400);
      expect(Object.keys(body.errors ?? {}), new_password).toEqual(["new_password"]);
    }
    // Both wrong: both named in one answer.
    const both = await expectProblem(await change(user, { current_password: "wrong one", new_password: `xx${local}xx` }), 400);
    expect(Object.keys(both.errors ?? {}).sort()).toEqual(["current_password", "new_password"]);
    expect((await me(user.tokens.access)).status).toBe(200);
  });

  it("refuses bad bodies with 400 or 415 and no token with 401", async () => {
    const user = await newUser();
    const missing = await expectProblem(await change(user, {}), 400);
    expect(Object.keys(missing.errors ?? {}).sort()).toEqual(["current_password", "new_password"]);
    const extra = await expectProblem(await change(user, { current_password: PASSWORD, new_password: NEW_PASSWORD, email: "x@y.z" }), 400);
    expect(Object.keys(extra.errors ?? {})).toEqual(["email"]);
    await expectProblem(await call("/api/auth/password/", { method: "POST", headers: user.auth, body: "x" }), 415);
    const anonymous = await call("/api/auth/password/", jsonRequest("POST", { current_password: PASSWORD, new_password: NEW_PASSWORD }));
    await expectProblem(anonymous, 401);
    expect(anonymous.headers.get("WWW-Authenticate")).toBe("Bearer");
  });

  it("takes passwords verbatim: a current password with spaces around it is another password", async () => {
    const user = await newUser();
    await expectProblem(await change(user, { current_password: ` ${PASSWORD} `, new_password: NEW_PASSWORD }), 400);
  });
});
