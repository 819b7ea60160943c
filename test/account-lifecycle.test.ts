/**
 * An account's access tokens stop working on the very next request when it
 * is deactivated or signed out everywhere, on every authenticated route:
 * the routes of the authorization matrix (test/routes/*.matrix.ts), each
 * called by an administrator whose account was just deactivated, or whose
 * sessions were just revoked, by another administrator. The check rides in
 * each route's own statement (test/round-trips.test.ts counts it), and a
 * refused write leaves nothing behind. Reactivating revives no old token.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  auditRows,
  call,
  directSql,
  expectProblem,
  jsonRequest,
  login,
  makeAdmin,
  newRequestId,
  newUser,
  PASSWORD,
  type TestUser,
} from "./helpers";
import { fillPath, MATRIX, matrixFixture } from "./matrix/load";

/** Every route that takes an access token: the matrix rows with per-persona expectations. */
const AUTHENTICATED = Object.entries(MATRIX).filter(([, row]) => typeof row.expect !== "number");

let manager: TestUser;
beforeAll(async () => {
  manager = await newUser("Manager");
  await makeAdmin(manager);
});

/** A fresh administrator with the matrix's resources, ready to be cut off. */
async function subject() {
  const user = await newUser("Subject");
  await makeAdmin(user);
  return { user, fixture: await matrixFixture(user) };
}

const deactivate = async (user: TestUser) =>
  expect((await call(`/api/admin/users/${user.id}/`, jsonRequest("PATCH", { is_active: false }, manager.auth))).status).toBe(200);
const reactivate = async (user: TestUser) =>
  expect((await call(`/api/admin/users/${user.id}/`, jsonRequest("PATCH", { is_active: true }, manager.auth))).status).toBe(200);
const signOutEverywhere = async (user: TestUser) =>
  expect((await call(`/api/admin/users/${user.id}/sessions/`, { method: "DELETE", headers: manager.auth })).status).toBe(204);

async function callRoute(route: string, user: TestUser, f: Record<string, string>, headers: Record<string, string> = {}) {
  const row = MATRIX[route];
  const method = route.split(" ")[0];
  const all = { ...user.auth, ...headers };
  return call(fillPath(row.path, f), row.body ? jsonRequest(method, row.body(f), all) : { method, headers: all });
}

async function expectRefused(res: Response) {
  await expectProblem(res, 401);
  expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
}

it("the matrix reaches every kind of authenticated route", () => {
  const prefixes = new Set(AUTHENTICATED.map(([route]) => route.split(" ")[1].split("/")[2]));
  expect(prefixes).toEqual(new Set(["auth", "patients", "doctors", "mappings", "sync", "audit", "admin"]));
});

describe.each([
  ["deactivated", deactivate],
  ["signed out everywhere", signOutEverywhere],
] as const)("an account %s", (_, cutOff) => {
  it.each(AUTHENTICATED.map(([route]) => route))("%s → 401", async (route) => {
    const { user, fixture } = await subject();
    await cutOff(user);
    const requestId = newRequestId();
    await expectRefused(await callRoute(route, user, fixture, { "X-Request-Id": requestId }));
    // Refused inside the statement: its audit row went with it.
    expect(await auditRows(requestId)).toEqual([]);
  });
});

describe("what a cut-off account's request leaves behind", () => {
  it("a deactivated account's create writes nothing", async () => {
    const { user } = await subject();
    await deactivate(user);
    for (const [path, body] of [
      ["/api/patients/", { name: "Never Written", date_of_birth: "1990-01-01", gender: "other" }],
      ["/api/doctors/", { name: "Dr Never Written", specialization: "None" }],
    ] as const) {
      await expectRefused(await call(path, jsonRequest("POST", body, user.auth)));
    }
    const sql = directSql();
    expect(await sql`SELECT 1 FROM patients WHERE owner_id = ${user.id} AND name = 'Never Written'`).toEqual([]);
    expect(await sql`SELECT 1 FROM doctors WHERE created_by = ${user.id} AND name = 'Dr Never Written'`).toEqual([]);
  });
});

describe("deactivation", () => {
  it("refuses login and refresh with the answers of any other failure, and reactivation revives no old token", async () => {
    const user = await newUser();
    await deactivate(user);
    const loginRes = await call("/api/auth/login/", jsonRequest("POST", { email: user.email, password: PASSWORD }));
    expect((await expectProblem(loginRes, 401)).detail).toBe("Invalid email or password");
    const refreshRes = await call("/api/auth/refresh/", jsonRequest("POST", { refresh: user.tokens.refresh }));
    const unknownRefresh = await call("/api/auth/refresh/", jsonRequest("POST", { refresh: "never issued" }));
    expect(await expectProblem(refreshRes, 401)).toEqual(await expectProblem(unknownRefresh, 401));

    await reactivate(user);
    await expectRefused(await call("/api/auth/me/", { headers: user.auth }));
    // Its refresh families were revoked by the deactivation.
    expect((await call("/api/auth/refresh/", jsonRequest("POST", { refresh: user.tokens.refresh }))).status).toBe(401);
    // A new login works at once, even within the second of the reactivation.
    const fresh = await login(user.email, PASSWORD);
    expect((await call("/api/auth/me/", { headers: { Authorization: `Bearer ${fresh.access}` } })).status).toBe(200);
  });

  it("revokes every refresh family of the account in the same statement", async () => {
    const user = await newUser();
    const second = await login(user.email, PASSWORD);
    await deactivate(user);
    expect(await directSql()`SELECT 1 FROM refresh_tokens WHERE user_id = ${user.id} AND revoked_at IS NULL`).toEqual([]);
    await reactivate(user);
    for (const refresh of [user.tokens.refresh, second.refresh]) {
      expect((await call("/api/auth/refresh/", jsonRequest("POST", { refresh }))).status).toBe(401);
    }
  });
});

describe("signing out everywhere", () => {
  it("ends every session, and a login right after it works at once", async () => {
    const user = await newUser();
    await signOutEverywhere(user);
    await expectRefused(await call("/api/auth/me/", { headers: user.auth }));
    expect((await call("/api/auth/refresh/", jsonRequest("POST", { refresh: user.tokens.refresh }))).status).toBe(401);
    const fresh = await login(user.email, PASSWORD);
    expect((await call("/api/auth/me/", { headers: { Authorization: `Bearer ${fresh.access}` } })).status).toBe(200);
    const refreshed = await call("/api/auth/refresh/", jsonRequest("POST", { refresh: fresh.refresh }));
    expect(refreshed.status).toBe(200);
    const { access } = (await refreshed.json()) as { access: string };
    expect((await call("/api/auth/me/", { headers: { Authorization: `Bearer ${access}` } })).status).toBe(200);
  });

  // A login right after a sign-out gets a token dated the next whole second (its iat is moved up so that it works at
  // once); a second sign-out within that same second must end that token too. Started at the beginning of a second, so
  // that the sign-out, the login and the second sign-out all fall within it.
  it("ends a token issued right after a sign-out when the account is signed out again within the same second", async () => {
    const user = await newUser();
    for (let attempt = 0; attempt < 3; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
      const second = Math.floor(Date.now() / 1000);
      await signOutEverywhere(user);
      const fresh = await login(user.email, PASSWORD);
      const auth = { Authorization: `Bearer ${fresh.access}` };
      expect((await call("/api/auth/me/", { headers: auth })).status).toBe(200);
      await signOutEverywhere(user);
      const sameSecond = Math.floor(Date.now() / 1000) === second;
      await expectRefused(await call("/api/auth/me/", { headers: auth }));
      await expectRefused(await call("/api/patients/", { headers: auth }));
      if (sameSecond) return;
    }
    throw new Error("could not fit a sign-out, a login and a sign-out into one second in three attempts");
  });
});
