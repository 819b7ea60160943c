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
  expectProblem,
  ISO_TIMESTAMP,
  jsonRequest,
  login,
  makeAdmin,
  newRequestId,
  newUser,
  type Page,
  PASSWORD,
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
