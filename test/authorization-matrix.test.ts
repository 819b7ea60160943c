/**
 * Every route × {no token, bad token, another user, the owner, an
 * administrator} → the exact status API.md gives. The table is checked
 * against the app's own route list: a route without a row fails the test.
 */
import { beforeAll, describe, expect, it } from "vitest";
import app from "../src/index";
import {
  call,
  createDoctor,
  createMapping,
  createPatient,
  jsonRequest,
  login,
  makeAdmin,
  newUser,
  PASSWORD,
  type TestUser,
  uniqueEmail,
  VALID_DOCTOR,
  VALID_PATIENT,
} from "./helpers";

type Persona = "none" | "bad" | "other" | "owner" | "admin";
const PERSONAS: Persona[] = ["none", "bad", "other", "owner", "admin"];

interface Fixture {
  patient: string;
  /** Assigned to `patient` by `mapping`. */
  doctor: string;
  mapping: string;
  /** A doctor assigned to nobody. */
  spareDoctor: string;
}

interface Row {
  /** Path with `{patient}`, `{doctor}`, `{mapping}` standing for the owner's resources. */
  path: string;
  body?: (f: Fixture) => unknown;
  /** Expected status per persona; a public route has one status for everyone. */
  expect: Record<Persona, number> | number;
  /** For public routes: a body that needs a fresh account or token. */
  publicBody?: () => Promise<unknown>;
}

const authed = (other: number, owner: number, admin: number) => ({ none: 401, bad: 401, other, owner, admin });

/** Keyed as the app lists its routes: `METHOD /hono/path`. */
const MATRIX: Record<string, Row> = {
  "GET /api/health": { path: "/api/health/", expect: 200 },
  "GET /api/health/ready": { path: "/api/health/ready/", expect: 200 },
  "GET /api/openapi.json": { path: "/api/openapi.json", expect: 200 },
  "GET /api/docs": { path: "/api/docs/", expect: 200 },
  "POST /api/auth/register": {
    path: "/api/auth/register/",
    expect: 201,
    publicBody: async () => ({ name: "Matrix", email: uniqueEmail("matrix"), password: PASSWORD }),
  },
  "POST /api/auth/login": {
    path: "/api/auth/login/",
    expect: 200,
    publicBody: async () => {
      const user = await newUser();
      return { email: user.email, password: PASSWORD };
    },
  },
  "POST /api/auth/refresh": {
    path: "/api/auth/refresh/",
    expect: 200,
    publicBody: async () => ({ refresh: (await newUser()).tokens.refresh }),
  },
  "POST /api/auth/logout": {
    path: "/api/auth/logout/",
    expect: 204,
    publicBody: async () => ({ refresh: (await newUser()).tokens.refresh }),
  },
  "GET /api/auth/me": { path: "/api/auth/me/", expect: authed(200, 200, 200) },

  "GET /api/patients": { path: "/api/patients/", expect: authed(200, 200, 200) },
  "POST /api/patients": { path: "/api/patients/", body: () => VALID_PATIENT, expect: authed(201, 201, 201) },
  "GET /api/patients/:id": { path: "/api/patients/{patient}/", expect: authed(404, 200, 404) },
  "PUT /api/patients/:id": { path: "/api/patients/{patient}/", body: () => VALID_PATIENT, expect: authed(404, 200, 404) },
  "PATCH /api/patients/:id": { path: "/api/patients/{patient}/", body: () => ({ name: "Changed" }), expect: authed(404, 200, 404) },
  "DELETE /api/patients/:id": { path: "/api/patients/{patient}/", expect: authed(404, 204, 404) },

  "GET /api/doctors": { path: "/api/doctors/", expect: authed(200, 200, 200) },
  "POST /api/doctors": { path: "/api/doctors/", body: () => VALID_DOCTOR, expect: authed(201, 201, 201) },
  "GET /api/doctors/:id": { path: "/api/doctors/{doctor}/", expect: authed(200, 200, 200) },
  "PUT /api/doctors/:id": { path: "/api/doctors/{doctor}/", body: () => VALID_DOCTOR, expect: authed(403, 200, 200) },
  "PATCH /api/doctors/:id": { path: "/api/doctors/{doctor}/", body: () => ({ name: "Dr Changed" }), expect: authed(403, 200, 200) },
  // The fixture's doctor is assigned; deleting it is a conflict for anyone allowed to try.
  "DELETE /api/doctors/:id": { path: "/api/doctors/{doctor}/", expect: authed(403, 409, 409) },

  "GET /api/mappings": { path: "/api/mappings/", expect: authed(200, 200, 200) },
  // Another user's patient in the body is "not one of your patients": 400 (admins included).
  "POST /api/mappings": {
    path: "/api/mappings/",
    body: (f) => ({ patient_id: f.patient, doctor_id: f.spareDoctor }),
    expect: authed(400, 201, 400),
  },
  "GET /api/mappings/patient/:id": { path: "/api/mappings/patient/{patient}/", expect: authed(404, 200, 404) },
  "GET /api/mappings/:id": { path: "/api/mappings/{mapping}/", expect: authed(404, 200, 404) },
  "DELETE /api/mappings/:id": { path: "/api/mappings/{mapping}/", expect: authed(404, 204, 404) },

  "GET /api/audit": { path: "/api/audit/", expect: authed(403, 403, 200) },
};

const appRoutes = [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))];

describe("authorization matrix", () => {
  it("has a row for every route of the app, and none for a route it lacks", () => {
    expect(new Set(Object.keys(MATRIX))).toEqual(new Set(appRoutes));
  });

  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    [owner, other, admin] = await Promise.all([newUser("Owner"), newUser("Other"), newUser("Admin")]);
    await makeAdmin(admin);
    // The admin flag is read from the database on each request: the token need not change.
    admin.tokens = await login(admin.email, PASSWORD);
  });

  /** Fresh resources of the owner for one cell, so that a DELETE in one cell cannot affect another. */
  async function fixture(): Promise<Fixture> {
    const [patient, doctor, spare] = await Promise.all([createPatient(owner), createDoctor(owner), createDoctor(owner)]);
    const mapping = await createMapping(owner, patient.body.id, doctor.body.id);
    return { patient: patient.body.id, doctor: doctor.body.id, mapping: mapping.body.id, spareDoctor: spare.body.id };
  }

  const headersFor = (persona: Persona): Record<string, string> => {
    switch (persona) {
      case "none":
        return {};
      case "bad":
        return { Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad-signature" };
      default:
        return { Authorization: `Bearer ${{ owner, other, admin }[persona].tokens.access}` };
    }
  };

  it.each(Object.entries(MATRIX))("%s", async (route, row) => {
    const method = route.split(" ")[0];
    const f = await fixture();
    const path = row.path.replace("{patient}", f.patient).replace("{doctor}", f.doctor).replace("{mapping}", f.mapping);
    if (typeof row.expect === "number") {
      const body = row.publicBody ? await row.publicBody() : undefined;
      const res = await call(path, body === undefined ? { method } : jsonRequest(method, body));
      expect(res.status, route).toBe(row.expect);
      return;
    }
    const seen: Record<string, number> = {};
    for (const persona of PERSONAS) {
      // Each persona gets its own fresh resources for writes, so the owner's DELETE does not hide the admin's 404.
      const cell = method === "GET" ? f : await fixture();
      const cellPath = row.path.replace("{patient}", cell.patient).replace("{doctor}", cell.doctor).replace("{mapping}", cell.mapping);
      const headers = headersFor(persona);
      const init = row.body ? jsonRequest(method, row.body(cell), headers) : { method, headers };
      seen[persona] = (await call(cellPath, init)).status;
    }
    expect(seen, route).toEqual(row.expect);
  });
});
