/**
 * docs/BEHAVIOUR.md through the Worker's entrypoint, on the real database.
 */
import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import { loginAttemptKey, sha256 } from "../../src/lib/tokens";
import {
  call,
  callWithEnv,
  captureLogs,
  countRoundTrips,
  directSql,
  expectProblem,
  jsonRequest,
  login,
  newUser,
  PASSWORD,
  uniqueEmail,
} from "../helpers";

/** The issuer and audience access tokens carry by default. */
const ISSUED_HERE = { iss: "edge-health-api", aud: "edge-health-api" };

const register = (body: unknown) => call("/api/auth/register/", jsonRequest("POST", body));
const loginRaw = (body: unknown) => call("/api/auth/login/", jsonRequest("POST", body));
const refresh = (token: string) => call("/api/auth/refresh/", jsonRequest("POST", { refresh: token }));
/** A refresh with the reuse grace window set (seconds; "0" turns it off). */
const refreshWithGrace = (grace: string, token: string) =>
  callWithEnv({ REFRESH_REUSE_GRACE_SECONDS: grace }, "/api/auth/refresh/", jsonRequest("POST", { refresh: token }));
/** Whether any token of the family of `token` was revoked (which revokes the family). */
const familyRevoked = async (token: string) =>
  (
    await directSql()`SELECT EXISTS (SELECT 1 FROM refresh_tokens f JOIN refresh_tokens t ON f.family_id = t.family_id
                      WHERE t.token_hash = ${await sha256(token)} AND f.revoked_at IS NOT NULL) AS revoked`
  )[0].revoked as boolean;
const logout = (token: string) => call("/api/auth/logout/", jsonRequest("POST", { refresh: token }));
const me = (authorization?: string) => call("/api/auth/me/", { headers: authorization ? { Authorization: authorization } : {} });

async function expectFieldError(res: Response, field: string) {
  const body = await expectProblem(res, 400);
  expect(Object.keys(body.errors ?? {})).toContain(field);
  return body.errors?.[field] ?? [];
}

describe("POST /api/auth/register/", () => {
  it("creates the account with a normalised email and answers 201 without any secret", async () => {
    const local = `Mixed-${crypto.randomUUID()}`;
    const res = await register({ name: "  Ada Lovelace  ", email: `  ${local}@Example.COM `, password: PASSWORD });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(["created_at", "email", "id", "name"]);
    expect(body.name).toBe("Ada Lovelace");
    expect(body.email).toBe(`${local.toLowerCase()}@example.com`);
    expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.stringify(body)).not.toContain(PASSWORD);
  });

  it("answers 409 for an email already registered in another case", async () => {
    const email = uniqueEmail("dup");
    expect((await register({ name: "A", email, password: PASSWORD })).status).toBe(201);
    const body = await expectProblem(await register({ name: "B", email: email.toUpperCase(), password: PASSWORD }), 409);
    expect(body.detail).not.toContain(email);
  });

  it("stores only a self-describing PBKDF2 hash with a 16-byte salt", async () => {
    const email = uniqueEmail();
    await register({ name: "Hash", email, password: PASSWORD });
    const [row] = await directSql()`SELECT password_hash FROM users WHERE email = ${email}`;
    const [algorithm, iterations, salt, hash] = String(row.password_hash).split("$");
    expect([algorithm, iterations]).toEqual(["pbkdf2_sha256", "100000"]);
    expect(atob(salt.replace(/-/g, "+").replace(/_/g, "/")).length).toBeGreaterThanOrEqual(16);
    expect(atob(hash.replace(/-/g, "+").replace(/_/g, "/")).length).toBe(32);
    expect(row.password_hash).not.toContain(PASSWORD);
  });

  it.each([
    ["name", { name: "" }],
    ["name", { name: "   " }],
    ["name", { name: "x".repeat(151) }],
    ["name", { name: "nul\u0000byte" }],
    ["name", { name: 42 }],
    ["email", { email: "not-an-email" }],
    ["email", { email: `${"a".repeat(245)}@example.com` }],
    ["email", { email: "" }],
    ["password", { password: "short1!" }],
    ["password", { password: "x".repeat(129) }],
    ["password", { password: "1234567890123" }],
    ["password", { password: "PassWord1" }],
    ["password", { password: "my-janedoe-secret-99" }],
    ["password", { password: "MY-JANEDOE-SECRET-99" }],
  ])("answers 400 under errors.%s for %j", async (field, change) => {
    const body = { name: "Jane", email: "janedoe@example.com", password: PASSWORD, ...change };
    await expectFieldError(await register(body), field);
  });

  it("accepts a password containing a local part shorter than 3 characters, and lengths in code points", async () => {
    expect((await register({ name: "Jo", email: `jo@${crypto.randomUUID()}.example.com`, password: "jo jo jumping beans" })).status).toBe(
      201,
    );
    // 8 code points but 16 UTF-16 units: long enough.
    expect((await register({ name: "😀".repeat(150), email: uniqueEmail(), password: "🔑🔑🔑🔑🔑🔑🔑🔑" })).status).toBe(201);
    await expectFieldError(await register({ name: "😀".repeat(151), email: uniqueEmail(), password: PASSWORD }), "name");
  });

  it("refuses unknown and server-owned fields by name", async () => {
    const errors = await call(
      "/api/auth/register/",
      jsonRequest("POST", { name: "A", email: uniqueEmail(), password: PASSWORD, is_admin: true, id: crypto.randomUUID(), role: "x" }),
    ).then((r) => expectProblem(r, 400));
    expect(Object.keys(errors.errors ?? {}).sort()).toEqual(["id", "is_admin", "role"]);
  });

  it("takes the password verbatim, spaces included", async () => {
    const email = uniqueEmail();
    const spaced = "  padded pass phrase  ";
    expect((await register({ name: "S", email, password: spaced })).status).toBe(201);
    expect((await loginRaw({ email, password: spaced })).status).toBe(200);
    expect((await loginRaw({ email, password: spaced.trim() })).status).toBe(401);
  });

  it("answers 415 without JSON and 400 for malformed JSON", async () => {
    await expectProblem(await call("/api/auth/register/", { method: "POST", body: "name=a" }), 415);
    await expectProblem(await call("/api/auth/register/", jsonRequest("POST", "{oops")), 400);
  });
});

describe("POST /api/auth/login/", () => {
  it("returns an access and a refresh token", async () => {
    const user = await newUser();
    expect(user.tokens.token_type).toBe("Bearer");
    expect(user.tokens.expires_in).toBe(15 * 60);
    // Refresh tokens: ≥ 256 random bits, opaque.
    expect(user.tokens.refresh).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    const [header, payload] = user.tokens.access
      .split(".")
      .slice(0, 2)
      .map((part) => JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))));
    expect(header.alg).toBe("HS256");
    expect(payload).toMatchObject({ sub: user.id, typ: "access", jti: expect.any(String), iss: "edge-health-api", aud: "edge-health-api" });
    expect(payload.exp - payload.iat).toBe(15 * 60);
  });

  it("accepts the email in any case and with spaces", async () => {
    const user = await newUser();
    expect((await loginRaw({ email: `  ${user.email.toUpperCase()} `, password: PASSWORD })).status).toBe(200);
  });

  it("answers unknown email and wrong password with the same 401 and the same single round trip", async () => {
    const user = await newUser();
    const wrong = await loginRaw({ email: user.email, password: "not the password" });
    const unknown = await loginRaw({ email: uniqueEmail("ghost"), password: "not the password" });
    const [a, b] = [await expectProblem(wrong, 401), await expectProblem(unknown, 401)];
    expect(a).toEqual(b);
    expect(a.detail).toBe("Invalid email or password");
    const trips = await Promise.all([
      countRoundTrips((c) => c("/api/auth/login/", jsonRequest("POST", { email: user.email, password: "nope nope" }))),
      countRoundTrips((c) => c("/api/auth/login/", jsonRequest("POST", { email: uniqueEmail("ghost"), password: "nope nope" }))),
    ]);
    // The attempt is counted in the statement that reads the account: a failure needs nothing more.
    expect(trips).toEqual([1, 1]);
  });

  it("answers 400 for a missing field or a body that is not an object", async () => {
    await expectFieldError(await loginRaw({ email: uniqueEmail() }), "password");
    await expectFieldError(await loginRaw({ password: PASSWORD }), "email");
    await expectProblem(await loginRaw([]), 400);
  });

  it("rate-limits an email after 10 failures with 429 and Retry-After, then even the right password", async () => {
    const user = await newUser();
    for (let i = 0; i < 10; i++) {
      await expectProblem(await loginRaw({ email: user.email, password: `wrong ${i}` }), 401);
    }
    const limited = await loginRaw({ email: user.email, password: PASSWORD });
    await expectProblem(limited, 429);
    const retryAfter = Number(limited.headers.get("Retry-After"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    // Other emails are not affected.
    expect((await loginRaw({ email: (await newUser()).email, password: PASSWORD })).status).toBe(200);
  });

  it("counts failures for emails without an account too, so a 429 reveals nothing", async () => {
    const email = uniqueEmail("ghost");
    const limits = { LOGIN_MAX_FAILURES: "3" };
    const attempt = () => callWithEnv(limits, "/api/auth/login/", jsonRequest("POST", { email, password: "whatever it is" }));
    for (let i = 0; i < 3; i++) expect((await attempt()).status).toBe(401);
    expect((await attempt()).status).toBe(429);
    expect(await countRoundTrips((c) => c("/api/auth/login/", jsonRequest("POST", { email, password: "x" })), limits)).toBe(1);
  });

  it("keys the count on a keyed hash of the email, never its plain SHA-256 (which anyone could compute)", async () => {
    const email = uniqueEmail("keyed");
    await expectProblem(await loginRaw({ email, password: "not the password" }), 401);
    const plain = await sha256(email);
    expect(await directSql()`SELECT 1 FROM login_attempts WHERE email_hash = ${plain}`).toEqual([]);
    const keyed = await loginAttemptKey(email, env.JWT_SECRET);
    expect(await directSql()`SELECT failures FROM login_attempts WHERE email_hash = ${keyed}`).toEqual([{ failures: 1 }]);
    // Under another secret the same address has another key.
    expect(await loginAttemptKey(email, `${env.JWT_SECRET}x`)).not.toBe(keyed);
  });

  it("clears the count after a successful login", async () => {
    const user = await newUser();
    const limits = { LOGIN_MAX_FAILURES: "3" };
    const attempt = (password: string) => callWithEnv(limits, "/api/auth/login/", jsonRequest("POST", { email: user.email, password }));
    for (let i = 0; i < 2; i++) expect((await attempt("wrong password")).status).toBe(401);
    expect((await attempt(PASSWORD)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await attempt("wrong password")).status).toBe(401);
    expect((await attempt(PASSWORD)).status).toBe(200);
  });

  it("upgrades a hash made with fewer iterations on the next successful login", async () => {
    const email = uniqueEmail("legacy");
    const res = await callWithEnv(
      { PASSWORD_ITERATIONS: "20000" },
      "/api/auth/register/",
      jsonRequest("POST", { name: "L", email, password: PASSWORD }),
    );
    expect(res.status).toBe(201);
    const hashOf = async () => String((await directSql()`SELECT password_hash FROM users WHERE email = ${email}`)[0].password_hash);
    expect(await hashOf()).toMatch(/^pbkdf2_sha256\$20000\$/);
    await expectProblem(await loginRaw({ email, password: "wrong password" }), 401);
    expect(await hashOf()).toMatch(/^pbkdf2_sha256\$20000\$/);
    await login(email, PASSWORD);
    expect(await hashOf()).toMatch(/^pbkdf2_sha256\$100000\$/);
    await login(email, PASSWORD);
  });

  it("refuses to hash above 100,000 iterations (production Workers would fail) with a 500 that names no secret", async () => {
    const logs = await captureLogs(async () => {
      const res = await callWithEnv(
        { PASSWORD_ITERATIONS: "100001" },
        "/api/auth/register/",
        jsonRequest("POST", { name: "C", email: uniqueEmail(), password: PASSWORD }),
      );
      await expectProblem(res, 500);
    });
    expect(logs).toContain("PASSWORD_ITERATIONS");
  });
});

describe("configuration failures on auth routes", () => {
  it.each([
    ["missing", undefined],
    ["short", "x".repeat(31)],
  ])("answers 500 on every auth route when JWT_SECRET is %s, and logs why without the value", async (_, secret) => {
    const logs = await captureLogs(async () => {
      for (const [path, init] of [
        ["/api/auth/register/", jsonRequest("POST", { name: "A", email: uniqueEmail(), password: PASSWORD })],
        ["/api/auth/login/", jsonRequest("POST", { email: uniqueEmail(), password: PASSWORD })],
        ["/api/auth/refresh/", jsonRequest("POST", { refresh: "x" })],
        ["/api/auth/logout/", jsonRequest("POST", { refresh: "x" })],
        ["/api/auth/me/", {}],
      ] as const) {
        await expectProblem(await callWithEnv({ JWT_SECRET: secret }, path, init), 500);
      }
    });
    expect(logs).toContain("JWT_SECRET");
    if (secret) expect(logs).not.toContain(secret);
  });

  it("answers 503 when DATABASE_URL is missing", async () => {
    await expectProblem(
      await callWithEnv({ DATABASE_URL: undefined }, "/api/auth/login/", jsonRequest("POST", { email: uniqueEmail(), password: PASSWORD })),
      503,
    );
  });
});

describe("access tokens", () => {
  const encode = (part: object) => btoa(JSON.stringify(part)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const claims = (sub: string, extra: object = {}) => {
    const iat = Math.floor(Date.now() / 1000);
    return { sub, iat, exp: iat + 600, jti: crypto.randomUUID(), typ: "access", ...ISSUED_HERE, ...extra };
  };

  it("GET /api/auth/me/ answers the caller's account for a valid token, with no-store", async () => {
    const user = await newUser("Grace");
    const res = await me(user.auth.Authorization);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: user.id, name: "Grace", email: user.email, created_at: expect.any(String), is_admin: false });
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("answers 401 with WWW-Authenticate: Bearer for every bad token", async () => {
    const user = await newUser();
    const [header, payload, signature] = user.tokens.access.split(".");
    const forged = encode({ ...JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/"))), sub: crypto.randomUUID() });
    const cases: Record<string, string | undefined> = {
      "no header": undefined,
      "not bearer": `Basic ${btoa("a:b")}`,
      "empty bearer": "Bearer ",
      garbage: "Bearer not.a.jwt",
      "alg none": `Bearer ${encode({ alg: "none", typ: "JWT" })}.${encode(claims(user.id))}.`,
      "alg HS512 with the right key": `Bearer ${await sign(claims(user.id), env.JWT_SECRET, "HS512")}`,
      "wrong key": `Bearer ${await sign(claims(user.id), "another-secret-that-is-long-enough-000", "HS256")}`,
      "tampered payload": `Bearer ${header}.${forged}.${signature}`,
      expired: `Bearer ${await sign(claims(user.id, { iat: 1_000_000, exp: 1_000_600 }), env.JWT_SECRET, "HS256")}`,
      "no exp": `Bearer ${await sign({ sub: user.id, iat: Math.floor(Date.now() / 1000), jti: "x", typ: "access" }, env.JWT_SECRET, "HS256")}`,
      "typ refresh": `Bearer ${await sign(claims(user.id, { typ: "refresh" }), env.JWT_SECRET, "HS256")}`,
      // Another environment sharing the secret (docs/SECURITY.md): its tokens are not ours.
      "another issuer": `Bearer ${await sign(claims(user.id, { iss: "staging" }), env.JWT_SECRET, "HS256")}`,
      "another audience": `Bearer ${await sign(claims(user.id, { aud: "another-api" }), env.JWT_SECRET, "HS256")}`,
      "no issuer": `Bearer ${await sign(claims(user.id, { iss: undefined }), env.JWT_SECRET, "HS256")}`,
      "no audience": `Bearer ${await sign(claims(user.id, { aud: undefined }), env.JWT_SECRET, "HS256")}`,
      "refresh token as bearer": `Bearer ${user.tokens.refresh}`,
    };
    for (const [name, authorization] of Object.entries(cases)) {
      const res = await me(authorization);
      expect(res.status, name).toBe(401);
      expect(res.headers.get("WWW-Authenticate"), name).toBe("Bearer");
      expect(res.headers.get("Content-Type"), name).toBe("application/problem+json");
    }
  });

  it("takes its issuer and audience from JWT_ISSUER and JWT_AUDIENCE", async () => {
    const user = await newUser();
    const ours = { JWT_ISSUER: "https://api.example.com", JWT_AUDIENCE: "example-app" };
    const token = await sign(claims(user.id, { iss: ours.JWT_ISSUER, aud: ours.JWT_AUDIENCE }), env.JWT_SECRET, "HS256");
    const meWith = (overrides: object, authorization: string) =>
      callWithEnv(overrides, "/api/auth/me/", { headers: { Authorization: authorization } });
    expect((await meWith(ours, `Bearer ${token}`)).status).toBe(200);
    expect((await meWith({}, `Bearer ${token}`)).status).toBe(401);
    expect((await meWith(ours, user.auth.Authorization)).status).toBe(401);
  });

  it("is verified without a database round trip", async () => {
    expect(await countRoundTrips((c) => c("/api/auth/me/", { headers: { Authorization: "Bearer x.y.z" } }))).toBe(0);
  });
});

describe("refresh tokens", () => {
  it("rotate on every refresh: the new pair works, the old token is refused", async () => {
    const user = await newUser();
    const res = await refresh(user.tokens.refresh);
    expect(res.status).toBe(200);
    const next = (await res.json()) as typeof user.tokens;
    expect(next.refresh).not.toBe(user.tokens.refresh);
    expect((await me(`Bearer ${next.access}`)).status).toBe(200);
    // Without the grace window (below), presenting the old token again is reuse at once.
    await expectProblem(await refreshWithGrace("0", user.tokens.refresh), 401);
    expect(await familyRevoked(next.refresh)).toBe(true);
  });

  it("treat reuse of a rotated token as theft: the whole family is revoked", async () => {
    const user = await newUser();
    const second = (await (await refresh(user.tokens.refresh)).json()) as typeof user.tokens;
    const third = (await (await refresh(second.refresh)).json()) as typeof user.tokens;
    await expectProblem(await refresh(user.tokens.refresh), 401);
    // The newest token of that family is dead too…
    await expectProblem(await refresh(third.refresh), 401);
    // …but another login's family is not.
    const other = await login(user.email, PASSWORD);
    expect((await refresh(other.refresh)).status).toBe(200);
  });

  it("give exactly one 200 for concurrent refreshes of one token without the grace window, and revoke the family", async () => {
    const user = await newUser();
    const results = await Promise.all(Array.from({ length: 5 }, () => refreshWithGrace("0", user.tokens.refresh)));
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(4);
    const winner = (await ok[0].json()) as typeof user.tokens;
    await expectProblem(await refresh(winner.refresh), 401);
  });

  it("give no grace with the window off, even to a loser whose transaction began before the winner's rotation", async () => {
    // A racing loser can start its transaction (its now()) before the winner's and still see the winner's
    // commit: its used_at then reads as later than the loser's now(), which is "rotated 0 s ago or less".
    const user = await newUser();
    const second = (await (await refresh(user.tokens.refresh)).json()) as typeof user.tokens;
    await directSql()`UPDATE refresh_tokens SET used_at = now() + interval '1 second' WHERE token_hash = ${await sha256(user.tokens.refresh)}`;
    await expectProblem(await refreshWithGrace("0", user.tokens.refresh), 401);
    expect(await familyRevoked(second.refresh)).toBe(true);
  });

  it("never give two live branches to concurrent refreshes of one token within the grace window", async () => {
    const user = await newUser();
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(user.tokens.refresh)));
    expect(results.every((r) => r.status === 200 || r.status === 401)).toBe(true);
    // Every 200 is the one successor (a serialised retry gets it again); a racing loser is reuse and revokes the family.
    const issued = new Set(
      await Promise.all(results.filter((r) => r.status === 200).map(async (r) => ((await r.json()) as { refresh: string }).refresh)),
    );
    expect(issued.size).toBeLessThanOrEqual(1);
    const [{ live }] = await directSql()`
      SELECT count(*)::int AS live FROM refresh_tokens t
      WHERE t.user_id = ${user.id} AND t.used_at IS NULL AND t.expires_at > now()
        AND NOT EXISTS (SELECT 1 FROM refresh_tokens f WHERE f.family_id = t.family_id AND f.revoked_at IS NOT NULL)`;
    expect(live).toBeLessThanOrEqual(1);
    if (results.some((r) => r.status === 401)) expect(live).toBe(0);
  });

  it("are refused when expired, and when unknown", async () => {
    const user = await newUser();
    await directSql()`UPDATE refresh_tokens SET created_at = now() - interval '2 days', expires_at = now() - interval '1 day' WHERE user_id = ${user.id}`;
    await expectProblem(await refresh(user.tokens.refresh), 401);
    await expectProblem(await refresh("x".repeat(43)), 401);
    await expectFieldError(await call("/api/auth/refresh/", jsonRequest("POST", {})), "refresh");
  });

  it("expire after JWT_REFRESH_DAYS", async () => {
    const user = await newUser();
    const [row] =
      await directSql()`SELECT extract(epoch FROM expires_at - created_at)::int AS seconds FROM refresh_tokens WHERE user_id = ${user.id}`;
    expect(row.seconds).toBe(7 * 24 * 3600);
  });

  it("are stored only as hashes", async () => {
    const user = await newUser();
    const rows = await directSql()`SELECT token_hash FROM refresh_tokens WHERE user_id = ${user.id}`;
    expect(rows).toHaveLength(1);
    expect(rows[0].token_hash).not.toBe(user.tokens.refresh);
    expect(JSON.stringify(rows)).not.toContain(user.tokens.refresh);
  });
});

describe("refresh retries within REFRESH_REUSE_GRACE_SECONDS (a lost answer)", () => {
  const rotate = async (token: string) => {
    const res = await refresh(token);
    expect(res.status).toBe(200);
    return (await res.json()) as { access: string; refresh: string };
  };

  it("answer the same successor again, with a fresh access token, and the family lives on", async () => {
    const user = await newUser();
    const first = await rotate(user.tokens.refresh);
    const retry = await rotate(user.tokens.refresh);
    expect(retry.refresh).toBe(first.refresh);
    expect(retry.access).not.toBe(first.access);
    expect((await me(`Bearer ${retry.access}`)).status).toBe(200);
    expect(await familyRevoked(first.refresh)).toBe(false);
    // The successor is one token, stored once, and it still rotates.
    const rows = await directSql()`SELECT 1 FROM refresh_tokens WHERE user_id = ${user.id}`;
    expect(rows).toHaveLength(2);
    expect((await rotate(first.refresh)).refresh).not.toBe(first.refresh);
  });

  it("are reuse once the successor has been used: the family is revoked", async () => {
    const user = await newUser();
    const second = await rotate(user.tokens.refresh);
    const third = await rotate(second.refresh);
    await expectProblem(await refresh(user.tokens.refresh), 401);
    await expectProblem(await refresh(third.refresh), 401);
    expect(await familyRevoked(third.refresh)).toBe(true);
  });

  it("are reuse after the window: the family is revoked", async () => {
    const user = await newUser();
    const second = await rotate(user.tokens.refresh);
    await directSql()`UPDATE refresh_tokens SET used_at = now() - interval '31 seconds' WHERE token_hash = ${await sha256(user.tokens.refresh)}`;
    await expectProblem(await refresh(user.tokens.refresh), 401);
    await expectProblem(await refresh(second.refresh), 401);
    expect(await familyRevoked(second.refresh)).toBe(true);
  });

  it("follow REFRESH_REUSE_GRACE_SECONDS: a longer window admits an older retry", async () => {
    const user = await newUser();
    const second = await rotate(user.tokens.refresh);
    await directSql()`UPDATE refresh_tokens SET used_at = now() - interval '31 seconds' WHERE token_hash = ${await sha256(user.tokens.refresh)}`;
    const res = await refreshWithGrace("60", user.tokens.refresh);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { refresh: string }).refresh).toBe(second.refresh);
  });

  it("give a revoked family nothing, and logout no grace", async () => {
    const user = await newUser();
    const second = await rotate(user.tokens.refresh);
    // Logging out with the just-rotated token is reuse (401), and revokes the family…
    await expectProblem(await logout(user.tokens.refresh), 401);
    expect(await familyRevoked(second.refresh)).toBe(true);
    // …after which even a retry within the window gets nothing.
    await expectProblem(await refresh(user.tokens.refresh), 401);
    await expectProblem(await refresh(second.refresh), 401);
  });

  it("keep no raw token: the successor is stored only as its hash", async () => {
    const user = await newUser();
    const second = await rotate(user.tokens.refresh);
    const rows = await directSql()`SELECT * FROM refresh_tokens WHERE user_id = ${user.id}`;
    expect(JSON.stringify(rows)).not.toContain(second.refresh);
    expect(JSON.stringify(rows)).not.toContain(user.tokens.refresh);
  });
});

describe("POST /api/auth/logout/", () => {
  it("answers 204 and revokes the token's family", async () => {
    const user = await newUser();
    const second = (await (await refresh(user.tokens.refresh)).json()) as typeof user.tokens;
    expect((await logout(second.refresh)).status).toBe(204);
    await expectProblem(await refresh(second.refresh), 401);
    await expectProblem(await logout(second.refresh), 401);
  });

  it("with an already-rotated token is reuse: 401, and the family is revoked", async () => {
    const user = await newUser();
    const second = (await (await refresh(user.tokens.refresh)).json()) as typeof user.tokens;
    await expectProblem(await logout(user.tokens.refresh), 401);
    await expectProblem(await refresh(second.refresh), 401);
  });

  it("answers 401 for an unknown token and needs no access token", async () => {
    await expectProblem(await logout("unknown-token-unknown-token-unknown-token-xx"), 401);
  });
});

describe("round trips per auth route", () => {
  it("register 1, login 2, refresh 1, logout 1, me 1", async () => {
    const email = uniqueEmail();
    const counts: Record<string, number> = {};
    let tokens = { access: "", refresh: "" };
    counts.register = await countRoundTrips((c) => c("/api/auth/register/", jsonRequest("POST", { name: "R", email, password: PASSWORD })));
    counts.login = await countRoundTrips(async (c) => {
      tokens = await (await c("/api/auth/login/", jsonRequest("POST", { email, password: PASSWORD }))).json();
    });
    counts.me = await countRoundTrips((c) => c("/api/auth/me/", { headers: { Authorization: `Bearer ${tokens.access}` } }));
    counts.refresh = await countRoundTrips(async (c) => {
      tokens = await (await c("/api/auth/refresh/", jsonRequest("POST", { refresh: tokens.refresh }))).json();
    });
    counts.logout = await countRoundTrips((c) => c("/api/auth/logout/", jsonRequest("POST", { refresh: tokens.refresh })));
    expect(counts).toEqual({ register: 1, login: 2, me: 1, refresh: 1, logout: 1 });
  });
});

describe("secrets stay out of responses and logs", () => {
  it("never echoes a password, hash or token except in the token responses, nor logs them or emails", async () => {
    let user: Awaited<ReturnType<typeof newUser>> | undefined;
    let bodies = "";
    const logs = await captureLogs(async () => {
      user = await newUser();
      for (const res of [
        await register({ name: "Dup", email: user.email, password: PASSWORD }),
        await loginRaw({ email: user.email, password: `${PASSWORD}!` }),
        await me(user.auth.Authorization),
        await refresh(`${user.tokens.refresh}x`),
        await logout(user.tokens.refresh),
        await callWithEnv(
          { NEON_LOCAL_ENDPOINT: "http://127.0.0.1:9/sql" },
          "/api/auth/login/",
          jsonRequest("POST", { email: user.email, password: PASSWORD }),
        ),
      ]) {
        bodies += await res.text();
      }
    });
    if (!user) throw new Error("no user");
    const [row] = await directSql()`SELECT password_hash FROM users WHERE id = ${user.id}`;
    for (const secret of [PASSWORD, String(row.password_hash), user.tokens.refresh, user.tokens.access]) {
      expect(bodies).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toContain(user.email);
    expect(logs).toContain("db.unavailable");
  });
});

describe("tokens of users that do not exist", () => {
  it("answer 401, not 500, on the routes that write on the user's behalf", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const ghost = await sign(
      { sub: crypto.randomUUID(), iat, exp: iat + 600, jti: crypto.randomUUID(), typ: "access", ...ISSUED_HERE },
      env.JWT_SECRET,
      "HS256",
    );
    const headers = { Authorization: `Bearer ${ghost}` };
    for (const [path, body] of [
      ["/api/patients/", { name: "Nobody's", date_of_birth: "1990-01-01", gender: "other" }],
      ["/api/doctors/", { name: "Dr Nobody", specialization: "None" }],
    ] as const) {
      const res = await call(path, jsonRequest("POST", body, headers));
      await expectProblem(res, 401);
      expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
    }
  });
});

describe("register reports every problem at once", () => {
  it("names the password rules even when another field is invalid too", async () => {
    const body = await expectProblem(await register({ email: uniqueEmail(), password: "12345678" }), 400);
    expect(Object.keys(body.errors ?? {}).sort()).toEqual(["name", "password"]);
  });
});
