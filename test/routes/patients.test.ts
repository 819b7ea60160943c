/**
 * docs/BEHAVIOUR.md (patients) with its general rules and the audit trail
 * of docs/BEHAVIOUR.md, through the Worker's entrypoint on the real database. Every test
 * makes its own users, so other files' patients never show up here.
 */
import { describe, expect, it } from "vitest";
import {
  auditRows,
  call,
  countRoundTrips,
  createDoctor,
  createMapping,
  createPatient,
  cursorJson,
  cursorOf,
  directSql,
  expectCursorPaging,
  expectProblem,
  ISO_TIMESTAMP,
  jsonRequest,
  makeCursor,
  newRequestId,
  newUser,
  ORIGIN,
  type Page,
  STRONG_ETAG,
  type TestUser,
  VALID_PATIENT,
} from "../helpers";

type Patient = Record<string, unknown> & { id: string; name: string; updated_at: string; created_at: string };
type PatientPage = Page<Patient>;
type Headers = Record<string, string>;

const PATIENT_KEYS = ["address", "created_at", "date_of_birth", "email", "gender", "id", "medical_history", "name", "phone", "updated_at"];

const url = (id?: string) => (id === undefined ? "/api/patients/" : `/api/patients/${id}/`);

/** A request as `who`, with a JSON body when one is given. */
function send(method: string, path: string, who: TestUser, body?: unknown, headers: Headers = {}) {
  const all = { ...who.auth, ...headers };
  return call(path, body === undefined ? { method, headers: all } : jsonRequest(method, body, all));
}

const api = {
  list: (who: TestUser, query: Record<string, string> = {}, headers: Headers = {}) =>
    send("GET", `/api/patients/?${new URLSearchParams(query)}`, who, undefined, headers),
  create: (who: TestUser, body: unknown, headers: Headers = {}) => send("POST", url(), who, body, headers),
  read: (who: TestUser, id: string, headers: Headers = {}) => send("GET", url(id), who, undefined, headers),
  replace: (who: TestUser, id: string, body: unknown, headers: Headers = {}) => send("PUT", url(id), who, body, headers),
  update: (who: TestUser, id: string, body: unknown, headers: Headers = {}) => send("PATCH", url(id), who, body, headers),
  remove: (who: TestUser, id: string, headers: Headers = {}) => send("DELETE", url(id), who, undefined, headers),
};

const json = async <T = Patient>(res: Response) => (await res.json()) as T;

/** 400 whose `errors` names exactly `fields`. */
async function expectFieldErrors(res: Response, fields: string[]) {
  const body = await expectProblem(res, 400);
  expect(Object.keys(body.errors ?? {}).sort()).toEqual([...fields].sort());
  return body;
}

/** The patient's row as stored, or undefined. */
async function stored(id: string) {
  const [row] = await directSql()`SELECT * FROM patients WHERE id = ${id}`;
  return row as Record<string, unknown> | undefined;
}

const patientCount = async (owner: TestUser) =>
  Number((await directSql()`SELECT count(*)::int AS n FROM patients WHERE owner_id = ${owner.id}`)[0].n);

/** Exactly one audit row for `requestId` with these values, or none at all when `row` is omitted. */
async function expectAudit(requestId: string, row?: { actor: TestUser; action: string; resource: string | null; outcome: string }) {
  expect(await auditRows(requestId)).toEqual(
    row
      ? [
          {
            actor_id: row.actor.id,
            action: row.action,
            resource_type: "patient",
            resource_id: row.resource,
            client_request_id: requestId,
            outcome: row.outcome,
          },
        ]
      : [],
  );
}

const rid = (requestId: string) => ({ "X-Request-Id": requestId });

/** A UTC calendar date `days` from today. */
const utcDate = (days = 0) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

const FULL_PATIENT = {
  name: "Ada Lovelace",
  date_of_birth: "1985-12-10",
  gender: "female",
  phone: "+44 (20) 7946-0958",
  email: "ada@example.com",
  address: "12 St James's Square, London",
  medical_history: "Asthma since childhood.",
};

describe("POST /api/patients/", () => {
  it("answers 201 with the exact patient, an absolute Location, a strong ETag and no-store", async () => {
    const user = await newUser();
    const res = await api.create(user, FULL_PATIENT);
    expect(res.status).toBe(201);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = await json(res);
    expect(Object.keys(body).sort()).toEqual(PATIENT_KEYS);
    expect(body).toEqual({
      ...FULL_PATIENT,
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      created_at: body.created_at,
      updated_at: body.created_at,
    });
    expect(body.created_at).toMatch(ISO_TIMESTAMP);
    expect(res.headers.get("Location")).toBe(`${ORIGIN}/api/patients/${body.id}/`);
    expect(res.headers.get("ETag")).toMatch(STRONG_ETAG);
    const row = await stored(body.id);
    expect(row?.owner_id).toBe(user.id);
    // The ETag of the create is the one a GET gives.
    expect((await api.read(user, body.id)).headers.get("ETag")).toBe(res.headers.get("ETag"));
  });

  it("stores omitted optional fields, and those sent as null, empty or blank, as null", async () => {
    const user = await newUser();
    const omitted = await json(await api.create(user, VALID_PATIENT));
    expect(omitted).toMatchObject({ ...VALID_PATIENT, phone: null, email: null, address: null, medical_history: null });
    for (const empty of [null, "", "   "]) {
      const res = await api.create(user, { ...VALID_PATIENT, phone: empty, email: empty, address: empty, medical_history: empty });
      expect(res.status, JSON.stringify(empty)).toBe(201);
      const body = await json(res);
      expect(body).toMatchObject({ phone: null, email: null, address: null, medical_history: null });
      expect(await stored(body.id)).toMatchObject({ phone: null, email: null, address: null, medical_history: null });
    }
  });

  it("trims strings and stores the email lower-cased", async () => {
    const user = await newUser();
    const body = await json(
      await api.create(user, {
        ...VALID_PATIENT,
        name: "  Grace Hopper \n",
        phone: "  +1 555 0100  ",
        email: "  Grace.Hopper@Example.COM ",
        address: "\t1 Navy Way ",
        medical_history: " none ",
      }),
    );
    expect(body).toMatchObject({
      name: "Grace Hopper",
      phone: "+1 555 0100",
      email: "grace.hopper@example.com",
      address: "1 Navy Way",
      medical_history: "none",
    });
  });

  // docs/BEHAVIOUR.md, general rules: strings are trimmed, and gender is a string field.
  it("trims the gender like every other string", async () => {
    const user = await newUser();
    const res = await api.create(user, { ...VALID_PATIENT, gender: " male " });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await json(res)).gender).toBe("male");
  });

  it("accepts the boundaries: 200 code points of name, 1900-01-01 and today (UTC), 7 and 32 phone characters, 500 and 10,000", async () => {
    const user = await newUser();
    for (const change of [
      { name: "x".repeat(200) },
      // 200 code points, 400 UTF-16 units.
      { name: "😀".repeat(200) },
      { name: "J" },
      { date_of_birth: "1900-01-01" },
      { date_of_birth: utcDate() },
      { date_of_birth: "2024-02-29" },
      { phone: "1234567" },
      { phone: "1".repeat(32) },
      { phone: "+(0) 12-34 56" },
      { address: "a".repeat(500) },
      { address: "é".repeat(500) },
      { medical_history: "m".repeat(10_000) },
      ...["male", "female", "other", "unknown"].map((gender) => ({ gender })),
    ]) {
      const res = await api.create(user, { ...VALID_PATIENT, ...change });
      expect(res.status, JSON.stringify(change).slice(0, 80)).toBe(201);
      expect(await json(res)).toMatchObject(change);
    }
  });

  it("takes the last of duplicate keys, as JSON.parse does", async () => {
    const user = await newUser();
    const res = await api.create(user, '{"name":"First","date_of_birth":"1980-02-03","gender":"male","name":"Second"}');
    expect(res.status).toBe(201);
    expect((await json(res)).name).toBe("Second");
  });

  it.each([
    ["name", { name: undefined }],
    ["name", { name: null }],
    ["name", { name: "" }],
    ["name", { name: " \t\n " }],
    ["name", { name: "x".repeat(201) }],
    ["name", { name: "😀".repeat(201) }],
    ["name", { name: 42 }],
    ["name", { name: ["Ada"] }],
    ["name", { name: "nul\u0000byte" }],
    ["date_of_birth", { date_of_birth: undefined }],
    ["date_of_birth", { date_of_birth: null }],
    ["date_of_birth", { date_of_birth: "" }],
    ["date_of_birth", { date_of_birth: "1980-2-3" }],
    ["date_of_birth", { date_of_birth: "03/02/1980" }],
    ["date_of_birth", { date_of_birth: "1980-02-03T00:00:00Z" }],
    ["date_of_birth", { date_of_birth: "2023-02-30" }],
    ["date_of_birth", { date_of_birth: "2023-02-29" }],
    ["date_of_birth", { date_of_birth: "2023-04-31" }],
    ["date_of_birth", { date_of_birth: "2023-13-01" }],
    ["date_of_birth", { date_of_birth: "2023-00-10" }],
    ["date_of_birth", { date_of_birth: "1899-12-31" }],
    ["date_of_birth", { date_of_birth: 19800203 }],
    ["gender", { gender: undefined }],
    ["gender", { gender: null }],
    ["gender", { gender: "" }],
    ["gender", { gender: "Female" }],
    ["gender", { gender: "f" }],
    ["gender", { gender: 1 }],
    ["phone", { phone: "123456" }],
    ["phone", { phone: "1".repeat(33) }],
    ["phone", { phone: "555-CALL-NOW" }],
    ["phone", { phone: "+1.555.0100" }],
    ["phone", { phone: "1234567\u0000" }],
    ["phone", { phone: 5550100123 }],
    ["email", { email: "not-an-email" }],
    ["email", { email: "a@" }],
    ["email", { email: "a b@example.com" }],
    ["email", { email: "nul\u0000@example.com" }],
    ["email", { email: true }],
    ["address", { address: "a".repeat(501) }],
    ["address", { address: "😀".repeat(501) }],
    ["address", { address: "nul\u0000byte" }],
    ["address", { address: ["1 Street"] }],
    ["medical_history", { medical_history: "m".repeat(10_001) }],
    ["medical_history", { medical_history: "nul\u0000byte" }],
    ["medical_history", { medical_history: { note: "x" } }],
    ["id", { id: crypto.randomUUID() }],
    ["owner_id", { owner_id: crypto.randomUUID() }],
    ["created_at", { created_at: "2020-01-01T00:00:00.000Z" }],
    ["updated_at", { updated_at: "2020-01-01T00:00:00.000Z" }],
    ["version", { version: 7 }],
    ["nickname", { nickname: "Ada" }],
  ])("answers 400 naming %s for %j, writes nothing and audits nothing", async (field, change) => {
    const user = await newUser();
    const requestId = newRequestId();
    await expectFieldErrors(await api.create(user, { ...VALID_PATIENT, ...change }, rid(requestId)), [field]);
    expect(await patientCount(user)).toBe(0);
    await expectAudit(requestId);
  });

  it("answers 400 for a date of birth tomorrow in UTC", async () => {
    const user = await newUser();
    await expectFieldErrors(await api.create(user, { ...VALID_PATIENT, date_of_birth: utcDate(1) }), ["date_of_birth"]);
  });

  it("names every unknown and read-only field at once", async () => {
    const user = await newUser();
    const res = await api.create(user, {
      ...VALID_PATIENT,
      id: crypto.randomUUID(),
      owner_id: user.id,
      created_at: "2020-01-01T00:00:00.000Z",
      updated_at: "2020-01-01T00:00:00.000Z",
      is_admin: true,
      colour: "blue",
    });
    await expectFieldErrors(res, ["colour", "created_at", "id", "is_admin", "owner_id", "updated_at"]);
  });

  it("refuses a __proto__ key as an unknown field", async () => {
    const user = await newUser();
    const res = await api.create(
      user,
      `{"name":"Proto","date_of_birth":"1980-02-03","gender":"male","__proto__":{"owner_id":"${user.id}"}}`,
    );
    await expectFieldErrors(res, ["__proto__"]);
  });

  it.each([["[]"], ['"a string"'], ["null"], ["42"]])("answers 400 for the JSON body %s", async (raw) => {
    const user = await newUser();
    await expectProblem(await api.create(user, raw), 400);
  });

  it("answers 415 without a JSON content type, 400 for malformed JSON, and audits neither", async () => {
    const user = await newUser();
    // Bytes, not a string: fetch would add text/plain to a string body.
    const body = new TextEncoder().encode(JSON.stringify(VALID_PATIENT));
    const types: Headers[] = [{}, { "Content-Type": "text/plain" }, { "Content-Type": "application/x-www-form-urlencoded" }];
    for (const headers of types) {
      const requestId = newRequestId();
      await expectProblem(await call(url(), { method: "POST", headers: { ...user.auth, ...headers, ...rid(requestId) }, body }), 415);
      await expectAudit(requestId);
    }
    const requestId = newRequestId();
    await expectProblem(await api.create(user, '{"name": "Ada",', rid(requestId)), 400);
    await expectAudit(requestId);
    expect(await patientCount(user)).toBe(0);
  });

  it("accepts application/json with a charset", async () => {
    const user = await newUser();
    const res = await call(url(), {
      method: "POST",
      headers: { ...user.auth, "Content-Type": "application/json; charset=utf-8" },
      body: JSON.stringify(VALID_PATIENT),
    });
    expect(res.status).toBe(201);
  });

  it("answers 413 for a body over 64 KiB (before auth and media type) and accepts exactly 64 KiB", async () => {
    const user = await newUser();
    const oversized = JSON.stringify({ ...VALID_PATIENT, medical_history: "m".repeat(64 * 1024) });
    const requestId = newRequestId();
    await expectProblem(await api.create(user, oversized, rid(requestId)), 413);
    await expectAudit(requestId);
    await expectProblem(await call(url(), { method: "POST", body: oversized }), 413);
    // Exactly 65,536 bytes is not over the limit: it reaches validation instead.
    const base = JSON.stringify({ ...VALID_PATIENT, medical_history: "" });
    const exact = JSON.stringify({ ...VALID_PATIENT, medical_history: "m".repeat(64 * 1024 - base.length) });
    expect(new TextEncoder().encode(exact).length).toBe(64 * 1024);
    await expectFieldErrors(await api.create(user, exact), ["medical_history"]);
    expect(await patientCount(user)).toBe(0);
  });

  it("is reachable without the trailing slash", async () => {
    const user = await newUser();
    const res = await call("/api/patients", jsonRequest("POST", VALID_PATIENT, user.auth));
    expect(res.status).toBe(201);
    const { id } = await json(res);
    expect((await call(`/api/patients/${id}`, { headers: user.auth })).status).toBe(200);
  });
});

describe("GET /api/patients/{id}/", () => {
  it("answers 200 with the exact patient, a strong ETag and no-store", async () => {
    const user = await newUser();
    const { body: created, etag } = await createPatient(user, FULL_PATIENT);
    const res = await api.read(user, created.id);
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual(created);
    expect(res.headers.get("ETag")).toBe(etag);
    expect(res.headers.get("ETag")).toMatch(STRONG_ETAG);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("answers the same patient for its id in upper case", async () => {
    const user = await newUser();
    const { body: created } = await createPatient(user);
    const res = await api.read(user, created.id.toUpperCase());
    expect(res.status).toBe(200);
    expect((await json(res)).id).toBe(created.id);
  });

  it("answers 304 with the ETag and no body for If-None-Match with the current tag, 200 for a stale one", async () => {
    const user = await newUser();
    const { body: created, etag } = await createPatient(user);
    const hit = await api.read(user, created.id, { "If-None-Match": etag });
    expect(hit.status).toBe(304);
    expect(hit.headers.get("ETag")).toBe(etag);
    expect(await hit.text()).toBe("");
    const listed = await api.read(user, created.id, { "If-None-Match": `"stale", ${etag}` });
    expect(listed.status).toBe(304);

    const updated = await api.update(user, created.id, { name: "Changed" });
    const stale = await api.read(user, created.id, { "If-None-Match": etag });
    expect(stale.status).toBe(200);
    expect(stale.headers.get("ETag")).toBe(updated.headers.get("ETag"));
    expect((await json(stale)).name).toBe("Changed");
  });

  it("answers 404 for an unknown id, with no-store", async () => {
    const user = await newUser();
    const res = await api.read(user, crypto.randomUUID());
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const body = await expectProblem(res, 404);
    expect(body).toEqual({ type: body.type, title: "Not Found", status: 404, detail: body.detail });
  });
});

describe("PUT /api/patients/{id}/", () => {
  it("replaces the whole patient: omitted optional fields become null; ETag and updated_at change", async () => {
    const user = await newUser();
    const { body: before, etag } = await createPatient(user, FULL_PATIENT);
    const res = await api.replace(user, before.id, { name: "  Ada King ", date_of_birth: "1915-12-10", gender: "other" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const after = await json(res);
    expect(after).toEqual({
      id: before.id,
      name: "Ada King",
      date_of_birth: "1915-12-10",
      gender: "other",
      phone: null,
      email: null,
      address: null,
      medical_history: null,
      created_at: before.created_at,
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
    });
    expect(after.updated_at > String(before.updated_at)).toBe(true);
    const newTag = res.headers.get("ETag");
    expect(newTag).toMatch(STRONG_ETAG);
    expect(newTag).not.toBe(etag);
    const read = await api.read(user, before.id);
    expect(await json(read)).toEqual(after);
    expect(read.headers.get("ETag")).toBe(newTag);
  });

  it.each([["name"], ["date_of_birth"], ["gender"]])("answers 400 when the required %s is missing, and changes nothing", async (field) => {
    const user = await newUser();
    const { body: before } = await createPatient(user, FULL_PATIENT);
    const rowBefore = await stored(before.id);
    const requestId = newRequestId();
    const body: Record<string, unknown> = { ...FULL_PATIENT };
    delete body[field];
    await expectFieldErrors(await api.replace(user, before.id, body, rid(requestId)), [field]);
    expect(await stored(before.id)).toEqual(rowBefore);
    await expectAudit(requestId);
  });

  it("answers 400 naming a read-only id, even the patient's own", async () => {
    const user = await newUser();
    const { body: before } = await createPatient(user);
    await expectFieldErrors(await api.replace(user, before.id, { ...VALID_PATIENT, id: before.id, owner_id: user.id }), ["id", "owner_id"]);
  });

  it("answers 404 for an unknown id", async () => {
    const user = await newUser();
    await expectProblem(await api.replace(user, crypto.randomUUID(), VALID_PATIENT), 404);
  });
});

describe("PATCH /api/patients/{id}/", () => {
  it("changes only the fields given and answers the whole patient with a new ETag", async () => {
    const user = await newUser();
    const { body: before, etag } = await createPatient(user, FULL_PATIENT);
    const res = await api.update(user, before.id, { medical_history: "  Asthma; penicillin allergy. ", email: "ADA@Example.org" });
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("ETag")).toMatch(STRONG_ETAG);
    expect(res.headers.get("ETag")).not.toBe(etag);
    expect(await json(res)).toEqual({
      ...before,
      medical_history: "Asthma; penicillin allergy.",
      email: "ada@example.org",
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
    });
  });

  it("clears an optional field sent as null or empty", async () => {
    const user = await newUser();
    const { body: before } = await createPatient(user, FULL_PATIENT);
    const res = await api.update(user, before.id, { phone: null, address: "" });
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ phone: null, address: null, email: FULL_PATIENT.email, name: FULL_PATIENT.name });
    expect(await stored(before.id)).toMatchObject({ phone: null, address: null, email: FULL_PATIENT.email });
  });

  it.each([
    ["name", { name: null }],
    ["name", { name: "  " }],
    ["date_of_birth", { date_of_birth: null }],
    ["date_of_birth", { date_of_birth: utcDate(1) }],
    ["gender", { gender: null }],
    ["phone", { phone: "12" }],
    ["email", { email: "nope" }],
    ["id", { id: crypto.randomUUID() }],
    ["updated_at", { updated_at: "2020-01-01T00:00:00.000Z" }],
    ["owner_id", { owner_id: crypto.randomUUID() }],
  ])("answers 400 naming %s for %j and changes nothing", async (field, change) => {
    const user = await newUser();
    const { body: before } = await createPatient(user, FULL_PATIENT);
    const rowBefore = await stored(before.id);
    await expectFieldErrors(await api.update(user, before.id, change), [field]);
    expect(await stored(before.id)).toEqual(rowBefore);
  });

  it("answers 415 without a JSON content type, even for a body every field of which is optional", async () => {
    const user = await newUser();
    const { body: before } = await createPatient(user, FULL_PATIENT);
    const res = await call(url(before.id), {
      method: "PATCH",
      headers: { ...user.auth, "Content-Type": "text/plain" },
      body: '{"phone":null}',
    });
    await expectProblem(res, 415);
    expect((await stored(before.id))?.phone).toBe(FULL_PATIENT.phone);
  });
});

describe("DELETE /api/patients/{id}/", () => {
  it("answers 204 with no body, after which the patient is 404 everywhere", async () => {
    const user = await newUser();
    const { body: patient } = await createPatient(user);
    const res = await api.remove(user, patient.id);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(await stored(patient.id)).toBeUndefined();
    await expectProblem(await api.read(user, patient.id), 404);
    await expectProblem(await api.remove(user, patient.id), 404);
    await expectProblem(await api.update(user, patient.id, { name: "Ghost" }), 404);
  });

  it("removes the patient's mappings and leaves the doctor", async () => {
    const user = await newUser();
    const { body: patient } = await createPatient(user);
    const { body: other } = await createPatient(user, { name: "Other" });
    const { body: doctor } = await createDoctor(user);
    await createMapping(user, patient.id, doctor.id);
    await createMapping(user, other.id, doctor.id);
    const mappingsOf = async (patientId: string) =>
      Number((await directSql()`SELECT count(*)::int AS n FROM patient_doctor_mappings WHERE patient_id = ${patientId}`)[0].n);
    expect(await mappingsOf(patient.id)).toBe(1);
    expect((await api.remove(user, patient.id)).status).toBe(204);
    expect(await mappingsOf(patient.id)).toBe(0);
    expect(await mappingsOf(other.id)).toBe(1);
    expect((await directSql()`SELECT id FROM doctors WHERE id = ${doctor.id}`).length).toBe(1);
  });
});

describe("conditional writes (If-Match)", () => {
  const writes = {
    PUT: (user: TestUser, id: string, headers: Headers) => api.replace(user, id, { ...VALID_PATIENT, name: "Written" }, headers),
    PATCH: (user: TestUser, id: string, headers: Headers) => api.update(user, id, { name: "Written" }, headers),
  };

  it.each(Object.keys(writes) as (keyof typeof writes)[])("%s with the current tag answers 200 and a new ETag", async (method) => {
    const user = await newUser();
    const { body: patient, etag } = await createPatient(user);
    const res = await writes[method](user, patient.id, { "If-Match": etag });
    expect(res.status).toBe(200);
    const next = res.headers.get("ETag");
    expect(next).toMatch(STRONG_ETAG);
    expect(next).not.toBe(etag);
    expect((await json(res)).name).toBe("Written");
  });

  it.each(Object.keys(writes) as (keyof typeof writes)[])("%s with a stale or weak tag answers 412 and changes nothing", async (method) => {
    const user = await newUser();
    const { body: patient, etag: first } = await createPatient(user, { name: "Original" });
    const second = (await api.update(user, patient.id, { phone: "1234567" })).headers.get("ETag") ?? "";
    const rowBefore = await stored(patient.id);
    for (const stale of [first, `W/${second}`, '"not-a-version"', "garbage"]) {
      const requestId = newRequestId();
      await expectProblem(await writes[method](user, patient.id, { "If-Match": stale, ...rid(requestId) }), 412);
      await expectAudit(requestId, { actor: user, action: "update", resource: patient.id, outcome: "precondition_failed" });
    }
    expect(await stored(patient.id)).toEqual(rowBefore);
    // A list holding the current tag matches.
    expect((await writes[method](user, patient.id, { "If-Match": `${first}, ${second}` })).status).toBe(200);
  });

  it.each(Object.keys(writes) as (keyof typeof writes)[])(
    "%s with If-Match: * answers 200 for an existing patient, 404 for an unknown id",
    async (method) => {
      const user = await newUser();
      const { body: patient } = await createPatient(user);
      expect((await writes[method](user, patient.id, { "If-Match": "*" })).status).toBe(200);
      await expectProblem(await writes[method](user, crypto.randomUUID(), { "If-Match": "*" }), 404);
      // 404 comes before 412 too.
      await expectProblem(await writes[method](user, crypto.randomUUID(), { "If-Match": '"1"' }), 404);
    },
  );

  it("DELETE with a stale tag answers 412 and deletes nothing; with the current tag or * it deletes", async () => {
    const user = await newUser();
    const { body: patient, etag: first } = await createPatient(user);
    const current = (await api.update(user, patient.id, { name: "Newer" })).headers.get("ETag") ?? "";
    const requestId = newRequestId();
    await expectProblem(await api.remove(user, patient.id, { "If-Match": first, ...rid(requestId) }), 412);
    await expectAudit(requestId, { actor: user, action: "delete", resource: patient.id, outcome: "precondition_failed" });
    expect((await stored(patient.id))?.name).toBe("Newer");
    expect((await api.remove(user, patient.id, { "If-Match": current })).status).toBe(204);
    expect(await stored(patient.id)).toBeUndefined();

    const { body: another } = await createPatient(user);
    expect((await api.remove(user, another.id, { "If-Match": "*" })).status).toBe(204);
    await expectProblem(await api.remove(user, another.id, { "If-Match": "*" }), 404);
  });

  it("compares If-Match strongly: a different tag that names the same version does not match", async () => {
    const user = await newUser();
    const { body: patient, etag } = await createPatient(user, { name: "Original" });
    // "01" is not "1" (RFC 9110 §8.8.3.2), whatever the server makes its tags from.
    const lookalike = `"0${etag.slice(1)}`;
    const rowBefore = await stored(patient.id);
    for (const [name, attempt] of Object.entries({
      PUT: () => api.replace(user, patient.id, { ...VALID_PATIENT, name: "Written" }, { "If-Match": lookalike }),
      PATCH: () => api.update(user, patient.id, { name: "Written" }, { "If-Match": lookalike }),
      DELETE: () => api.remove(user, patient.id, { "If-Match": lookalike }),
    })) {
      expect((await attempt()).status, name).toBe(412);
    }
    expect(await stored(patient.id)).toEqual(rowBefore);
  });

  it("lets exactly one of 8 parallel PUTs with the same tag win; the rest get 412", async () => {
    const user = await newUser();
    const { body: patient, etag } = await createPatient(user);
    const requestIds = Array.from({ length: 8 }, () => newRequestId());
    const results = await Promise.all(
      requestIds.map((requestId, i) =>
        api.replace(user, patient.id, { ...VALID_PATIENT, name: `Racer ${i}` }, { "If-Match": etag, ...rid(requestId) }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412, 412, 412, 412, 412, 412]);
    const winner = results.findIndex((r) => r.status === 200);
    const row = await stored(patient.id);
    expect(row?.name).toBe(`Racer ${winner}`);
    expect(row?.version).toBe(2);
    const outcomes = (await Promise.all(requestIds.map(auditRows))).map((rows) => rows.map((r) => r.outcome));
    expect(outcomes.flat().sort()).toEqual([...Array(7).fill("precondition_failed"), "success"]);
    expect(outcomes[winner]).toEqual(["success"]);
  }, 15_000);
});

describe("writes without If-Match racing a DELETE", () => {
  // Without If-Match nothing can be stale: a write that finds the patient gone is 404, never 412.
  it("answer 204 once and otherwise 200 or 404, never 412, and audit no precondition_failed", async () => {
    const user = await newUser();
    const seen: number[] = [];
    const outcomes: string[] = [];
    for (let round = 0; round < 10; round++) {
      const { body: patient } = await createPatient(user);
      const requestIds = Array.from({ length: 8 }, () => newRequestId());
      const results = await Promise.all(
        requestIds.map((requestId, i) => {
          const h = rid(requestId);
          if (i < 5) return api.remove(user, patient.id, h);
          return i === 5 ? api.replace(user, patient.id, VALID_PATIENT, h) : api.update(user, patient.id, { name: "Late" }, h);
        }),
      );
      const statuses = results.map((r) => r.status);
      seen.push(...statuses);
      expect(statuses.slice(0, 5).sort(), `round ${round}: ${statuses}`).toEqual([204, 404, 404, 404, 404]);
      for (const rows of await Promise.all(requestIds.map(auditRows))) outcomes.push(...rows.map((r) => r.outcome));
    }
    expect(seen.filter((s) => ![200, 204, 404].includes(s))).toEqual([]);
    expect(outcomes).toHaveLength(80);
    expect(outcomes).not.toContain("precondition_failed");
  }, 30_000);
});

describe("ids that are not UUIDs", () => {
  const ids = ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "00000000000000000000000000000000", "%27%20OR%201%3D1--"];

  it.each(ids)("answer 404 like an unknown id on every method, with no audit row: %s", async (id) => {
    const user = await newUser();
    const unknown = await expectProblem(await api.read(user, crypto.randomUUID()), 404);
    for (const [name, make] of Object.entries({
      GET: (h: Headers) => api.read(user, id, h),
      PUT: (h: Headers) => api.replace(user, id, VALID_PATIENT, h),
      PATCH: (h: Headers) => api.update(user, id, { name: "X" }, h),
      DELETE: (h: Headers) => api.remove(user, id, h),
    })) {
      const requestId = newRequestId();
      const res = await make(rid(requestId));
      expect(res.status, name).toBe(404);
      expect(await expectProblem(res, 404), name).toEqual(unknown);
      await expectAudit(requestId);
    }
  });
});

describe("another user's patient", () => {
  it("is 404 for GET, PUT, PATCH and DELETE, exactly like an unknown id, and stays unchanged", async () => {
    const owner = await newUser("Owner");
    const intruder = await newUser("Intruder");
    const { body: patient, etag } = await createPatient(owner, FULL_PATIENT);
    const rowBefore = await stored(patient.id);
    const unknown = await expectProblem(await api.read(intruder, crypto.randomUUID()), 404);

    const attempts: Record<string, [string, (h: Headers) => Promise<Response>]> = {
      GET: ["read", (h) => api.read(intruder, patient.id, h)],
      "GET If-None-Match": ["read", (h) => api.read(intruder, patient.id, { "If-None-Match": etag, ...h })],
      PUT: ["update", (h) => api.replace(intruder, patient.id, { ...VALID_PATIENT, name: "Stolen" }, h)],
      "PUT If-Match *": [
        "update",
        (h) => api.replace(intruder, patient.id, { ...VALID_PATIENT, name: "Stolen" }, { "If-Match": "*", ...h }),
      ],
      PATCH: ["update", (h) => api.update(intruder, patient.id, { medical_history: "Stolen" }, h)],
      "PATCH If-Match current": [
        "update",
        (h) => api.update(intruder, patient.id, { medical_history: "Stolen" }, { "If-Match": etag, ...h }),
      ],
      DELETE: ["delete", (h) => api.remove(intruder, patient.id, h)],
      "DELETE If-Match current": ["delete", (h) => api.remove(intruder, patient.id, { "If-Match": etag, ...h })],
    };
    for (const [name, [action, attempt]] of Object.entries(attempts)) {
      const requestId = newRequestId();
      const res = await attempt(rid(requestId));
      expect(res.status, name).toBe(404);
      expect(await expectProblem(res, 404), name).toEqual(unknown);
      await expectAudit(requestId, { actor: intruder, action, resource: patient.id, outcome: "not_found" });
    }
    expect(await stored(patient.id)).toEqual(rowBefore);
    const read = await api.read(owner, patient.id);
    expect(await json(read)).toEqual(patient);
    expect(read.headers.get("ETag")).toBe(etag);
  });

  it("never appears in the other user's list or search", async () => {
    const owner = await newUser();
    const other = await newUser();
    await createPatient(owner, { name: "Secret Person" });
    await createPatient(other, { name: "Visible Person" });
    const page = await json<PatientPage>(await api.list(other));
    expect(page.count).toBe(1);
    expect(page.results.map((p) => p.name)).toEqual(["Visible Person"]);
    expect(await json<PatientPage>(await api.list(other, { search: "secret" }))).toEqual({
      count: 0,
      next: null,
      previous: null,
      results: [],
    });
  });
});

describe("GET /api/patients/", () => {
  /** Creates patients for `user` in this order; returns their bodies. */
  async function seed(user: TestUser, patients: object[]) {
    const out: Patient[] = [];
    for (const p of patients) out.push((await createPatient(user, p)).body as Patient);
    return out;
  }
  const names = (page: PatientPage) => page.results.map((p) => p.name);

  it("answers the envelope with the caller's patients in creation order, no ETag, no-store", async () => {
    const user = await newUser();
    const created = await seed(user, [{ ...FULL_PATIENT, name: "First", email: null }, { name: "Second" }]);
    const res = await api.list(user);
    expect(res.status).toBe(200);
    expect(res.headers.get("ETag")).toBeNull();
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    const page = await json<PatientPage>(res);
    expect(page).toEqual({ count: 2, next: null, previous: null, results: created });
    for (const p of page.results) expect(Object.keys(p).sort()).toEqual(PATIENT_KEYS);
  });

  it("defaults to limit 20 and offset 0", async () => {
    const user = await newUser();
    await directSql()`
      INSERT INTO patients (owner_id, name, date_of_birth, gender, created_at)
      SELECT ${user.id}::uuid, 'Bulk ' || lpad(g::text, 2, '0'), DATE '1980-01-01', 'male', now() + g * interval '1 second'
      FROM generate_series(1, 21) g`;
    const page = await json<PatientPage>(await api.list(user));
    expect(page.count).toBe(21);
    expect(page.results).toHaveLength(20);
    expect(page.results[0].name).toBe("Bulk 01");
    expect(page.results[19].name).toBe("Bulk 20");
    expect(page.next).toBe(`${ORIGIN}/api/patients/?limit=20&offset=20`);
    expect(page.previous).toBeNull();
    const last = await json<PatientPage>(await call(page.next ?? "", { headers: user.auth }));
    expect(last).toEqual({
      count: 21,
      next: null,
      previous: `${ORIGIN}/api/patients/?limit=20&offset=0`,
      results: [expect.objectContaining({ name: "Bulk 21" })],
    });
  });

  it("breaks created_at ties by id", async () => {
    const user = await newUser();
    const ids = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    const [later, ...tied] = ids;
    // Insert the tied pair in descending id order so insertion order cannot pass for the rule.
    const tiedDescending = [...tied].sort().reverse();
    await directSql()`INSERT INTO patients (id, owner_id, name, date_of_birth, gender, created_at)
      VALUES (${later}, ${user.id}, 'Later', '1980-01-01', 'male', '2020-01-02T00:00:00Z'),
             (${tiedDescending[0]}, ${user.id}, 'Tied', '1980-01-01', 'male', '2020-01-01T00:00:00Z'),
             (${tiedDescending[1]}, ${user.id}, 'Tied', '1980-01-01', 'male', '2020-01-01T00:00:00Z')`;
    const page = await json<PatientPage>(await api.list(user));
    expect(page.results.map((p) => p.id)).toEqual([...[...tied].sort(), later]);
    // And pages split the tie consistently.
    const first = await json<PatientPage>(await api.list(user, { limit: "1" }));
    const second = await json<PatientPage>(await api.list(user, { limit: "1", offset: "1" }));
    expect([first.results[0].id, second.results[0].id]).toEqual([...tied].sort());
  });

  it("pages with count as the total, and next/previous as absolute URLs that keep the search", async () => {
    const user = await newUser();
    await seed(user, [{ name: "Kiwi One" }, { name: "Mango" }, { name: "Kiwi Two" }, { name: "KIWI Three" }]);
    const params = (link: string | null) => {
      expect(link).not.toBeNull();
      const u = new URL(link ?? "");
      return { base: `${u.origin}${u.pathname}`, query: Object.fromEntries(u.searchParams) };
    };
    const first = await json<PatientPage>(await api.list(user, { search: "kiwi", limit: "2" }));
    expect(first.count).toBe(3);
    expect(names(first)).toEqual(["Kiwi One", "Kiwi Two"]);
    expect(first.previous).toBeNull();
    expect(params(first.next)).toEqual({ base: `${ORIGIN}/api/patients/`, query: { search: "kiwi", limit: "2", offset: "2" } });

    const second = await json<PatientPage>(await call(first.next ?? "", { headers: user.auth }));
    expect(second.count).toBe(3);
    expect(names(second)).toEqual(["KIWI Three"]);
    expect(second.next).toBeNull();
    expect(params(second.previous)).toEqual({ base: `${ORIGIN}/api/patients/`, query: { search: "kiwi", limit: "2", offset: "0" } });

    // An offset that is not a multiple of the limit still goes back to 0, not below.
    const shifted = await json<PatientPage>(await api.list(user, { search: "kiwi", limit: "2", offset: "1" }));
    expect(names(shifted)).toEqual(["Kiwi Two", "KIWI Three"]);
    expect(params(shifted.previous).query).toEqual({ search: "kiwi", limit: "2", offset: "0" });
    expect(shifted.next).toBeNull();

    const beyond = await json<PatientPage>(await api.list(user, { limit: "2", offset: "10" }));
    expect(beyond.count).toBe(4);
    expect(beyond.results).toEqual([]);
    expect(beyond.next).toBeNull();
  });

  it("accepts limit 1 and 100", async () => {
    const user = await newUser();
    await seed(user, [{ name: "A1" }, { name: "A2" }]);
    expect(names(await json<PatientPage>(await api.list(user, { limit: "1" })))).toEqual(["A1"]);
    expect(names(await json<PatientPage>(await api.list(user, { limit: "100" })))).toEqual(["A1", "A2"]);
  });

  it.each([
    ["limit", "0"],
    ["limit", "101"],
    ["limit", "-1"],
    ["limit", "abc"],
    ["limit", "1.5"],
    ["limit", ""],
    ["offset", "-1"],
    ["offset", "1.5"],
    ["offset", "x"],
    ["ordering", "owner_id"],
    ["ordering", "email"],
    ["ordering", "--name"],
    ["ordering", "name,created_at"],
    ["ordering", "NAME"],
    ["search", "a\u0000b"],
  ])("answers 400 naming %s for %j, and audits nothing", async (param, value) => {
    const user = await newUser();
    const requestId = newRequestId();
    await expectFieldErrors(await api.list(user, { [param]: value }, rid(requestId)), [param]);
    await expectAudit(requestId);
  });

  it("searches name, email and phone case-insensitively, and not other fields", async () => {
    const user = await newUser();
    await seed(user, [
      { name: "Zelda Quux" },
      { name: "Émile Ölund" },
      { name: "Mail Match", email: "Contact.Person@Example.ORG" },
      { name: "Phone Match", phone: "+44 (20) 7946-0958" },
      { name: "Address Only", address: "Zanzibar Road", medical_history: "zanzibar fever" },
    ]);
    const search = async (term: string) => names(await json<PatientPage>(await api.list(user, { search: term })));
    expect(await search("zELDA")).toEqual(["Zelda Quux"]);
    expect(await search("éMILE öL")).toEqual(["Émile Ölund"]);
    expect(await search("EXAMPLE.org")).toEqual(["Mail Match"]);
    expect(await search("7946-09")).toEqual(["Phone Match"]);
    expect(await search("(20)")).toEqual(["Phone Match"]);
    expect(await search("zanzibar")).toEqual([]);
    expect(await search("match")).toEqual(["Mail Match", "Phone Match"]);
    // A blank search is no search.
    expect(await search("   ")).toHaveLength(5);
  });

  it("matches %, _ and \\ literally", async () => {
    const user = await newUser();
    await seed(user, [{ name: "Per%cent" }, { name: "Under_score" }, { name: "Back\\slash" }, { name: "Plain Percent Underscore" }]);
    const search = async (term: string) => {
      const page = await json<PatientPage>(await api.list(user, { search: term }));
      expect(page.count).toBe(page.results.length);
      return names(page);
    };
    expect(await search("%")).toEqual(["Per%cent"]);
    expect(await search("_")).toEqual(["Under_score"]);
    expect(await search("\\")).toEqual(["Back\\slash"]);
    expect(await search("r%c")).toEqual(["Per%cent"]);
    expect(await search("ER_S")).toEqual(["Under_score"]);
    // As wildcards these would match; literally they match nothing.
    expect(await search("P%t")).toEqual([]);
    expect(await search("Und_r")).toEqual([]);
    expect(await search("\\s")).toEqual(["Back\\slash"]);
    expect(await search("\\%")).toEqual([]);
  });

  it("orders by name, date_of_birth, created_at and updated_at, ascending or descending", async () => {
    const user = await newUser();
    const [carl] = await seed(user, [
      { name: "Carl", date_of_birth: "1990-05-05" },
      { name: "Anna", date_of_birth: "2000-01-01" },
      { name: "Bert", date_of_birth: "1970-07-07" },
    ]);
    expect((await api.update(user, carl.id, { phone: "1234567" })).status).toBe(200);
    const order = async (ordering: string) => names(await json<PatientPage>(await api.list(user, { ordering })));
    expect(await order("name")).toEqual(["Anna", "Bert", "Carl"]);
    expect(await order("-name")).toEqual(["Carl", "Bert", "Anna"]);
    expect(await order("date_of_birth")).toEqual(["Bert", "Carl", "Anna"]);
    expect(await order("-date_of_birth")).toEqual(["Anna", "Carl", "Bert"]);
    expect(await order("created_at")).toEqual(["Carl", "Anna", "Bert"]);
    expect(await order("-created_at")).toEqual(["Bert", "Anna", "Carl"]);
    expect(await order("updated_at")).toEqual(["Anna", "Bert", "Carl"]);
    expect(await order("-updated_at")).toEqual(["Carl", "Bert", "Anna"]);
    // Ordering applies before paging.
    const page = await json<PatientPage>(await api.list(user, { ordering: "-name", limit: "1", offset: "1" }));
    expect(names(page)).toEqual(["Bert"]);
    expect(new URL(page.next ?? "").searchParams.get("ordering")).toBe("-name");
  });
});

describe("GET /api/patients/ by cursor", () => {
  /**
   * 13 patients inserted by one statement, so created_at and updated_at are
   * all equal; names and dates of birth repeat too: every ordering has ties,
   * which only the id breaks.
   */
  async function tiedPatients(user: TestUser) {
    await directSql()`
      INSERT INTO patients (owner_id, name, date_of_birth, gender, email)
      SELECT ${user.id}::uuid, (ARRAY['Ann', 'Bob', 'Ann', 'Cy', 'Bob'])[1 + g % 5], DATE '1980-01-01' + (g % 3), 'other',
             CASE WHEN g % 2 = 0 THEN 'even' || g || '@example.com' END
      FROM generate_series(1, 13) g`;
  }

  it.each(["name", "date_of_birth", "created_at", "updated_at"])(
    "follows next from cursor= over every row once, in order with ties, and previous back, for %s ascending and descending",
    async (field) => {
      const user = await newUser();
      await tiedPatients(user);
      for (const ordering of [field, `-${field}`]) {
        for (const limit of [1, 4, 13]) await expectCursorPaging<Patient>("/api/patients/", { ordering }, user.auth, limit);
      }
    },
  );

  it("keeps the search in its links and pages only the matches; without ordering, by created_at", async () => {
    const user = await newUser();
    await tiedPatients(user);
    const pages = await expectCursorPaging<Patient>("/api/patients/", { search: "EVEN" }, user.auth, 2);
    expect(pages[0].count).toBe(6);
    await expectCursorPaging<Patient>("/api/patients/", {}, user.auth, 5);
  });

  it("tells the microseconds of created_at apart, which the API shows only to the millisecond", async () => {
    const user = await newUser();
    await directSql()`
      INSERT INTO patients (owner_id, name, date_of_birth, gender, created_at)
      SELECT ${user.id}::uuid, 'Micro ' || g, DATE '1990-01-01', 'male', TIMESTAMPTZ '2021-06-01 10:00:00.123000+00' + g * interval '1 microsecond'
      FROM generate_series(1, 5) g`;
    const pages = await expectCursorPaging<Patient>("/api/patients/", { ordering: "-created_at" }, user.auth, 2);
    expect(pages.flatMap((p) => p.results.map((r) => r.name))).toEqual(["Micro 5", "Micro 4", "Micro 3", "Micro 2", "Micro 1"]);
    expect(new Set(pages.flatMap((p) => p.results.map((r) => r.created_at)))).toEqual(new Set(["2021-06-01T10:00:00.123Z"]));
  });

  it("answers the offset envelope, unchanged, without cursor; and an empty list by cursor", async () => {
    const user = await newUser();
    expect(await json<PatientPage>(await api.list(user, { cursor: "" }))).toEqual({ count: 0, next: null, previous: null, results: [] });
    await tiedPatients(user);
    const page = await json<PatientPage>(await api.list(user, { limit: "5" }));
    expect(page.next).toBe(`${ORIGIN}/api/patients/?limit=5&offset=5`);
  });

  it("pages from where the boundary row was, even after it is deleted or rows are added before it", async () => {
    const user = await newUser();
    const created: Patient[] = [];
    for (const name of ["P1", "P2", "P3", "P4", "P5"]) created.push((await createPatient(user, { name })).body as Patient);
    const first = await json<PatientPage>(await api.list(user, { ordering: "name", limit: "2", cursor: "" }));
    expect(first.results.map((p) => p.name)).toEqual(["P1", "P2"]);
    expect((await api.remove(user, created[1].id)).status).toBe(204);
    await createPatient(user, { name: "P0" });
    const second = await json<PatientPage>(await call(first.next ?? "", { headers: user.auth }));
    expect(second.results.map((p) => p.name)).toEqual(["P3", "P4"]);
    expect(second.count).toBe(5);
    const back = await json<PatientPage>(await call(second.previous ?? "", { headers: user.auth }));
    expect(back.results.map((p) => p.name)).toEqual(["P0", "P1"]);
    expect(back.previous).toBeNull();
  });

  it("after the last row: an empty page whose previous is the last page", async () => {
    const user = await newUser();
    for (const name of ["Q1", "Q2", "Q3"]) await createPatient(user, { name });
    const first = await json<PatientPage>(await api.list(user, { limit: "2", cursor: "" }));
    const last = await json<PatientPage>(await call(first.next ?? "", { headers: user.auth }));
    const q3 = last.results[0];
    // Q3 goes: the cursor after Q2 now finds nothing.
    expect((await api.remove(user, q3.id)).status).toBe(204);
    const empty = await json<PatientPage>(await call(first.next ?? "", { headers: user.auth }));
    expect(empty).toMatchObject({ count: 2, results: [], next: null });
    const lastPage = await json<PatientPage>(await call(empty.previous ?? "", { headers: user.auth }));
    expect(lastPage.results.map((p) => p.name)).toEqual(["Q1", "Q2"]);
    expect(lastPage).toMatchObject({ next: null, previous: null });
  });

  it("costs one round trip per page, and none for a refused cursor", async () => {
    const user = await newUser();
    await tiedPatients(user);
    const first = await json<PatientPage>(await api.list(user, { limit: "4", cursor: "" }));
    expect(await countRoundTrips((request) => request(first.next ?? "", { headers: user.auth }))).toBe(1);
    expect(await countRoundTrips((request) => request(`${first.next}&offset=0`, { headers: user.auth }))).toBe(0);
  });

  describe("refuses, with 400 naming the parameter, before the database and unaudited", () => {
    async function expectRefused(user: TestUser, query: Record<string, string>, param: string) {
      const requestId = newRequestId();
      const body = await expectFieldErrors(await api.list(user, query, rid(requestId)), [param]);
      await expectAudit(requestId);
      return body;
    }
    const cursorFor = async (user: TestUser, query: Record<string, string>) =>
      cursorOf((await json<PatientPage>(await api.list(user, { ...query, limit: "1", cursor: "" }))).next);

    it("cursor with offset, even offset=0 or a valid cursor", async () => {
      const user = await newUser();
      await tiedPatients(user);
      const cursor = await cursorFor(user, {});
      for (const query of [
        { cursor: "", offset: "0" },
        { cursor, offset: "3" },
        { offset: "0", cursor },
      ]) {
        const body = await expectRefused(user, query, "offset");
        expect(body.errors?.offset).toEqual(["offset cannot be combined with cursor: follow the cursor links, or page by offset alone."]);
      }
      // Every problem at once: a bad limit beside the mix.
      await expectFieldErrors(await api.list(user, { cursor: "", offset: "0", limit: "0" }), ["limit", "offset"]);
    });

    it("a malformed cursor, or one whose value could not be the ordering's", async () => {
      const user = await newUser();
      await tiedPatients(user);
      const real = await cursorFor(user, { ordering: "-date_of_birth" });
      const json = cursorJson(real);
      const forged = [
        "x",
        " ",
        "%%%",
        "eyJ2IjoxfQ",
        makeCursor("just a string"),
        makeCursor({ ...json, v: 2 }),
        makeCursor({ ...json, d: "sideways" }),
        makeCursor({ ...json, i: "not-a-uuid" }),
        makeCursor({ ...json, extra: 1 }),
        makeCursor({ ...json, k: undefined }),
        makeCursor({ ...json, k: "1980-02-30" }),
        makeCursor({ ...json, k: "yesterday" }),
        makeCursor({ ...json, k: null }),
        makeCursor({ ...json, k: "a\u0000b" }),
        `${real}!`,
        "A".repeat(3000),
      ];
      for (const cursor of forged) {
        const body = await expectRefused(user, { ordering: "-date_of_birth", cursor }, "cursor");
        expect(body.errors?.cursor).toEqual(["cursor is not a cursor this list gave out."]);
      }
      // The same value in a well-formed date is simply a place in the list.
      expect((await api.list(user, { ordering: "-date_of_birth", cursor: makeCursor({ ...json, k: "1980-02-29" }) })).status).toBe(200);
    });

    it("a cursor made for another list, ordering, direction of it, or search", async () => {
      const user = await newUser();
      await tiedPatients(user);
      const cursor = await cursorFor(user, { ordering: "name", search: "Ann" });
      for (const name of ["Dr One", "Dr Two"]) await createDoctor(user, { name });
      const doctors = cursorOf(((await (await call("/api/doctors/?limit=1&cursor=", { headers: user.auth })).json()) as PatientPage).next);
      const queries: Record<string, string>[] = [
        { ordering: "-name", search: "Ann", cursor },
        { ordering: "date_of_birth", search: "Ann", cursor },
        { search: "Ann", cursor },
        { ordering: "name", cursor },
        { ordering: "name", search: "Bob", cursor },
        { cursor: doctors },
      ];
      for (const query of queries) {
        const body = await expectRefused(user, query, "cursor");
        expect(body.errors?.cursor).toEqual(["cursor was made for another list, ordering or filter."]);
      }
      // Another user's cursor of the same list is a place in their own list (the statement is scoped to the caller).
      const other = await newUser();
      expect((await api.list(other, { ordering: "name", search: "Ann", cursor })).status).toBe(200);
      expect((await api.list(user, { ordering: "name", search: "Ann", limit: "7", cursor })).status).toBe(200);
    });
  });
});

describe("authentication", () => {
  const routes: [string, string, unknown][] = [
    ["GET", "/api/patients/", undefined],
    ["POST", "/api/patients/", VALID_PATIENT],
    ["GET", `/api/patients/${crypto.randomUUID()}/`, undefined],
    ["PUT", `/api/patients/${crypto.randomUUID()}/`, VALID_PATIENT],
    ["PATCH", `/api/patients/${crypto.randomUUID()}/`, { name: "X" }],
    ["DELETE", `/api/patients/${crypto.randomUUID()}/`, undefined],
    ["GET", "/api/patients/not-a-uuid/", undefined],
  ];

  it.each(routes)(
    "%s %s answers 401 with WWW-Authenticate: Bearer without a valid token, and audits nothing",
    async (method, path, body) => {
      for (const authorization of [undefined, "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"]) {
        const requestId = newRequestId();
        const headers: Headers = { ...rid(requestId), ...(authorization ? { Authorization: authorization } : {}) };
        const res = await call(path, body === undefined ? { method, headers } : jsonRequest(method, body, headers));
        await expectProblem(res, 401);
        expect(res.headers.get("WWW-Authenticate")).toBe("Bearer");
        await expectAudit(requestId);
      }
    },
  );

  it("checks the token before the media type and the body", async () => {
    await expectProblem(await call("/api/patients/", { method: "POST", body: "not json" }), 401);
    await expectProblem(await call("/api/patients/", jsonRequest("POST", "{broken")), 401);
  });
});

describe("audit trail", () => {
  it("writes one row per request that reached the database, with its action and outcome", async () => {
    const user = await newUser();
    const ids: Record<string, string> = {};
    const next = (name: string) => {
      ids[name] = newRequestId();
      return rid(ids[name]);
    };

    const created = await json(await api.create(user, FULL_PATIENT, next("create")));
    await expectAudit(ids.create, { actor: user, action: "create", resource: created.id, outcome: "success" });

    const read = await api.read(user, created.id, next("read"));
    await expectAudit(ids.read, { actor: user, action: "read", resource: created.id, outcome: "success" });

    await api.read(user, created.id, { "If-None-Match": read.headers.get("ETag") ?? "", ...next("read304") });
    await expectAudit(ids.read304, { actor: user, action: "read", resource: created.id, outcome: "success" });

    expect((await api.list(user, { search: "ada" }, next("list"))).status).toBe(200);
    await expectAudit(ids.list, { actor: user, action: "list", resource: null, outcome: "success" });

    expect((await api.replace(user, created.id, VALID_PATIENT, next("put"))).status).toBe(200);
    await expectAudit(ids.put, { actor: user, action: "update", resource: created.id, outcome: "success" });

    expect((await api.update(user, created.id, { phone: null }, next("patch"))).status).toBe(200);
    await expectAudit(ids.patch, { actor: user, action: "update", resource: created.id, outcome: "success" });

    expect((await api.remove(user, created.id, next("delete"))).status).toBe(204);
    await expectAudit(ids.delete, { actor: user, action: "delete", resource: created.id, outcome: "success" });

    // The same requests on an id that is not there (any more) did nothing: not_found, never success.
    for (const [action, attempt] of [
      ["read", (h: Headers) => api.read(user, created.id, h)],
      ["update", (h: Headers) => api.replace(user, created.id, VALID_PATIENT, h)],
      ["update", (h: Headers) => api.update(user, created.id, { name: "X" }, h)],
      ["delete", (h: Headers) => api.remove(user, created.id, h)],
    ] as const) {
      const requestId = newRequestId();
      expect((await attempt(rid(requestId))).status).toBe(404);
      await expectAudit(requestId, { actor: user, action, resource: created.id, outcome: "not_found" });
    }
  });

  it("writes nothing for requests refused before the database", async () => {
    const user = await newUser();
    const { body: patient } = await createPatient(user);
    const refused: [number, (h: Headers) => Promise<Response>][] = [
      [401, (h) => call(url(patient.id), { headers: h })],
      [400, (h) => api.update(user, patient.id, { gender: "x" }, h)],
      [400, (h) => api.list(user, { limit: "0" }, h)],
      [404, (h) => api.read(user, "nope", h)],
      [415, (h) => call(url(patient.id), { method: "PATCH", headers: { ...user.auth, ...h }, body: "{}" })],
      [413, (h) => api.update(user, patient.id, { medical_history: "m".repeat(70_000) }, h)],
    ];
    for (const [status, attempt] of refused) {
      const requestId = newRequestId();
      expect((await attempt(rid(requestId))).status).toBe(status);
      await expectAudit(requestId);
    }
  });

  it("holds ids only, no personal data", async () => {
    const user = await newUser();
    const requestId = newRequestId();
    const created = await json(await api.create(user, FULL_PATIENT, rid(requestId)));
    const rows = await directSql()`SELECT * FROM audit_events WHERE client_request_id = ${requestId}`;
    expect(rows).toHaveLength(1);
    const text = JSON.stringify(rows);
    for (const value of [
      FULL_PATIENT.name,
      "Ada",
      FULL_PATIENT.email,
      FULL_PATIENT.phone,
      FULL_PATIENT.date_of_birth,
      FULL_PATIENT.address,
      "Asthma",
      user.email,
    ]) {
      expect(text).not.toContain(value);
    }
    expect(rows[0].resource_id).toBe(created.id);
  });
});

describe("round trips", () => {
  it("is exactly one per request for list, create, read, put, patch and delete", async () => {
    const user = await newUser();
    const { body: patient } = await createPatient(user);
    const as = (init: RequestInit = {}): RequestInit => ({ ...init, headers: { ...user.auth, ...(init.headers as Headers | undefined) } });
    const statuses: number[] = [];
    const count = (path: string, init: RequestInit) =>
      countRoundTrips(async (request) => {
        statuses.push((await request(path, init)).status);
      });
    const counts = {
      list: await count("/api/patients/?search=pat&ordering=-name", as()),
      create: await count("/api/patients/", jsonRequest("POST", VALID_PATIENT, user.auth)),
      read: await count(url(patient.id), as()),
      put: await count(url(patient.id), jsonRequest("PUT", VALID_PATIENT, user.auth)),
      patch: await count(url(patient.id), jsonRequest("PATCH", { phone: null }, user.auth)),
      delete: await count(url(patient.id), as({ method: "DELETE" })),
    };
    expect(statuses).toEqual([200, 201, 200, 200, 200, 204]);
    expect(counts).toEqual({ list: 1, create: 1, read: 1, put: 1, patch: 1, delete: 1 });
  });
});

describe("trimming", () => {
  it("trims the date of birth like any other string", async () => {
    const user = await newUser();
    const res = await call("/api/patients/", jsonRequest("POST", { ...VALID_PATIENT, date_of_birth: " 1990-01-02 " }, user.auth));
    expect(res.status).toBe(201);
    expect(((await res.json()) as { date_of_birth: string }).date_of_birth).toBe("1990-01-02");
  });
});
