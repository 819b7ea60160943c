/**
 * Database faults (injected at the local endpoint): the API answers 503
 * with Retry-After and a problem body — never a 500, never a hang — and the
 * database holds either the whole operation with its audit row or nothing
 * of it, as read back directly.
 */
import { describe, expect, it } from "vitest";
import {
  auditRows,
  createDoctor,
  createPatient,
  directSql,
  expectProblem,
  type Fault,
  jsonRequest,
  newRequestId,
  newUser,
  PASSWORD,
  type TestUser,
  uniqueEmail,
  VALID_PATIENT,
  withFault,
} from "./helpers";

const FAULTS: Fault[] = ["refuse", "error", "hang", "drop-before-commit", "drop-after-commit"];

interface Operation {
  name: string;
  /** Sends the request; `requestId` tags its audit row. Returns what to look for afterwards. */
  send: (request: (path: string, init?: RequestInit) => Promise<Response>, user: TestUser, requestId: string) => Promise<Response>;
  /** Whether the operation's effect is in the database. */
  happened: (user: TestUser) => Promise<boolean>;
  /** Whether the operation writes an audit row. */
  audited: boolean;
}

function operations(): Operation[] {
  const marker = `Fault ${crypto.randomUUID()}`;
  let patientId = "";
  let doctorId = "";
  const email = uniqueEmail("fault");
  return [
    {
      name: "create a patient",
      send: (request, user, requestId) =>
        request("/api/patients/", jsonRequest("POST", { ...VALID_PATIENT, name: marker }, { ...user.auth, "X-Request-Id": requestId })),
      happened: async (user) => (await directSql()`SELECT 1 FROM patients WHERE owner_id = ${user.id} AND name = ${marker}`).length === 1,
      audited: true,
    },
    {
      name: "update a patient",
      send: async (request, user, requestId) => {
        patientId = (await createPatient(user)).body.id;
        return request(`/api/patients/${patientId}/`, jsonRequest("PATCH", { name: marker }, { ...user.auth, "X-Request-Id": requestId }));
      },
      happened: async () => (await directSql()`SELECT name FROM patients WHERE id = ${patientId}`)[0]?.name === marker,
      audited: true,
    },
    {
      name: "delete a patient",
      send: async (request, user, requestId) => {
        patientId = (await createPatient(user)).body.id;
        return request(`/api/patients/${patientId}/`, { method: "DELETE", headers: { ...user.auth, "X-Request-Id": requestId } });
      },
      happened: async () => (await directSql()`SELECT 1 FROM patients WHERE id = ${patientId}`).length === 0,
      audited: true,
    },
    {
      name: "assign a doctor",
      send: async (request, user, requestId) => {
        patientId = (await createPatient(user)).body.id;
        doctorId = (await createDoctor(user)).body.id;
        return request(
          "/api/mappings/",
          jsonRequest("POST", { patient_id: patientId, doctor_id: doctorId }, { ...user.auth, "X-Request-Id": requestId }),
        );
      },
      happened: async () => (await directSql()`SELECT 1 FROM patient_doctor_mappings WHERE patient_id = ${patientId}`).length === 1,
      audited: true,
    },
    {
      name: "register",
      send: (request) => request("/api/auth/register/", jsonRequest("POST", { name: "Fault", email, password: PASSWORD })),
      happened: async () => (await directSql()`SELECT 1 FROM users WHERE email = ${email}`).length === 1,
      audited: false,
    },
  ];
}

describe.each(FAULTS)("with the database fault %s", (fault) => {
  const committed = fault === "drop-after-commit";

  it.each(operations().map((op) => [op.name, op] as const))("%s answers 503 and leaves all of it or none of it", async (_, op) => {
    const user = await newUser();
    const requestId = newRequestId();
    const res = await withFault(fault, (request) => op.send(request, user, requestId));
    const body = await expectProblem(res, 503);
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(JSON.stringify(body)).not.toMatch(/fault|127\.0\.0\.1|postgres/i);
    // Whole or nothing: the effect and its audit row together.
    expect(await op.happened(user)).toBe(committed);
    if (op.audited) expect((await auditRows(requestId)).length).toBe(committed ? 1 : 0);
  });

  it("readiness answers 503", async () => {
    const res = await withFault(fault, (request) => request("/api/health/ready/"));
    await expectProblem(res, 503);
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
  });
});
