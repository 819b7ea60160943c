/**
 * docs/BEHAVIOUR.md (patient–doctor mappings) and their audit rows, through the
 * Worker's entrypoint, on the real database.
 */
import { describe, expect, it } from "vitest";
import {
  type AuditRow,
  auditRows,
  call,
  countRoundTrips,
  createDoctor,
  createMapping,
  createPatient,
  directSql,
  expectCursorPaging,
  expectProblem,
  ISO_TIMESTAMP,
  jsonRequest,
  newRequestId,
  newUser,
  ORIGIN,
  type Page,
  type TestUser,
  UUID_PATTERN,
} from "../helpers";

interface Mapping {
  id: string;
  patient_id: string;
  doctor_id: string;
  created_at: string;
}

const DOCTOR_KEYS = ["created_at", "created_by", "email", "id", "license_number", "name", "phone", "specialization", "updated_at"];

const mappingPath = (id: string) => `/api/mappings/${id}/`;
const patientDoctorsPath = (patientId: string) => `/api/mappings/patient/${patientId}/`;

type HeaderMap = Record<string, string>;
const send = (method: string, path: string, user?: TestUser, headers: HeaderMap = {}) =>
  call(path, { method, headers: { ...user?.auth, ...headers } });
const get = (path: string, user?: TestUser, headers: HeaderMap = {}) => send("GET", path, user, headers);
const del = (path: string, user?: TestUser, headers: HeaderMap = {}) => send("DELETE", path, user, headers);
const post = (user: TestUser | undefined, body: unknown, headers: HeaderMap = {}) =>
  call("/api/mappings/", jsonRequest("POST", body, { ...user?.auth, ...headers }));
const withId = (requestId: string) => ({ "X-Request-Id": requestId });

/** A fresh user (unless given) with one patient and one doctor of their own. */
async function fixture(given?: TestUser) {
  const user = given ?? (await newUser());
  const patient = (await createPatient(user)).body;
  const doctor = (await createDoctor(user)).body;
  return { user, patient, doctor };
}

/** The same, with the doctor assigned to the patient. */
async function mappedFixture() {
  const f = await fixture();
  const { body, etag } = await createMapping(f.user, f.patient.id, f.doctor.id);
  return { ...f, mapping: body as unknown as Mapping, etag };
}

async function assign(user: TestUser, patientId: string, doctorId: string) {
  return (await createMapping(user, patientId, doctorId)).body as unknown as Mapping;
}

async function page<T = Mapping>(res: Response): Promise<Page<T>> {
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as Page<T>;
}

/** A 400 whose `errors` name exactly `fields`. */
async function expectFieldErrors(res: Response, fields: string[]) {
  const body = await expectProblem(res, 400);
  expect(Object.keys(body.errors ?? {}).sort()).toEqual([...fields].sort());
  return body;
}

/** The mapping rows for one pair, read straight from the database. */
const pairRows = async (patientId: string, doctorId: string) =>
  (await directSql()`SELECT id, owner_id FROM patient_doctor_mappings WHERE patient_id = ${patientId} AND doctor_id = ${doctorId}`) as {
    id: string;
    owner_id: string;
  }[];

const allowOf = (res: Response) =>
  (res.headers.get("Allow") ?? "")
    .split(",")
    .map((m) => m.trim())
    .sort();

/** An absolute link to `path` whose query is exactly `params`. */
function expectLink(link: string | null, path: string, params: Record<string, string>) {
  expect(link).not.toBeNull();
  const url = new URL(link as string);
  expect(`${url.origin}${url.pathname}`).toBe(`${ORIGIN}${path}`);
  expect(Object.fromEntries(url.searchParams)).toEqual(params);
}

/** Exactly these audit rows (by actor, action, resource id and outcome) under `requestId`. */
async function expectAudit(requestId: string, expected: Omit<AuditRow, "client_request_id" | "resource_type">[]) {
  expect(await auditRows(requestId)).toEqual(expected.map((row) => ({ ...row, resource_type: "mapping", client_request_id: requestId })));
}

describe("POST /api/mappings/", () => {
  it("answers 201 with the mapping, an absolute Location and an ETag", async () => {
    const { user, patient, doctor } = await fixture();
    const res = await post(user, { patient_id: patient.id, doctor_id: doctor.id });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Mapping;
    expect(Object.keys(body).sort()).toEqual(["created_at", "doctor_id", "id", "patient_id"]);
    expect(body).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      patient_id: patient.id,
      doctor_id: doctor.id,
      created_at: expect.any(String),
    });
    expect(body.created_at).toMatch(ISO_TIMESTAMP);
    expect(Math.abs(Date.parse(body.created_at) - Date.now())).toBeLessThan(60_000);
    expect(res.headers.get("Location")).toBe(`${ORIGIN}/api/mappings/${body.id}/`);
    expect(res.headers.get("ETag")).toMatch(/^"[^"]+"$/);
    expect(await pairRows(patient.id, doctor.id)).toEqual([{ id: body.id, owner_id: user.id }]);
  });

  it("answers without the trailing slash too, and accepts a charset", async () => {
    const { user, patient, doctor } = await fixture();
    const res = await call(
      "/api/mappings",
      jsonRequest(
        "POST",
        { patient_id: patient.id, doctor_id: doctor.id },
        { ...user.auth, "Content-Type": "application/json; charset=utf-8" },
      ),
    );
    expect(res.status).toBe(201);
  });

  it("lets a patient have several doctors and a doctor several patients", async () => {
    const { user, patient, doctor } = await fixture();
    const otherPatient = (await createPatient(user)).body;
    const otherDoctor = (await createDoctor(user)).body;
    await assign(user, patient.id, doctor.id);
    expect((await post(user, { patient_id: patient.id, doctor_id: otherDoctor.id })).status).toBe(201);
    expect((await post(user, { patient_id: otherPatient.id, doctor_id: doctor.id })).status).toBe(201);
  });

  it("lets a user assign a doctor another user created (the directory is shared)", async () => {
    const { user, patient } = await fixture();
    const theirs = (await createDoctor(await newUser())).body;
    expect((await post(user, { patient_id: patient.id, doctor_id: theirs.id })).status).toBe(201);
  });

  it.each([
    ["patient_id", { patient_id: undefined }],
    ["patient_id", { patient_id: null }],
    ["patient_id", { patient_id: "" }],
    ["patient_id", { patient_id: "not-a-uuid" }],
    ["patient_id", { patient_id: 42 }],
    ["patient_id", { patient_id: "00000000-0000-0000-0000-00000000000g" }],
    ["doctor_id", { doctor_id: undefined }],
    ["doctor_id", { doctor_id: null }],
    ["doctor_id", { doctor_id: "12345" }],
    ["doctor_id", { doctor_id: ["00000000-0000-0000-0000-000000000000"] }],
  ])("answers 400 under errors.%s for %j, before the database", async (field, change) => {
    const { user, patient, doctor } = await fixture();
    const requestId = newRequestId();
    await expectFieldErrors(await post(user, { patient_id: patient.id, doctor_id: doctor.id, ...change }, withId(requestId)), [field]);
    await expectAudit(requestId, []);
    expect(await pairRows(patient.id, doctor.id)).toEqual([]);
  });

  it("names both fields when both are missing", async () => {
    await expectFieldErrors(await post(await newUser(), {}), ["doctor_id", "patient_id"]);
  });

  it("refuses unknown and read-only fields by name", async () => {
    const { user, patient, doctor } = await fixture();
    const body = {
      patient_id: patient.id,
      doctor_id: doctor.id,
      id: crypto.randomUUID(),
      owner_id: user.id,
      created_at: "2020-01-01T00:00:00.000Z",
      notes: "x",
    };
    await expectFieldErrors(await post(user, body), ["created_at", "id", "notes", "owner_id"]);
    expect(await pairRows(patient.id, doctor.id)).toEqual([]);
  });

  it("answers 413 for a body over 64 KiB, before authentication", async () => {
    const body = JSON.stringify({ patient_id: "x".repeat(65 * 1024), doctor_id: crypto.randomUUID() });
    await expectProblem(await call("/api/mappings/", jsonRequest("POST", body)), 413);
    await expectProblem(await call("/api/mappings/", jsonRequest("POST", body, (await newUser()).auth)), 413);
  });

  it("answers 415 without a JSON media type and 400 for malformed JSON or a body that is not an object", async () => {
    const { user, patient, doctor } = await fixture();
    const json = JSON.stringify({ patient_id: patient.id, doctor_id: doctor.id });
    await expectProblem(await call("/api/mappings/", { method: "POST", headers: user.auth, body: json }), 415);
    await expectProblem(
      await call("/api/mappings/", { method: "POST", headers: { ...user.auth, "Content-Type": "text/plain" }, body: json }),
      415,
    );
    await expectProblem(await post(user, "{oops"), 400);
    await expectProblem(await post(user, "[]"), 400);
    expect(await pairRows(patient.id, doctor.id)).toEqual([]);
  });

  it("answers another user's patient exactly as a patient that does not exist", async () => {
    const { user, doctor } = await fixture();
    const theirs = (await createPatient(await newUser())).body;
    const foreign = await expectFieldErrors(await post(user, { patient_id: theirs.id, doctor_id: doctor.id }), ["patient_id"]);
    const unknown = await expectFieldErrors(await post(user, { patient_id: crypto.randomUUID(), doctor_id: doctor.id }), ["patient_id"]);
    expect(foreign).toEqual(unknown);
    expect(JSON.stringify(foreign)).not.toContain(theirs.id);
    expect(await pairRows(theirs.id, doctor.id)).toEqual([]);
  });

  it("answers 400 under errors.doctor_id for a doctor that does not exist, and names both when neither exists", async () => {
    const { user, patient } = await fixture();
    await expectFieldErrors(await post(user, { patient_id: patient.id, doctor_id: crypto.randomUUID() }), ["doctor_id"]);
    await expectFieldErrors(await post(user, { patient_id: crypto.randomUUID(), doctor_id: crypto.randomUUID() }), [
      "doctor_id",
      "patient_id",
    ]);
  });

  it("answers 409 for a pair that already exists and keeps one row", async () => {
    const { user, patient, doctor, mapping } = await mappedFixture();
    await expectProblem(await post(user, { patient_id: patient.id, doctor_id: doctor.id }), 409);
    expect(await pairRows(patient.id, doctor.id)).toEqual([{ id: mapping.id, owner_id: user.id }]);
  });

  it("answers one 201 and nine 409 when ten identical requests race, leaving one row", async () => {
    // A race can pass by luck: several rounds, each on a fresh pair.
    const owner = await newUser();
    for (let round = 0; round < 3; round++) {
      const { user, patient, doctor } = await fixture(owner);
      const requestIds = Array.from({ length: 10 }, () => newRequestId());
      const responses = await Promise.all(requestIds.map((id) => post(user, { patient_id: patient.id, doctor_id: doctor.id }, withId(id))));
      expect(responses.map((r) => r.status).sort((a, b) => a - b)).toEqual([201, ...Array(9).fill(409)]);
      const winner = responses.find((r) => r.status === 201) as Response;
      const { id } = (await winner.json()) as Mapping;
      for (const loser of responses.filter((r) => r.status === 409)) await expectProblem(loser, 409);
      expect(await pairRows(patient.id, doctor.id)).toEqual([{ id, owner_id: user.id }]);
      const rows = await Promise.all(requestIds.map(auditRows));
      expect(rows.map((r) => r.length)).toEqual(Array(10).fill(1));
      expect(rows.flatMap((r) => r.map((row) => row.outcome)).sort()).toEqual([...Array(9).fill("conflict"), "success"]);
      expect(rows.flat().find((row) => row.outcome === "success")?.resource_id).toBe(id);
    }
  }, 30_000);
});

describe("POST /api/mappings/ racing the deletion of its patient or doctor", () => {
  // Each outcome is fine as long as the two requests agree; the audit row must exist either way (docs/BEHAVIOUR.md, audit).
  const ROUNDS = 20;
  const createRow = (user: TestUser, status: number, id: string) =>
    status === 201
      ? { actor_id: user.id, action: "create", resource_id: id, outcome: "success" }
      : { actor_id: user.id, action: "create", resource_id: null, outcome: "not_found" };

  it("racing DELETE of the patient: 201 (then cascaded) or 400 under patient_id, never 500, one audit row", async () => {
    const owner = await newUser();
    for (let round = 0; round < ROUNDS; round++) {
      const { user, patient, doctor } = await fixture(owner);
      const requestId = newRequestId();
      const [created, deleted] = await Promise.all([
        post(user, { patient_id: patient.id, doctor_id: doctor.id }, withId(requestId)),
        del(`/api/patients/${patient.id}/`, user),
      ]);
      expect(deleted.status).toBe(204);
      const mapping = (await created.json()) as Mapping & { errors?: Record<string, string[]> };
      expect([201, 400]).toContain(created.status);
      if (created.status === 400) expect(Object.keys(mapping.errors ?? {})).toEqual(["patient_id"]);
      expect(await pairRows(patient.id, doctor.id)).toEqual([]);
      await expectAudit(requestId, [createRow(user, created.status, mapping.id)]);
    }
  }, 30_000);

  it("racing DELETE of the doctor: 201 and 409, or 400 under doctor_id and 204, never 500, one audit row", async () => {
    const owner = await newUser();
    for (let round = 0; round < ROUNDS; round++) {
      const { user, patient, doctor } = await fixture(owner);
      const requestId = newRequestId();
      const [created, deleted] = await Promise.all([
        post(user, { patient_id: patient.id, doctor_id: doctor.id }, withId(requestId)),
        del(`/api/doctors/${doctor.id}/`, user),
      ]);
      const mapping = (await created.json()) as Mapping & { errors?: Record<string, string[]> };
      expect(`${created.status}/${deleted.status}`).toBe(created.status === 201 ? "201/409" : "400/204");
      if (created.status === 400) expect(Object.keys(mapping.errors ?? {})).toEqual(["doctor_id"]);
      expect(await pairRows(patient.id, doctor.id)).toEqual(created.status === 201 ? [{ id: mapping.id, owner_id: user.id }] : []);
      await expectAudit(requestId, [createRow(user, created.status, mapping.id)]);
    }
  }, 30_000);
});

describe("GET /api/mappings/{id}/", () => {
  it("answers 200 with the mapping and its ETag, and 304 for If-None-Match", async () => {
    const { user, mapping, etag } = await mappedFixture();
    const res = await get(mappingPath(mapping.id), user);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(mapping);
    expect(res.headers.get("ETag")).toBe(etag);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");

    const cached = await get(mappingPath(mapping.id), user, { "If-None-Match": etag });
    expect(cached.status).toBe(304);
    expect(cached.headers.get("ETag")).toBe(etag);
    expect(await cached.text()).toBe("");

    const stale = await get(mappingPath(mapping.id), user, { "If-None-Match": '"not-it"' });
    expect(stale.status).toBe(200);
    expect(await stale.json()).toEqual(mapping);
  });

  it("answers without the trailing slash too", async () => {
    const { user, mapping } = await mappedFixture();
    const res = await get(`/api/mappings/${mapping.id}`, user);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(mapping);
  });

  it("answers another user's mapping exactly as an unknown id, and a non-UUID_PATTERN id as 404", async () => {
    const { mapping } = await mappedFixture();
    const intruder = await newUser();
    const foreign = await expectProblem(await get(mappingPath(mapping.id), intruder), 404);
    const unknown = await expectProblem(await get(mappingPath(crypto.randomUUID()), intruder), 404);
    expect(foreign).toEqual(unknown);
    await expectProblem(await get(mappingPath("not-a-uuid"), intruder), 404);
    await expectProblem(await get(mappingPath("00000000-0000-0000-0000-0000000000000"), intruder), 404);
    await expectProblem(await get("/api/mappings/patient/", intruder), 404);
  });
});

describe("DELETE /api/mappings/{id}/", () => {
  it("answers 204, after which the mapping is gone", async () => {
    const { user, patient, doctor, mapping } = await mappedFixture();
    const res = await del(mappingPath(mapping.id), user);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    await expectProblem(await get(mappingPath(mapping.id), user), 404);
    await expectProblem(await del(mappingPath(mapping.id), user), 404);
    expect(await pairRows(patient.id, doctor.id)).toEqual([]);
    // The pair can be assigned again.
    expect((await post(user, { patient_id: patient.id, doctor_id: doctor.id })).status).toBe(201);
  });

  it("answers another user's mapping exactly as an unknown id and leaves it in place", async () => {
    const { user, mapping } = await mappedFixture();
    const intruder = await newUser();
    const foreign = await expectProblem(await del(mappingPath(mapping.id), intruder), 404);
    const unknown = await expectProblem(await del(mappingPath(crypto.randomUUID()), intruder), 404);
    expect(foreign).toEqual(unknown);
    await expectProblem(await del(mappingPath(mapping.id), intruder, { "If-Match": "*" }), 404);
    expect(await (await get(mappingPath(mapping.id), user)).json()).toEqual(mapping);
  });

  it("answers 404 for a non-UUID_PATTERN id", async () => {
    await expectProblem(await del(mappingPath("not-a-uuid"), await newUser()), 404);
  });

  it("answers 412 for a stale If-Match and changes nothing; the current tag and * both delete", async () => {
    const { user, patient, mapping, etag } = await mappedFixture();
    await expectProblem(await del(mappingPath(mapping.id), user, { "If-Match": '"999"' }), 412);
    expect(await (await get(mappingPath(mapping.id), user)).json()).toEqual(mapping);
    expect((await del(mappingPath(mapping.id), user, { "If-Match": etag })).status).toBe(204);

    const second = await assign(user, patient.id, (await createDoctor(user)).body.id);
    expect((await del(mappingPath(second.id), user, { "If-Match": "*" })).status).toBe(204);
    await expectProblem(await get(mappingPath(second.id), user), 404);
    // `*` needs an existing resource: an unknown id stays 404.
    await expectProblem(await del(mappingPath(crypto.randomUUID()), user, { "If-Match": "*" }), 404);
  });
});

describe("PUT and PATCH /api/mappings/{id}/", () => {
  it.each(["PUT", "PATCH"])("%s answers 405 with Allow before size, authentication, media type and validation", async (method) => {
    const { user, mapping } = await mappedFixture();
    const requestId = newRequestId();
    const attempts: RequestInit[] = [
      jsonRequest(method, { doctor_id: crypto.randomUUID() }, { ...user.auth, ...withId(requestId) }),
      jsonRequest(method, { doctor_id: crypto.randomUUID() }, withId(requestId)),
      jsonRequest(method, { id: "x", unknown: 1 }, { ...user.auth, ...withId(requestId) }),
      { method, headers: { ...user.auth, "Content-Type": "text/plain", ...withId(requestId) }, body: "x" },
      jsonRequest(method, { doctor_id: "x".repeat(65 * 1024) }, withId(requestId)),
    ];
    for (const init of attempts) {
      for (const path of [mappingPath(mapping.id), `/api/mappings/${mapping.id}`, mappingPath("not-a-uuid")]) {
        const res = await call(path, init);
        await expectProblem(res, 405);
        expect(allowOf(res)).toEqual(["DELETE", "GET", "HEAD", "OPTIONS"]);
        expect(res.headers.get("WWW-Authenticate")).toBeNull();
      }
    }
    await expectAudit(requestId, []);
    expect(await (await get(mappingPath(mapping.id), user)).json()).toEqual(mapping);
  });

  it("answers other unsupported methods on the collection and the patient list with their own Allow", async () => {
    const user = await newUser();
    const collection = await send("DELETE", "/api/mappings/", user);
    await expectProblem(collection, 405);
    expect(allowOf(collection)).toEqual(["GET", "HEAD", "OPTIONS", "POST"]);
    const patientList = await call(patientDoctorsPath(crypto.randomUUID()), jsonRequest("POST", {}, user.auth));
    await expectProblem(patientList, 405);
    expect(allowOf(patientList)).toEqual(["GET", "HEAD", "OPTIONS"]);
  });
});

describe("deleting what a mapping refers to", () => {
  it("deleting the patient removes its mappings", async () => {
    const { user, patient, doctor, mapping } = await mappedFixture();
    expect((await del(`/api/patients/${patient.id}/`, user)).status).toBe(204);
    await expectProblem(await get(mappingPath(mapping.id), user), 404);
    expect(await pairRows(patient.id, doctor.id)).toEqual([]);
    expect(await page(await get(`/api/mappings/?doctor_id=${doctor.id}`, user))).toMatchObject({ count: 0, results: [] });
    // The doctor is free again.
    expect((await del(`/api/doctors/${doctor.id}/`, user)).status).toBe(204);
  });

  it("deleting an assigned doctor is refused with 409 that names no patient, and the mapping remains", async () => {
    const creator = await newUser();
    const doctor = (await createDoctor(creator)).body;
    const owner = await newUser();
    const patient = (await createPatient(owner)).body;
    const mapping = await assign(owner, patient.id, doctor.id);

    const refused = await expectProblem(await del(`/api/doctors/${doctor.id}/`, creator), 409);
    expect(JSON.stringify(refused)).not.toContain(patient.id);
    expect(JSON.stringify(refused)).not.toContain(owner.id);
    expect(await (await get(mappingPath(mapping.id), owner)).json()).toEqual(mapping);
    expect((await get(`/api/doctors/${doctor.id}/`, creator)).status).toBe(200);

    expect((await del(mappingPath(mapping.id), owner)).status).toBe(204);
    expect((await del(`/api/doctors/${doctor.id}/`, creator)).status).toBe(204);
  });
});

describe("GET /api/mappings/", () => {
  /** Two patients, two doctors and three mappings, created in this order, plus another user's mapping to the same doctor. */
  async function listFixture() {
    const user = await newUser();
    const patients = [(await createPatient(user)).body, (await createPatient(user)).body];
    const doctors = [(await createDoctor(user)).body, (await createDoctor(user)).body];
    const mappings = [
      await assign(user, patients[0].id, doctors[0].id),
      await assign(user, patients[0].id, doctors[1].id),
      await assign(user, patients[1].id, doctors[0].id),
    ];
    const other = await newUser();
    const otherPatient = (await createPatient(other)).body;
    const otherMapping = await assign(other, otherPatient.id, doctors[0].id);
    return { user, patients, doctors, mappings, other, otherPatient, otherMapping };
  }
  const list = (user: TestUser, query = "") => get(`/api/mappings/${query}`, user);

  it("lists only the caller's mappings in the envelope, oldest first", async () => {
    const { user, mappings, other, otherMapping } = await listFixture();
    expect(await page(await list(user))).toEqual({ count: 3, next: null, previous: null, results: mappings });
    expect(await page(await get("/api/mappings", user))).toEqual({ count: 3, next: null, previous: null, results: mappings });
    expect(await page(await list(other))).toEqual({ count: 1, next: null, previous: null, results: [otherMapping] });
    expect(await page(await list(await newUser()))).toEqual({ count: 0, next: null, previous: null, results: [] });
  });

  it("filters by patient_id and doctor_id", async () => {
    const { user, patients, doctors, mappings } = await listFixture();
    const results = async (query: string) => (await page(await list(user, query))).results;
    expect(await results(`?patient_id=${patients[0].id}`)).toEqual([mappings[0], mappings[1]]);
    expect(await results(`?patient_id=${patients[1].id}`)).toEqual([mappings[2]]);
    expect(await results(`?doctor_id=${doctors[0].id}`)).toEqual([mappings[0], mappings[2]]);
    expect(await results(`?doctor_id=${doctors[1].id}`)).toEqual([mappings[1]]);
    expect(await results(`?patient_id=${patients[1].id}&doctor_id=${doctors[1].id}`)).toEqual([]);
    expect(await results(`?patient_id=${patients[1].id}&doctor_id=${doctors[0].id}`)).toEqual([mappings[2]]);
    expect(await page(await list(user, `?patient_id=${patients[0].id}`))).toMatchObject({ count: 2 });
  });

  it("answers an empty list for another user's patient or an unknown id", async () => {
    const { user, other, otherPatient } = await listFixture();
    const empty = { count: 0, next: null, previous: null, results: [] };
    expect(await page(await list(user, `?patient_id=${otherPatient.id}`))).toEqual(empty);
    expect(await page(await list(user, `?patient_id=${crypto.randomUUID()}`))).toEqual(empty);
    expect(await page(await list(other, `?doctor_id=${crypto.randomUUID()}`))).toEqual(empty);
  });

  it.each(["patient_id", "doctor_id"])("answers 400 under errors.%s for a filter that is not a UUID_PATTERN", async (name) => {
    const user = await newUser();
    for (const value of ["x", "123", "00000000-0000-0000-0000-00000000000"]) {
      await expectFieldErrors(await list(user, `?${name}=${value}`), [name]);
    }
  });

  it("orders by created_at either way and by nothing else", async () => {
    const { user, mappings } = await listFixture();
    expect((await page(await list(user, "?ordering=created_at"))).results).toEqual(mappings);
    expect((await page(await list(user, "?ordering=-created_at"))).results).toEqual([...mappings].reverse());
    for (const ordering of ["id", "-id", "patient_id", "doctor_id", "updated_at", "created_at,id", "+created_at", "CREATED_AT", "-"]) {
      await expectFieldErrors(await list(user, `?ordering=${encodeURIComponent(ordering)}`), ["ordering"]);
    }
  });

  it("pages with limit and offset, links keeping the other parameters", async () => {
    const { user, patients, mappings } = await listFixture();
    const first = await page(await list(user, "?limit=2"));
    expect(first).toMatchObject({ count: 3, previous: null, results: mappings.slice(0, 2) });
    expectLink(first.next, "/api/mappings/", { limit: "2", offset: "2" });

    const second = await page(await list(user, "?limit=2&offset=2"));
    expect(second).toMatchObject({ count: 3, next: null, results: [mappings[2]] });
    expectLink(second.previous, "/api/mappings/", { limit: "2", offset: "0" });

    const middle = await page(await list(user, "?ordering=-created_at&limit=1&offset=1"));
    expect(middle).toMatchObject({ count: 3, results: [mappings[1]] });
    expectLink(middle.next, "/api/mappings/", { ordering: "-created_at", limit: "1", offset: "2" });
    expectLink(middle.previous, "/api/mappings/", { ordering: "-created_at", limit: "1", offset: "0" });

    const filtered = await page(await list(user, `?patient_id=${patients[0].id}&limit=1`));
    expect(filtered).toMatchObject({ count: 2, previous: null, results: [mappings[0]] });
    expectLink(filtered.next, "/api/mappings/", { patient_id: patients[0].id, limit: "1", offset: "1" });

    expect(await page(await list(user, "?offset=3"))).toMatchObject({ count: 3, next: null, results: [] });
    expect((await page(await list(user, "?limit=100"))).results).toEqual(mappings);
    expect((await page(await list(user, "?limit=1"))).results).toEqual([mappings[0]]);
  });

  it.each([
    ["limit", "0"],
    ["limit", "101"],
    ["limit", "-1"],
    ["limit", "abc"],
    ["limit", "1.5"],
    ["offset", "-1"],
    ["offset", "abc"],
    ["offset", "2.5"],
  ])("answers 400 under errors.%s for %s", async (name, value) => {
    await expectFieldErrors(await list(await newUser(), `?${name}=${value}`), [name]);
  });
});

describe("GET /api/mappings/patient/{patient_id}/", () => {
  type AssignedDoctor = Record<string, unknown> & { mapping_id: string; assigned_at: string };

  /** A patient with three doctors assigned in a known order (one created by another user), and distractors. */
  async function doctorsFixture() {
    const { user, patient } = await fixture();
    const stranger = await newUser();
    const full = (
      await createDoctor(user, {
        name: "Dr Full",
        specialization: "Neurology",
        email: "full@example.com",
        phone: "+1 555 0100",
        license_number: `LIC-${crypto.randomUUID().slice(0, 8)}`,
      })
    ).body;
    const plain = (await createDoctor(user, { name: "Dr Plain", specialization: "Dermatology" })).body;
    const shared = (await createDoctor(stranger, { name: "Dr Shared", specialization: "Oncology" })).body;
    const unassigned = (await createDoctor(user)).body;
    const otherPatient = (await createPatient(user)).body;
    await assign(user, otherPatient.id, unassigned.id);

    const order = [plain, full, shared];
    const expected: AssignedDoctor[] = [];
    for (const doctor of order) {
      const mapping = await assign(user, patient.id, doctor.id);
      expected.push({ ...doctor, mapping_id: mapping.id, assigned_at: mapping.created_at });
    }
    return { user, patient, expected };
  }

  it("lists the assigned doctors with mapping_id and assigned_at, in assignment order", async () => {
    const { user, patient, expected } = await doctorsFixture();
    const body = await page<AssignedDoctor>(await get(patientDoctorsPath(patient.id), user));
    expect(body).toEqual({ count: 3, next: null, previous: null, results: expected });
    for (const doctor of body.results) {
      expect(Object.keys(doctor).sort()).toEqual([...DOCTOR_KEYS, "assigned_at", "mapping_id"].sort());
      expect(doctor.assigned_at).toMatch(ISO_TIMESTAMP);
    }
    expect(body.results[1]).toMatchObject({ email: "full@example.com", phone: "+1 555 0100" });
    expect(body.results[0]).toMatchObject({ email: null, phone: null, license_number: null, created_by: user.id });
    expect(await page(await get(`/api/mappings/patient/${patient.id}`, user))).toEqual(body);
  });

  it("pages with limit and offset", async () => {
    const { user, patient, expected } = await doctorsFixture();
    const path = patientDoctorsPath(patient.id);
    const middle = await page<AssignedDoctor>(await get(`${path}?limit=1&offset=1`, user));
    expect(middle).toMatchObject({ count: 3, results: [expected[1]] });
    expectLink(middle.next, path, { limit: "1", offset: "2" });
    expectLink(middle.previous, path, { limit: "1", offset: "0" });

    const first = await page<AssignedDoctor>(await get(`${path}?limit=2`, user));
    expect(first).toMatchObject({ count: 3, previous: null, results: expected.slice(0, 2) });
    expectLink(first.next, path, { limit: "2", offset: "2" });

    expect(await page(await get(`${path}?limit=2&offset=2`, user))).toMatchObject({ count: 3, next: null, results: [expected[2]] });
    await expectFieldErrors(await get(`${path}?limit=0`, user), ["limit"]);
    await expectFieldErrors(await get(`${path}?limit=101`, user), ["limit"]);
    await expectFieldErrors(await get(`${path}?offset=-1`, user), ["offset"]);
  });

  it("answers an empty list for a patient without doctors, and drops a doctor whose mapping is deleted", async () => {
    const { user, patient, doctor, mapping } = await mappedFixture();
    const empty = (await createPatient(user)).body;
    expect(await page(await get(patientDoctorsPath(empty.id), user))).toEqual({ count: 0, next: null, previous: null, results: [] });
    expect((await page(await get(patientDoctorsPath(patient.id), user))).results.map((d) => (d as { id: string }).id)).toEqual([doctor.id]);
    await del(mappingPath(mapping.id), user);
    expect(await page(await get(patientDoctorsPath(patient.id), user))).toMatchObject({ count: 0, results: [] });
  });

  it("answers 404 alike for another user's patient, an unknown id and a non-UUID_PATTERN id", async () => {
    const { patient } = await mappedFixture();
    const intruder = await newUser();
    const foreign = await expectProblem(await get(patientDoctorsPath(patient.id), intruder), 404);
    const unknown = await expectProblem(await get(patientDoctorsPath(crypto.randomUUID()), intruder), 404);
    const malformed = await expectProblem(await get(patientDoctorsPath("not-a-uuid"), intruder), 404);
    expect(foreign).toEqual(unknown);
    expect(malformed).toEqual(unknown);
  });
});

describe("both mapping lists by cursor", () => {
  /**
   * A user with 3 patients and 4 doctors, every pair assigned by one
   * statement (12 mappings, created_at tied), and one more pair assigned
   * later through the API.
   */
  async function tiedMappings() {
    const user = await newUser();
    const patients: string[] = [];
    const doctors: string[] = [];
    for (let i = 0; i < 3; i++) patients.push((await createPatient(user)).body.id);
    for (let i = 0; i < 4; i++) doctors.push((await createDoctor(user)).body.id);
    await directSql()`
      INSERT INTO patient_doctor_mappings (patient_id, doctor_id, owner_id)
      SELECT p, d, ${user.id}::uuid FROM unnest(${patients}::uuid[]) p, unnest(${doctors}::uuid[]) d`;
    const patient = (await createPatient(user)).body.id;
    await createMapping(user, patient, doctors[0]);
    return { user, patients, doctors };
  }

  it("GET /api/mappings/: every row once, in order with ties, and back, either way and within each filter", async () => {
    const { user, patients, doctors } = await tiedMappings();
    for (const ordering of ["created_at", "-created_at"]) {
      for (const limit of [1, 5]) await expectCursorPaging<Mapping>("/api/mappings/", { ordering }, user.auth, limit);
    }
    const byPatient = await expectCursorPaging<Mapping>("/api/mappings/", { patient_id: patients[1] }, user.auth, 3);
    expect(byPatient[0].count).toBe(4);
    const byDoctor = await expectCursorPaging<Mapping>("/api/mappings/", { doctor_id: doctors[0], ordering: "-created_at" }, user.auth, 2);
    expect(byDoctor[0].count).toBe(4);
    await expectCursorPaging<Mapping>("/api/mappings/", { doctor_id: doctors[2], patient_id: patients[0] }, user.auth, 1);
  });

  it("GET /api/mappings/patient/{id}/: the doctors once, in assignment order with ties, and back", async () => {
    const { user, patients } = await tiedMappings();
    for (const limit of [1, 3, 4]) {
      const pages = await expectCursorPaging<{ id: string; mapping_id: string }>(patientDoctorsPath(patients[2]), {}, user.auth, limit);
      expect(pages[0].count).toBe(4);
    }
  });

  it("refuses a cursor of another filter, ordering, list or patient, and one with offset, with 400 naming it", async () => {
    const { user, patients } = await tiedMappings();
    const cursorOf = async (path: string, query: Record<string, string>) => {
      const page = (await (
        await get(`${path}?${new URLSearchParams({ ...query, limit: "1", cursor: "" })}`, user)
      ).json()) as Page<Mapping>;
      return new URL(page.next ?? "").searchParams.get("cursor") ?? "";
    };
    const filtered = await cursorOf("/api/mappings/", { patient_id: patients[0] });
    const doctorsOfFirst = await cursorOf(patientDoctorsPath(patients[0]), {});
    const refused: [string, Record<string, string>, string][] = [
      ["/api/mappings/", { cursor: filtered }, "cursor"],
      ["/api/mappings/", { patient_id: patients[1], cursor: filtered }, "cursor"],
      ["/api/mappings/", { patient_id: patients[0], ordering: "-created_at", cursor: filtered }, "cursor"],
      ["/api/mappings/", { patient_id: patients[0], cursor: doctorsOfFirst }, "cursor"],
      [patientDoctorsPath(patients[1]), { cursor: doctorsOfFirst }, "cursor"],
      [patientDoctorsPath(patients[0]), { cursor: filtered }, "cursor"],
      [patientDoctorsPath(patients[0]), { cursor: doctorsOfFirst, offset: "1" }, "offset"],
      ["/api/mappings/", { cursor: "not a cursor" }, "cursor"],
    ];
    for (const [path, query, param] of refused) {
      const body = await expectProblem(await get(`${path}?${new URLSearchParams(query)}`, user), 400);
      expect(Object.keys(body.errors ?? {}), `${path} ${JSON.stringify(query)}`).toEqual([param]);
    }
    // The same patient's id in upper case, without the trailing slash: the same list.
    const same = `/api/mappings/patient/${patients[0].toUpperCase()}?cursor=${doctorsOfFirst}`;
    expect((await get(same, user)).status).toBe(200);
  });
});

describe("authentication", () => {
  const someId = "6f1c1b7e-3d4a-4c1e-9a57-0c1d2e3f4a5b";
  it.each([
    ["GET", "/api/mappings/"],
    ["POST", "/api/mappings/"],
    ["GET", mappingPath(someId)],
    ["DELETE", mappingPath(someId)],
    ["GET", patientDoctorsPath(someId)],
  ])("%s %s answers 401 with WWW-Authenticate: Bearer and writes no audit row", async (method, path) => {
    const requestId = newRequestId();
    for (const authorization of [undefined, "Bearer not.a.token", "Basic dXNlcjpwYXNz"]) {
      const headers: HeaderMap = { ...withId(requestId), ...(authorization ? { Authorization: authorization } : {}) };
      // A POST with no valid body still gets 401: authentication comes before 415 and 400.
      const res = await call(path, method === "POST" ? { method, headers, body: "not json" } : { method, headers });
      await expectProblem(res, 401);
      expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
    }
    await expectAudit(requestId, []);
  });
});

describe("audit trail", () => {
  it("writes one success row for each operation that happened", async () => {
    const { user, patient, doctor } = await fixture();
    const ids = { create: newRequestId(), read: newRequestId(), list: newRequestId(), doctors: newRequestId(), remove: newRequestId() };
    const created = await post(user, { patient_id: patient.id, doctor_id: doctor.id }, withId(ids.create));
    const { id } = (await created.json()) as Mapping;
    expect((await get(mappingPath(id), user, withId(ids.read))).status).toBe(200);
    expect((await get("/api/mappings/", user, withId(ids.list))).status).toBe(200);
    expect((await get(patientDoctorsPath(patient.id), user, withId(ids.doctors))).status).toBe(200);
    expect((await del(mappingPath(id), user, withId(ids.remove))).status).toBe(204);

    const row = (action: string, resource_id: string | null) => ({ actor_id: user.id, action, resource_id, outcome: "success" });
    await expectAudit(ids.create, [row("create", id)]);
    await expectAudit(ids.read, [row("read", id)]);
    await expectAudit(ids.list, [row("list", null)]);
    await expectAudit(ids.doctors, [row("list", null)]);
    await expectAudit(ids.remove, [row("delete", id)]);
  });

  it("records why a request that reached the database was refused", async () => {
    const { user, patient, doctor, mapping } = await mappedFixture();
    const intruder = await newUser();
    const intruderDoctor = (await createDoctor(intruder)).body;
    const unknownId = crypto.randomUUID();
    type Case = [string, (id: HeaderMap) => Promise<Response>, number, Omit<AuditRow, "client_request_id" | "resource_type">];
    const cases: Case[] = [
      [
        "duplicate pair",
        (id) => post(user, { patient_id: patient.id, doctor_id: doctor.id }, id),
        409,
        { actor_id: user.id, action: "create", resource_id: null, outcome: "conflict" },
      ],
      [
        "another user's patient",
        (id) => post(intruder, { patient_id: patient.id, doctor_id: intruderDoctor.id }, id),
        400,
        { actor_id: intruder.id, action: "create", resource_id: null, outcome: "not_found" },
      ],
      [
        "unknown doctor",
        (id) => post(user, { patient_id: patient.id, doctor_id: unknownId }, id),
        400,
        { actor_id: user.id, action: "create", resource_id: null, outcome: "not_found" },
      ],
      [
        "reading another user's mapping",
        (id) => get(mappingPath(mapping.id), intruder, id),
        404,
        { actor_id: intruder.id, action: "read", resource_id: mapping.id, outcome: "not_found" },
      ],
      [
        "reading an unknown mapping",
        (id) => get(mappingPath(unknownId), user, id),
        404,
        { actor_id: user.id, action: "read", resource_id: unknownId, outcome: "not_found" },
      ],
      [
        "deleting another user's mapping",
        (id) => del(mappingPath(mapping.id), intruder, id),
        404,
        { actor_id: intruder.id, action: "delete", resource_id: mapping.id, outcome: "not_found" },
      ],
      [
        "deleting with a stale If-Match",
        (id) => del(mappingPath(mapping.id), user, { "If-Match": '"999"', ...id }),
        412,
        { actor_id: user.id, action: "delete", resource_id: mapping.id, outcome: "precondition_failed" },
      ],
      [
        "listing another user's patient's doctors",
        (id) => get(patientDoctorsPath(patient.id), intruder, id),
        404,
        { actor_id: intruder.id, action: "list", resource_id: null, outcome: "not_found" },
      ],
    ];
    for (const [name, request, status, expected] of cases) {
      const requestId = newRequestId();
      expect((await request(withId(requestId))).status, name).toBe(status);
      await expectAudit(requestId, [expected]);
    }
    // Nothing of it changed the mapping.
    expect(await (await get(mappingPath(mapping.id), user)).json()).toEqual(mapping);
  });

  it("writes nothing for requests refused before the database", async () => {
    const { user, patient, doctor, mapping } = await mappedFixture();
    const requestId = newRequestId();
    const headers = { ...user.auth, ...withId(requestId) };
    const refused: [Promise<Response>, number][] = [
      [call("/api/mappings/", jsonRequest("POST", { patient_id: "x", doctor_id: doctor.id }, headers)), 400],
      [call("/api/mappings/", jsonRequest("POST", { patient_id: patient.id, doctor_id: doctor.id, id: mapping.id }, headers)), 400],
      [call("/api/mappings/", { method: "POST", headers, body: "{}" }), 415],
      [call("/api/mappings/", jsonRequest("POST", "{oops", headers)), 400],
      [call("/api/mappings/?patient_id=x", { headers }), 400],
      [call("/api/mappings/?ordering=id", { headers }), 400],
      [call(`${patientDoctorsPath(patient.id)}?limit=0`, { headers }), 400],
      [call(mappingPath("not-a-uuid"), { headers }), 404],
      [call(mappingPath("not-a-uuid"), { method: "DELETE", headers }), 404],
      [call(patientDoctorsPath("not-a-uuid"), { headers }), 404],
      [call(mappingPath(mapping.id), jsonRequest("PUT", { doctor_id: doctor.id }, headers)), 405],
      [call(mappingPath(mapping.id), jsonRequest("PATCH", {}, headers)), 405],
    ];
    for (const [pending, status] of refused) await expectProblem(await pending, status);
    await expectAudit(requestId, []);
  });
});

describe("database round trips", () => {
  it("takes exactly one for create, read, list, patient-doctors list and delete", async () => {
    const { user, patient, doctor } = await fixture();
    const init = { headers: user.auth };
    let id = "";
    const trips = {
      create: await countRoundTrips(async (request) => {
        const res = await request("/api/mappings/", jsonRequest("POST", { patient_id: patient.id, doctor_id: doctor.id }, user.auth));
        expect(res.status).toBe(201);
        id = ((await res.json()) as Mapping).id;
      }),
      duplicate: await countRoundTrips(async (request) => {
        const res = await request("/api/mappings/", jsonRequest("POST", { patient_id: patient.id, doctor_id: doctor.id }, user.auth));
        expect(res.status).toBe(409);
      }),
      read: await countRoundTrips(async (request) => expect((await request(mappingPath(id), init)).status).toBe(200)),
      list: await countRoundTrips(async (request) => expect((await request("/api/mappings/", init)).status).toBe(200)),
      doctors: await countRoundTrips(async (request) => expect((await request(patientDoctorsPath(patient.id), init)).status).toBe(200)),
      remove: await countRoundTrips(async (request) =>
        expect((await request(mappingPath(id), { ...init, method: "DELETE" })).status).toBe(204),
      ),
    };
    expect(trips).toEqual({ create: 1, duplicate: 1, read: 1, list: 1, doctors: 1, remove: 1 });
  });

  it("takes none for requests refused before the database", async () => {
    const { user, patient } = await fixture();
    const trips = await countRoundTrips(async (request) => {
      expect((await request("/api/mappings/", jsonRequest("POST", { patient_id: patient.id }, user.auth))).status).toBe(400);
      expect((await request(mappingPath("not-a-uuid"), { headers: user.auth })).status).toBe(404);
      expect((await request(mappingPath(crypto.randomUUID()), { method: "PUT", headers: user.auth })).status).toBe(405);
      expect((await request("/api/mappings/")).status).toBe(401);
    });
    expect(trips).toBe(0);
  });
});

describe("POST /api/mappings/ with padded ids", () => {
  it("trims the ids like any other string", async () => {
    const user = await newUser();
    const [patient, doctor] = await Promise.all([createPatient(user), createDoctor(user)]);
    const res = await call(
      "/api/mappings/",
      jsonRequest("POST", { patient_id: ` ${patient.body.id} `, doctor_id: `${doctor.body.id}\n` }, user.auth),
    );
    expect(res.status).toBe(201);
  });
});
