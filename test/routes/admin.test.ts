/**
 * The administrator API (docs/BEHAVIOUR.md, "Administration"): stats, the
 * account list and detail, PATCH (deactivate, reactivate, grant and revoke
 * administrator, rename), signing out everywhere; their audit rows; 403
 * for non-administrators before any 400 or 404; no patient data anywhere.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  auditRows,
  call,
  createPatient,
  directSql,
  expectCursorPaging,
  expectProblem,
  ISO_TIMESTAMP,
  jsonRequest,
  login,
  makeAdmin,
  newRequestId,
  newUser,
  PASSWORD,
  type Page,
  STRONG_ETAG,
  type TestUser,
} from "../helpers";

interface AdminUser {
  id: string;
  name: string;
  email: string;
  is_active: boolean;
  is_admin: boolean;
  created_at: string;
  last_login_at: string | null;
  patient_count?: number;
}

const as = (user: TestUser, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...user.auth, ...(init.headers as Record<string, string> | undefined) },
});
const patch = (admin: TestUser, id: string, body: unknown, headers: Record<string, string> = {}) =>
  call(`/api/admin/users/${id}/`, jsonRequest("PATCH", body, { ...admin.auth, ...headers }));
const me = (user: { auth: { Authorization: string } }) => call("/api/auth/me/", { headers: user.auth });

let admin: TestUser;
beforeAll(async () => {
  admin = await newUser("Admin");
  await makeAdmin(admin);
});

describe("GET /api/admin/stats/", () => {
  it("answers counts only, and is audited as a list of user", async () => {
    const requestId = newRequestId();
    const res = await call("/api/admin/stats/", as(admin, { headers: { "X-Request-Id": requestId } }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      users: { total: expect.any(Number), active: expect.any(Number), admins: expect.any(Number) },
      patients: expect.any(Number),
      doctors: expect.any(Number),
      mappings: expect.any(Number),
      audit_events_24h: expect.any(Number),
      failed_logins_24h: expect.any(Number),
    });
    const users = body.users as { total: number; active: number; admins: number };
    expect(users.admins).toBeGreaterThanOrEqual(1);
    expect(users.active).toBeLessThanOrEqual(users.total);
    expect(await auditRows(requestId)).toEqual([
      { actor_id: admin.id, action: "list", resource_type: "user", resource_id: null, client_request_id: requestId, outcome: "success" },
    ]);
  });

  it("counts a new patient and a failed login", async () => {
    const before = (await (await call("/api/admin/stats/", as(admin))).json()) as { patients: number; failed_logins_24h: number };
    const user = await newUser();
    await createPatient(user);
    expect((await call("/api/auth/login/", jsonRequest("POST", { email: user.email, password: "not the password" }))).status).toBe(401);
    const after = (await (await call("/api/admin/stats/", as(admin))).json()) as { patients: number; failed_logins_24h: number };
    // Other files' tests add to these concurrently: at least ours.
    expect(after.patients).toBeGreaterThanOrEqual(before.patients + 1);
    expect(after.failed_logins_24h).toBeGreaterThanOrEqual(before.failed_logins_24h + 1);
  });
});

const list = async (query: string, user = admin) => {
  const res = await call(`/api/admin/users/?${query}`, as(user));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Page<AdminUser>;
};

describe("GET /api/admin/users/", () => {
  let tag: string;
  let members: TestUser[];
  beforeAll(async () => {
    // Names and emails no other test uses, so the search below finds exactly these.
    tag = `zq${crypto.randomUUID().slice(0, 8)}`;
    members = [];
    for (const name of [`${tag} Carol`, `${tag} Alice`, `${tag} Bob`]) members.push(await newUser(name));
    await createPatient(members[0]);
    await createPatient(members[0]);
    await makeAdmin(members[2]);
    await patch(admin, members[1].id, { is_active: false });
  });

  it("finds accounts by name (literal, case-insensitive), with the documented fields and the patient count", async () => {
    const page = await list(`search=${tag.toUpperCase()}`);
    expect(page.count).toBe(3);
    expect(page.results.map((u) => u.id)).toEqual(members.map((m) => m.id));
    expect(page.results[0]).toEqual({
      id: members[0].id,
      name: `${tag} Carol`,
      email: members[0].email,
      is_active: true,
      is_admin: false,
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      last_login_at: expect.stringMatching(ISO_TIMESTAMP),
      patient_count: 2,
    });
    expect((await list(`search=${members[2].email}`)).results.map((u) => u.id)).toEqual([members[2].id]);
    expect((await list(`search=${tag}%25`)).count).toBe(0);
  });

  it("filters on is_active and is_admin", async () => {
    expect((await list(`search=${tag}&is_active=false`)).results.map((u) => u.id)).toEqual([members[1].id]);
    expect((await list(`search=${tag}&is_active=true`)).results.map((u) => u.id)).toEqual([members[0].id, members[2].id]);
    expect((await list(`search=${tag}&is_admin=true`)).results.map((u) => u.id)).toEqual([members[2].id]);
    expect((await list(`search=${tag}&is_admin=false&is_active=true`)).results.map((u) => u.id)).toEqual([members[0].id]);
  });

  it("orders by name, email, created_at and last_login_at (never logged in: last ascending, first descending)", async () => {
    const names = async (ordering: string) =>
      (await list(`search=${tag}&ordering=${ordering}`)).results.map((u) => u.name.slice(tag.length + 1));
    expect(await names("name")).toEqual(["Alice", "Bob", "Carol"]);
    expect(await names("-name")).toEqual(["Carol", "Bob", "Alice"]);
    expect(await names("-created_at")).toEqual(["Bob", "Alice", "Carol"]);
    const byEmail = [...members].sort((a, b) => a.email.localeCompare(b.email)).map((m) => m.id);
    expect((await list(`search=${tag}&ordering=email`)).results.map((u) => u.id)).toEqual(byEmail);
    await directSql()`UPDATE users SET last_login_at = NULL WHERE id = ${members[2].id}`;
    expect((await names("last_login_at")).at(-1)).toBe("Bob");
    expect((await names("-last_login_at"))[0]).toBe("Bob");
  });

  it("pages like every list", async () => {
    const first = await list(`search=${tag}&limit=2`);
    expect(first.count).toBe(3);
    expect(first.results).toHaveLength(2);
    expect(first.next).toContain("offset=2");
    expect(first.next).toContain(`search=${tag}`);
    const second = await list(`search=${tag}&limit=2&offset=2`);
    expect(second.results.map((u) => u.id)).toEqual([members[2].id]);
    expect(second.previous).toContain("offset=0");
  });

  it("refuses a bad query with 400 naming the parameter — for administrators", async () => {
    for (const [query, key] of [
      ["is_active=yes", "is_active"],
      ["ordering=password_hash", "ordering"],
      ["limit=0", "limit"],
    ]) {
      const body = await expectProblem(await call(`/api/admin/users/?${query}`, as(admin)), 400);
      expect(Object.keys(body.errors ?? {})).toEqual([key]);
    }
  });
});

describe("GET /api/admin/users/ by cursor", () => {
  /**
   * 9 accounts named with `tok` (other files register users meanwhile),
   * inserted by one statement: created_at tied, names repeating, and
   * last_login_at null for three, tied for three, distinct for the rest.
   */
  async function tiedAccounts(tok: string) {
    await directSql()`
      INSERT INTO users (email, name, password_hash, last_login_at)
      SELECT ${tok} || '-' || g || '@example.com', 'Acct ' || ${tok} || (ARRAY[' Ann', ' Bob', ' Ann'])[1 + g % 3], 'x',
             CASE WHEN g <= 3 THEN NULL WHEN g <= 6 THEN TIMESTAMPTZ '2024-01-01 00:00:00.000001+00'
                  ELSE TIMESTAMPTZ '2023-01-01 00:00:00+00' + g * interval '1 microsecond' END
      FROM generate_series(1, 9) g`;
  }
  const tokenOf = () => `acct${crypto.randomUUID().replaceAll("-", "").slice(0, 10)}`;

  it.each(["email", "name", "created_at", "last_login_at"])(
    "follows next over the search's accounts once, in order with ties (and nulls), and previous back, for %s both ways",
    async (field) => {
      const tok = tokenOf();
      await tiedAccounts(tok);
      for (const ordering of [field, `-${field}`]) {
        for (const limit of [1, 2, 4]) {
          const pages = await expectCursorPaging<AdminUser>("/api/admin/users/", { search: tok, ordering }, admin.auth, limit);
          expect(pages[0].count).toBe(9);
        }
      }
    },
  );

  it("never-logged-in accounts come last ascending and first descending, across page boundaries", async () => {
    const tok = tokenOf();
    await tiedAccounts(tok);
    const logins = async (ordering: string) =>
      (await expectCursorPaging<AdminUser>("/api/admin/users/", { search: tok, ordering }, admin.auth, 2)).flatMap((p) =>
        p.results.map((u) => u.last_login_at),
      );
    expect((await logins("last_login_at")).slice(-3)).toEqual([null, null, null]);
    expect((await logins("-last_login_at")).slice(0, 3)).toEqual([null, null, null]);
    await expectCursorPaging<AdminUser>("/api/admin/users/", { search: tok, is_admin: "false", ordering: "-last_login_at" }, admin.auth, 3);
  });

  it("refuses another filter's cursor (400 naming cursor)", async () => {
    const tok = tokenOf();
    await tiedAccounts(tok);
    const first = (await (await call(`/api/admin/users/?search=${tok}&limit=1&cursor=`, as(admin))).json()) as Page<AdminUser>;
    const cursor = new URL(first.next ?? "").searchParams.get("cursor") ?? "";
    const body = await expectProblem(await call(`/api/admin/users/?search=${tok}&is_active=true&cursor=${cursor}`, as(admin)), 400);
    expect(Object.keys(body.errors ?? {})).toEqual(["cursor"]);
  });
});

describe("403 for non-administrators before any 400 or 404", () => {
  const cases: [string, (user: TestUser) => Promise<Response>][] = [
    ["stats", (u) => call("/api/admin/stats/", as(u))],
    ["list", (u) => call("/api/admin/users/", as(u))],
    ["list with a bad query", (u) => call("/api/admin/users/?is_active=maybe", as(u))],
    ["list with a malformed cursor", (u) => call("/api/admin/users/?cursor=nope", as(u))],
    ["list with cursor and offset", (u) => call("/api/admin/users/?cursor=&offset=0", as(u))],
    ["list with a cursor of another list", (u) => call(`/api/admin/users/?cursor=${otherListCursor}`, as(u))],
    ["detail of an unknown id", (u) => call(`/api/admin/users/${crypto.randomUUID()}/`, as(u))],
    ["detail of an id that is not a UUID", (u) => call("/api/admin/users/not-a-uuid/", as(u))],
    ["PATCH with a bad body", (u) => patch(u, admin.id, { is_active: "no", password_hash: "x" })],
    ["PATCH of an id that is not a UUID", (u) => patch(u, "not-a-uuid", { name: "X" })],
    ["PATCH of an unknown id", (u) => patch(u, crypto.randomUUID(), { name: "X" })],
    ["PATCH of themselves", (u) => patch(u, u.id, { is_admin: true })],
    ["sign-out of an unknown id", (u) => call(`/api/admin/users/${crypto.randomUUID()}/sessions/`, as(u, { method: "DELETE" }))],
    ["sign-out of an id that is not a UUID", (u) => call("/api/admin/users/nope/sessions/", as(u, { method: "DELETE" }))],
  ];
  let otherListCursor = "";
  beforeAll(async () => {
    const list = (await (await call("/api/admin/users/?ordering=name&limit=1&cursor=", as(admin))).json()) as Page<AdminUser>;
    otherListCursor = new URL(list.next ?? "").searchParams.get("cursor") ?? "";
  });
  it.each(cases)("%s", async (_, send) => {
    const user = await newUser();
    const requestId = newRequestId();
    const res = await send({ ...user, auth: user.auth });
    await expectProblem(res, 403);
    expect(await auditRows(requestId)).toEqual([]);
  });

  it("while an administrator gets the route's own 400 and 404", async () => {
    await expectProblem(await call("/api/admin/users/?is_active=maybe", as(admin)), 400);
    await expectProblem(await call(`/api/admin/users/?cursor=${otherListCursor}`, as(admin)), 400);
    await expectProblem(await call("/api/admin/users/not-a-uuid/", as(admin)), 404);
    await expectProblem(await call(`/api/admin/users/${crypto.randomUUID()}/`, as(admin)), 404);
    const body = await expectProblem(await patch(admin, admin.id, { is_active: "no", password_hash: "x" }), 400);
    expect(Object.keys(body.errors ?? {}).sort()).toEqual(["is_active", "password_hash"]);
    await expectProblem(await patch(admin, crypto.randomUUID(), { name: "X" }), 404);
    await expectProblem(await call(`/api/admin/users/${crypto.randomUUID()}/sessions/`, as(admin, { method: "DELETE" })), 404);
    // 415 comes before the admin check, as before any 400.
    await expectProblem(await call(`/api/admin/users/${admin.id}/`, as(admin, { method: "PATCH", body: "{}" })), 415);
  });
});

describe("GET /api/admin/users/{id}/", () => {
  it("answers the account with a strong ETag, 304 for it, and an audit row", async () => {
    const user = await newUser("Detail");
    const requestId = newRequestId();
    const res = await call(`/api/admin/users/${user.id}/`, as(admin, { headers: { "X-Request-Id": requestId } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      id: user.id,
      name: "Detail",
      email: user.email,
      is_active: true,
      is_admin: false,
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      last_login_at: expect.stringMatching(ISO_TIMESTAMP),
    });
    const etag = res.headers.get("ETag") ?? "";
    expect(etag).toMatch(STRONG_ETAG);
    expect((await call(`/api/admin/users/${user.id}/`, as(admin, { headers: { "If-None-Match": etag } }))).status).toBe(304);
    // A login changes last_login_at, so the representation and its tag change.
    await login(user.email, PASSWORD);
    const after = await call(`/api/admin/users/${user.id}/`, as(admin, { headers: { "If-None-Match": etag } }));
    expect(after.status).toBe(200);
    expect(after.headers.get("ETag")).not.toBe(etag);
    expect(await auditRows(requestId)).toEqual([
      { actor_id: admin.id, action: "read", resource_type: "user", resource_id: user.id, client_request_id: requestId, outcome: "success" },
    ]);
  });

  it("audits an unknown id as not_found", async () => {
    const requestId = newRequestId();
    const id = crypto.randomUUID();
    await expectProblem(await call(`/api/admin/users/${id}/`, as(admin, { headers: { "X-Request-Id": requestId } })), 404);
    expect((await auditRows(requestId)).map((r) => [r.action, r.resource_id, r.outcome])).toEqual([["read", id, "not_found"]]);
  });
});

/** The audit rows of one request, with the changed fields. */
const auditWithFields = async (requestId: string) =>
  (await directSql()`SELECT action, resource_type, resource_id, outcome, fields FROM audit_events WHERE client_request_id = ${requestId}`) as {
    action: string;
    resource_type: string;
    resource_id: string;
    outcome: string;
    fields: string[] | null;
  }[];

describe("PATCH /api/admin/users/{id}/", () => {
  it("renames, grants and revokes administrator, and audits the names of the changed fields only", async () => {
    const user = await newUser("Before");
    const requestId = newRequestId();
    const res = await patch(admin, user.id, { name: "After", is_admin: true, is_active: true }, { "X-Request-Id": requestId });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id: user.id, name: "After", is_admin: true, is_active: true });
    expect(await auditWithFields(requestId)).toEqual([
      { action: "update", resource_type: "user", resource_id: user.id, outcome: "success", fields: ["name", "is_admin"] },
    ]);
    // The flag is read per request: the user's own token now reaches the admin routes.
    expect((await call("/api/admin/stats/", as(user))).status).toBe(200);
    expect(await (await me(user)).json()).toMatchObject({ is_admin: true });
    expect((await patch(admin, user.id, { is_admin: false })).status).toBe(200);
    expect((await call("/api/admin/stats/", as(user))).status).toBe(403);
    // Nothing changed: an update that names no field.
    const same = newRequestId();
    expect((await patch(admin, user.id, { name: "After" }, { "X-Request-Id": same })).status).toBe(200);
    expect((await auditWithFields(same)).map((r) => r.fields)).toEqual([[]]);
  });

  it("deactivates: the account's next request is 401, login and refresh too; reactivating lets it log in again", async () => {
    const user = await newUser();
    expect((await me(user)).status).toBe(200);
    const res = await patch(admin, user.id, { is_active: false });
    expect(await res.json()).toMatchObject({ is_active: false });
    await expectProblem(await me(user), 401);
    expect((await call("/api/auth/login/", jsonRequest("POST", { email: user.email, password: PASSWORD }))).status).toBe(401);
    expect((await call("/api/auth/refresh/", jsonRequest("POST", { refresh: user.tokens.refresh }))).status).toBe(401);
    expect((await patch(admin, user.id, { is_active: true })).status).toBe(200);
    await expectProblem(await me(user), 401);
    await login(user.email, PASSWORD);
  });

  it("answers 409 when administrators change their own is_active or is_admin, and changes nothing", async () => {
    const self = await newUser("Self");
    await makeAdmin(self);
    for (const body of [{ is_active: false }, { is_admin: false }, { name: "Renamed", is_admin: false }]) {
      const requestId = newRequestId();
      await expectProblem(await patch(self, self.id, body, { "X-Request-Id": requestId }), 409);
      expect((await auditWithFields(requestId)).map((r) => [r.outcome, r.fields])).toEqual([["conflict", null]]);
    }
    const [row] = await directSql()`SELECT name, is_active, is_admin FROM users WHERE id = ${self.id}`;
    expect(row).toEqual({ name: "Self", is_active: true, is_admin: true });
    // Their current values are no change; the name is theirs to change.
    expect((await patch(self, self.id, { name: "Self Renamed", is_admin: true, is_active: true })).status).toBe(200);
  });

  it("honours If-Match: a stale tag is 412 and changes nothing; the current one writes", async () => {
    const user = await newUser("Tagged");
    const etag = (await call(`/api/admin/users/${user.id}/`, as(admin))).headers.get("ETag") ?? "";
    const requestId = newRequestId();
    await expectProblem(await patch(admin, user.id, { is_active: false }, { "If-Match": '"999"', "X-Request-Id": requestId }), 412);
    expect((await auditWithFields(requestId)).map((r) => r.outcome)).toEqual(["precondition_failed"]);
    expect((await me(user)).status).toBe(200);
    const res = await patch(admin, user.id, { name: "Tagged Again" }, { "If-Match": etag });
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).not.toBe(etag);
  });

  it("refuses unknown and read-only fields with 400 naming them", async () => {
    const user = await newUser();
    const body = await expectProblem(await patch(admin, user.id, { email: "x@example.com", password: "whatever", id: user.id }), 400);
    expect(Object.keys(body.errors ?? {}).sort()).toEqual(["email", "id", "password"]);
  });
});

describe("DELETE /api/admin/users/{id}/sessions/", () => {
  it("signs the account out everywhere, audited as revoke", async () => {
    const user = await newUser();
    const second = await login(user.email, PASSWORD);
    const requestId = newRequestId();
    const res = await call(
      `/api/admin/users/${user.id}/sessions/`,
      as(admin, { method: "DELETE", headers: { "X-Request-Id": requestId } }),
    );
    expect(res.status).toBe(204);
    await expectProblem(await me(user), 401);
    await expectProblem(await me({ auth: { Authorization: `Bearer ${second.access}` } }), 401);
    for (const refresh of [user.tokens.refresh, second.refresh]) {
      expect((await call("/api/auth/refresh/", jsonRequest("POST", { refresh }))).status).toBe(401);
    }
    expect((await auditRows(requestId)).map((r) => [r.action, r.resource_type, r.resource_id, r.outcome])).toEqual([
      ["revoke", "user", user.id, "success"],
    ]);
    // The account is still active: it logs in again at once.
    const fresh = await login(user.email, PASSWORD);
    expect((await me({ auth: { Authorization: `Bearer ${fresh.access}` } })).status).toBe(200);
  });
});

describe("no patient data in any administrator response", () => {
  it("neither the patient's name, date of birth nor medical text appears", async () => {
    const owner = await newUser("Owner");
    const secret = {
      name: `Secret Patient ${crypto.randomUUID()}`,
      date_of_birth: "1911-11-11",
      gender: "other",
      medical_history: `Secret history ${crypto.randomUUID()}`,
      address: `Secret address ${crypto.randomUUID()}`,
    };
    const patient = await createPatient(owner, secret);
    await call(
      `/api/patients/${patient.body.id}/`,
      jsonRequest("PATCH", { medical_history: `${secret.medical_history} more` }, owner.auth),
    );
    const bodies = await Promise.all(
      [
        "/api/admin/stats/",
        "/api/admin/users/",
        `/api/admin/users/?search=${encodeURIComponent(owner.email)}`,
        `/api/admin/users/${owner.id}/`,
        `/api/audit/?actor_id=${owner.id}`,
      ].map(async (path) => {
        const res = await call(path, as(admin));
        expect(res.status, path).toBe(200);
        return res.text();
      }),
    );
    bodies.push(await (await patch(admin, owner.id, { name: "Owner Renamed" })).text());
    for (const text of bodies) {
      for (const value of [secret.name, "1911-11-11", secret.medical_history, secret.address]) expect(text).not.toContain(value);
    }
  });
});
