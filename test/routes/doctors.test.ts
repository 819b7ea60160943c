/**
 * docs/BEHAVIOUR.md (doctors), with its list, conditional-request and
 * check-order rules and its administrator rights, through the Worker's
 * entrypoint on the real database. Other files create doctors concurrently
 * in the same database, so list tests find their own doctors by a token.
 */
import { describe, expect, it } from "vitest";
import {
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
  makeAdmin,
  newRequestId,
  newUser,
  ORIGIN,
  type Page,
  STRONG_ETAG,
  type TestUser,
  UUID_PATTERN,
  VALID_DOCTOR,
} from "../helpers";

interface Doctor {
  id: string;
  name: string;
  specialization: string;
  email: string | null;
  phone: string | null;
  license_number: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}
type DoctorPage = Page<Doctor>;

const STALE = '"999999"';

/** A token unique to one test: lower-case letters and digits. */
const token = () => `t${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
/** A fresh license number in mixed case, so case-insensitive comparison is exercised. */
const newLicense = () => `Lic-${crypto.randomUUID().slice(0, 13)}`;

const doctorPath = (id: string) => `/api/doctors/${id}/`;
type HeaderMap = Record<string, string>;
const post = (user: TestUser, body: unknown, headers: HeaderMap = {}) =>
  call("/api/doctors/", jsonRequest("POST", body, { ...user.auth, ...headers }));
const read = (user: TestUser, id: string, headers: HeaderMap = {}) => call(doctorPath(id), { headers: { ...user.auth, ...headers } });
const put = (user: TestUser, id: string, body: unknown, headers: HeaderMap = {}) =>
  call(doctorPath(id), jsonRequest("PUT", body, { ...user.auth, ...headers }));
const patch = (user: TestUser, id: string, body: unknown, headers: HeaderMap = {}) =>
  call(doctorPath(id), jsonRequest("PATCH", body, { ...user.auth, ...headers }));
const remove = (user: TestUser, id: string, headers: HeaderMap = {}) =>
  call(doctorPath(id), { method: "DELETE", headers: { ...user.auth, ...headers } });
const list = (user: TestUser, query: Record<string, string>) => call(`/api/doctors/?${new URLSearchParams(query)}`, { headers: user.auth });

async function okJson<T>(res: Response, status = 200): Promise<T> {
  expect(res.status, await res.clone().text()).toBe(status);
  return (await res.json()) as T;
}
const listBody = async (user: TestUser, query: Record<string, string>) => okJson<DoctorPage>(await list(user, query));
const namesOf = (page: DoctorPage) => page.results.map((d) => d.name);
const idsOf = (page: DoctorPage) => page.results.map((d) => d.id);

/** [field, body] cases with a short label each, so long strings do not flood the test names. */
const bodyCases = (cases: [string, object][]) =>
  cases.map(([field, body]): [string, string, object] => [
    field,
    JSON.stringify(body, (_, v) => (typeof v === "string" && v.length > 20 ? `${[...v][0]}×${[...v].length}` : v)),
    body,
  ]);

async function expectFieldError(res: Response, field: string) {
  const body = await expectProblem(res, 400);
  expect(Object.keys(body.errors ?? {})).toContain(field);
  return body;
}

/** The doctor's row straight from the database (undefined once deleted), to prove what did or did not change. */
async function stored(id: string) {
  const rows = await directSql()`
    SELECT name, specialization, email, phone, license_number, created_by, version, updated_at FROM doctors WHERE id = ${id}`;
  return rows[0];
}

/** The query parameters of a `next`/`previous` link, after checking it is absolute and points at the list. */
function linkParams(link: string | null) {
  expect(link).not.toBeNull();
  const url = new URL(String(link));
  expect(`${url.origin}${url.pathname}`).toBe(`${ORIGIN}/api/doctors/`);
  return Object.fromEntries(url.searchParams);
}

/** A doctor assigned to a patient of `patientOwner`; returns the doctor, patient and mapping ids. */
async function assignedDoctor(creator: TestUser, patientOwner: TestUser, overrides: object = {}) {
  const { body: doctor, etag } = await createDoctor(creator, overrides);
  const { body: patient } = await createPatient(patientOwner, { name: `Patient ${token()}` });
  const { body: mapping } = await createMapping(patientOwner, patient.id, doctor.id);
  return { doctor, etag, patient, mapping };
}

describe("POST /api/doctors/", () => {
  it("creates a doctor with every field: 201, exact body, absolute Location and a strong ETag", async () => {
    const user = await newUser();
    const license = newLicense();
    const res = await post(user, {
      name: "  Dr Grace Hopper  ",
      specialization: " Cardiology ",
      email: "  Grace.Hopper@Example.COM ",
      phone: " +1 (555) 010-0000 ",
      license_number: `  ${license}  `,
    });
    const body = await okJson<Doctor>(res, 201);
    expect(body).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      name: "Dr Grace Hopper",
      specialization: "Cardiology",
      email: "grace.hopper@example.com",
      phone: "+1 (555) 010-0000",
      license_number: license,
      created_by: user.id,
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      updated_at: body.created_at,
    });
    expect(res.headers.get("Location")).toBe(`${ORIGIN}/api/doctors/${body.id}/`);
    expect(res.headers.get("ETag")).toMatch(STRONG_ETAG);
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("returns absent optional fields as null", async () => {
    const user = await newUser();
    const body = await okJson<Doctor>(await post(user, VALID_DOCTOR), 201);
    expect(body).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      name: "Dr Example",
      specialization: "Cardiology",
      email: null,
      phone: null,
      license_number: null,
      created_by: user.id,
      created_at: expect.stringMatching(ISO_TIMESTAMP),
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
    });
  });

  it("stores optional fields sent empty, blank or null as null", async () => {
    const user = await newUser();
    const body = await okJson<Doctor>(await post(user, { ...VALID_DOCTOR, email: "", phone: "   ", license_number: "  " }), 201);
    expect(body).toMatchObject({ email: null, phone: null, license_number: null });
    const nulls = await okJson<Doctor>(await post(user, { ...VALID_DOCTOR, email: null, phone: null, license_number: null }), 201);
    expect(nulls).toMatchObject({ email: null, phone: null, license_number: null });
    expect(await stored(body.id)).toMatchObject({ email: null, phone: null, license_number: null });
  });

  it("accepts values at the length limits, counted in code points", async () => {
    const user = await newUser();
    const license = `${token()}${"L".repeat(50)}`.slice(0, 50);
    const body = {
      name: "😀".repeat(200),
      specialization: "s".repeat(100),
      phone: "1".repeat(32),
      license_number: license,
    };
    expect(await okJson<Doctor>(await post(user, body), 201)).toMatchObject(body);
    expect(await okJson<Doctor>(await post(user, { ...VALID_DOCTOR, phone: "1234567" }), 201)).toMatchObject({ phone: "1234567" });
  });

  it.each(
    bodyCases([
      ["name", { name: "" }],
      ["name", { name: "   " }],
      ["name", { name: "x".repeat(201) }],
      ["name", { name: "😀".repeat(201) }],
      ["name", { name: null }],
      ["name", { name: undefined }],
      ["name", { name: 42 }],
      ["name", { name: "nul\u0000byte" }],
      ["specialization", { specialization: "" }],
      ["specialization", { specialization: "x".repeat(101) }],
      ["specialization", { specialization: undefined }],
      ["specialization", { specialization: ["Cardiology"] }],
      ["email", { email: "not-an-email" }],
      ["email", { email: "a@" }],
      ["email", { email: 5 }],
      ["phone", { phone: "123456" }],
      ["phone", { phone: "1".repeat(33) }],
      ["phone", { phone: "555-CALL-NOW" }],
      ["phone", { phone: "+1 555 0100#2" }],
      ["phone", { phone: 5550100 }],
      ["license_number", { license_number: "x".repeat(51) }],
      ["license_number", { license_number: 12345 }],
      ["nickname", { nickname: "Doc" }],
      ["version", { version: 7 }],
      ["id", { id: crypto.randomUUID() }],
      ["created_by", { created_by: crypto.randomUUID() }],
      ["created_at", { created_at: "2026-01-01T00:00:00.000Z" }],
      ["updated_at", { updated_at: "2026-01-01T00:00:00.000Z" }],
    ]),
  )("answers 400 naming %s for %s", async (field, _, change) => {
    const user = await newUser();
    await expectFieldError(await post(user, { ...VALID_DOCTOR, ...change }), field);
  });

  it("creates nothing when a read-only field is sent, even with an otherwise valid body", async () => {
    const user = await newUser();
    const other = await newUser();
    const name = `Dr ${token()}`;
    const body = await expectProblem(await post(user, { ...VALID_DOCTOR, name, created_by: other.id }), 400);
    expect(Object.keys(body.errors ?? {})).toEqual(["created_by"]);
    expect(await directSql()`SELECT id FROM doctors WHERE name = ${name}`).toEqual([]);
  });

  it("answers 415 without a JSON content type and 400 for malformed JSON", async () => {
    const user = await newUser();
    await expectProblem(await call("/api/doctors/", { method: "POST", headers: user.auth, body: JSON.stringify(VALID_DOCTOR) }), 415);
    await expectProblem(await post(user, "{not json"), 400);
  });
});

describe("license numbers", () => {
  it("are unique case-insensitively and after trimming: 409, and the second doctor is not created", async () => {
    const [first, second] = [await newUser(), await newUser()];
    const license = newLicense();
    await createDoctor(first, { license_number: license });
    const name = `Dr ${token()}`;
    const upper = await expectProblem(await post(second, { ...VALID_DOCTOR, name, license_number: license.toUpperCase() }), 409);
    expect(upper.detail).not.toContain(first.id);
    await expectProblem(await post(second, { ...VALID_DOCTOR, name, license_number: `  ${license.toLowerCase()}  ` }), 409);
    expect(await directSql()`SELECT count(*)::int AS n FROM doctors WHERE lower(license_number) = lower(${license})`).toEqual([{ n: 1 }]);
    expect(await directSql()`SELECT id FROM doctors WHERE name = ${name}`).toEqual([]);
  });

  it("may be absent on any number of doctors", async () => {
    const user = await newUser();
    const a = await okJson<Doctor>(await post(user, VALID_DOCTOR), 201);
    const b = await okJson<Doctor>(await post(user, { ...VALID_DOCTOR, license_number: "" }), 201);
    const c = await okJson<Doctor>(await post(user, { ...VALID_DOCTOR, license_number: null }), 201);
    expect([a.license_number, b.license_number, c.license_number]).toEqual([null, null, null]);
    // Clearing a license on a doctor is fine too, whoever else has none.
    const { body: d } = await createDoctor(user, { license_number: newLicense() });
    expect(await okJson<Doctor>(await patch(user, d.id, { license_number: null }))).toMatchObject({ license_number: null });
  });

  it("refuse a PATCH or PUT to a number another doctor has with 409, changing nothing", async () => {
    const user = await newUser();
    const taken = newLicense();
    await createDoctor(user, { license_number: taken });
    const { body: doctor } = await createDoctor(user, { license_number: newLicense() });
    const before = await stored(doctor.id);
    await expectProblem(await patch(user, doctor.id, { name: "Renamed", license_number: taken.toLowerCase() }), 409);
    await expectProblem(await put(user, doctor.id, { ...VALID_DOCTOR, name: "Renamed", license_number: ` ${taken.toUpperCase()} ` }), 409);
    expect(await stored(doctor.id)).toEqual(before);
  });

  it("let a doctor keep its own number, in another case", async () => {
    const user = await newUser();
    const license = newLicense();
    const { body: doctor } = await createDoctor(user, { license_number: license });
    const updated = await okJson<Doctor>(await patch(user, doctor.id, { license_number: license.toUpperCase() }));
    expect(updated.license_number).toBe(license.toUpperCase());
    expect(await okJson<Doctor>(await put(user, doctor.id, { ...VALID_DOCTOR, license_number: license }))).toMatchObject({
      license_number: license,
    });
  });

  it("give exactly one 201 when six requests race for the same new number", async () => {
    const user = await newUser();
    const license = newLicense();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post(user, { ...VALID_DOCTOR, name: `Racer ${i}`, license_number: license })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const res of results.filter((r) => r.status === 409)) await expectProblem(res, 409);
    expect(await directSql()`SELECT count(*)::int AS n FROM doctors WHERE lower(license_number) = lower(${license})`).toEqual([{ n: 1 }]);
  });

  it("give exactly one 200 when PATCHes of different doctors race for the same new number", async () => {
    const user = await newUser();
    const doctors = await Promise.all(Array.from({ length: 4 }, () => createDoctor(user)));
    const license = newLicense();
    const results = await Promise.all(doctors.map(({ body }) => patch(user, body.id, { license_number: license })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
    expect(await directSql()`SELECT count(*)::int AS n FROM doctors WHERE lower(license_number) = lower(${license})`).toEqual([{ n: 1 }]);
  });
});

describe("GET /api/doctors/{id}/", () => {
  it("answers the doctor with its ETag to any authenticated user", async () => {
    const [creator, reader] = [await newUser(), await newUser()];
    const { body: doctor, etag } = await createDoctor(creator, { email: "dr@example.com" });
    for (const user of [creator, reader]) {
      const res = await read(user, doctor.id);
      expect(await okJson<Doctor>(res)).toEqual(doctor);
      expect(res.headers.get("ETag")).toBe(etag);
    }
  });

  it("answers 304 with the ETag and no body for If-None-Match with the current tag, 200 for another", async () => {
    const user = await newUser();
    const { body: doctor, etag } = await createDoctor(user);
    const hit = await read(user, doctor.id, { "If-None-Match": etag });
    expect(hit.status).toBe(304);
    expect(hit.headers.get("ETag")).toBe(etag);
    expect(await hit.text()).toBe("");
    // If-None-Match compares weakly (RFC 9110 §13.1.2).
    expect((await read(user, doctor.id, { "If-None-Match": `W/${etag}` })).status).toBe(304);
    expect((await read(user, doctor.id, { "If-None-Match": STALE })).status).toBe(200);
  });

  it("answers 404 for an unknown id and for an id that is not a UUID_PATTERN", async () => {
    const user = await newUser();
    await expectProblem(await read(user, crypto.randomUUID()), 404);
    await expectProblem(await read(user, "not-a-uuid"), 404);
    await expectProblem(await read(user, "123"), 404);
  });

  it("answers with and without the trailing slash", async () => {
    const user = await newUser();
    const { body: doctor } = await createDoctor(user);
    const res = await call(`/api/doctors/${doctor.id}`, { headers: user.auth });
    expect(await okJson<Doctor>(res)).toEqual(doctor);
  });
});

describe("PUT /api/doctors/{id}/", () => {
  it("replaces the doctor: omitted optional fields become null, a new ETag is returned", async () => {
    const user = await newUser();
    const { body: doctor, etag } = await createDoctor(user, { email: "a@example.com", phone: "5550100", license_number: newLicense() });
    const res = await put(user, doctor.id, { name: " Dr New ", specialization: "Neurology" });
    const body = await okJson<Doctor>(res);
    expect(body).toEqual({
      ...doctor,
      name: "Dr New",
      specialization: "Neurology",
      email: null,
      phone: null,
      license_number: null,
      updated_at: expect.stringMatching(ISO_TIMESTAMP),
    });
    expect(body.updated_at >= String(doctor.created_at)).toBe(true);
    expect(res.headers.get("ETag")).toMatch(STRONG_ETAG);
    expect(res.headers.get("ETag")).not.toBe(etag);
    expect(await okJson<Doctor>(await read(user, doctor.id))).toEqual(body);
  });

  it.each(
    bodyCases([
      ["name", { specialization: "Neurology" }],
      ["specialization", { name: "Dr New" }],
      ["phone", { ...VALID_DOCTOR, phone: "12" }],
      ["created_by", { ...VALID_DOCTOR, created_by: crypto.randomUUID() }],
      ["id", { ...VALID_DOCTOR, id: crypto.randomUUID() }],
    ]),
  )("answers 400 naming %s for %s and changes nothing", async (field, _, body) => {
    const user = await newUser();
    const { body: doctor } = await createDoctor(user);
    const before = await stored(doctor.id);
    await expectFieldError(await put(user, doctor.id, body), field);
    expect(await stored(doctor.id)).toEqual(before);
  });

  it("answers 404 for an unknown id and for an id that is not a UUID_PATTERN", async () => {
    const user = await newUser();
    await expectProblem(await put(user, crypto.randomUUID(), VALID_DOCTOR), 404);
    await expectProblem(await put(user, "nope", VALID_DOCTOR), 404);
  });
});

describe("PATCH /api/doctors/{id}/", () => {
  it("changes only the fields sent; null or empty clears an optional field", async () => {
    const user = await newUser();
    const license = newLicense();
    const { body: doctor } = await createDoctor(user, { email: "a@example.com", phone: "5550100", license_number: license });
    const phoned = await okJson<Doctor>(await patch(user, doctor.id, { phone: " +44 20 7946 0000 " }));
    expect(phoned).toEqual({ ...doctor, phone: "+44 20 7946 0000", updated_at: expect.stringMatching(ISO_TIMESTAMP) });
    const cleared = await okJson<Doctor>(await patch(user, doctor.id, { email: null, phone: "" }));
    expect(cleared).toEqual({ ...doctor, email: null, phone: null, updated_at: expect.stringMatching(ISO_TIMESTAMP) });
    expect(await stored(doctor.id)).toMatchObject({ email: null, phone: null, license_number: license, created_by: user.id });
  });

  it.each(
    bodyCases([
      ["name", { name: "" }],
      ["name", { name: null }],
      ["specialization", { specialization: "x".repeat(101) }],
      ["email", { email: "nope" }],
      ["license_number", { license_number: "x".repeat(51) }],
      ["created_by", { created_by: crypto.randomUUID() }],
      ["updated_at", { updated_at: "2030-01-01T00:00:00.000Z" }],
      ["specialty", { specialty: "Typo" }],
    ]),
  )("answers 400 naming %s for %s and changes nothing", async (field, _, body) => {
    const user = await newUser();
    const { body: doctor } = await createDoctor(user);
    const before = await stored(doctor.id);
    await expectFieldError(await patch(user, doctor.id, body), field);
    expect(await stored(doctor.id)).toEqual(before);
  });

  it("answers 404 for an unknown id and for an id that is not a UUID_PATTERN", async () => {
    const user = await newUser();
    await expectProblem(await patch(user, crypto.randomUUID(), { name: "X" }), 404);
    await expectProblem(await patch(user, "12345", { name: "X" }), 404);
  });
});

describe("DELETE /api/doctors/{id}/", () => {
  it("answers 204 and the doctor is gone", async () => {
    const user = await newUser();
    const { body: doctor } = await createDoctor(user);
    const res = await remove(user, doctor.id);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(await stored(doctor.id)).toBeUndefined();
    await expectProblem(await read(user, doctor.id), 404);
    await expectProblem(await remove(user, doctor.id), 404);
  });

  it("answers 409 while any patient is assigned, naming no patient and no count, and deletes nothing", async () => {
    const [creator, owner] = [await newUser(), await newUser()];
    const { doctor, patient, mapping } = await assignedDoctor(creator, owner);
    const { body: secondPatient } = await createPatient(owner, { name: `Patient ${token()}` });
    const { body: secondMapping } = await createMapping(owner, secondPatient.id, doctor.id);

    const problem = await expectProblem(await remove(creator, doctor.id), 409);
    const text = JSON.stringify(problem);
    for (const secret of [patient.id, patient.name, secondPatient.id, secondPatient.name, owner.id] as string[]) {
      expect(text).not.toContain(secret);
    }
    expect(problem.detail).not.toMatch(/\d|\b(one|two)\b/i);
    expect(await stored(doctor.id)).toBeDefined();

    // Once the assignments are gone, the delete works.
    for (const m of [mapping, secondMapping]) {
      expect((await call(`/api/mappings/${m.id}/`, { method: "DELETE", headers: owner.auth })).status).toBe(204);
    }
    expect((await remove(creator, doctor.id)).status).toBe(204);
    expect(await stored(doctor.id)).toBeUndefined();
  });

  it("racing new assignments never gives a 500, and the outcome is consistent", async () => {
    const [creator, owner] = [await newUser(), await newUser()];
    const { body: doctor } = await createDoctor(creator);
    const patients = await Promise.all(Array.from({ length: 3 }, () => createPatient(owner)));
    const [deleted, ...assigned] = await Promise.all([
      remove(creator, doctor.id),
      ...patients.map(({ body }) => call("/api/mappings/", jsonRequest("POST", { patient_id: body.id, doctor_id: doctor.id }, owner.auth))),
    ]);
    const statuses = assigned.map((r) => r.status);
    const [{ n: rows }] = await directSql()`SELECT count(*)::int AS n FROM patient_doctor_mappings WHERE doctor_id = ${doctor.id}`;
    if (deleted.status === 204) {
      // The delete won: every assignment was refused as naming no doctor.
      expect(statuses).toEqual([400, 400, 400]);
      expect([rows, await stored(doctor.id)]).toEqual([0, undefined]);
    } else {
      await expectProblem(deleted, 409);
      expect(statuses.every((s) => s === 201 || s === 400)).toBe(true);
      expect(rows).toBe(statuses.filter((s) => s === 201).length);
      expect(rows).toBeGreaterThan(0);
      expect(await stored(doctor.id)).toBeDefined();
    }
  });

  it("answers 404 for an unknown id and for an id that is not a UUID_PATTERN", async () => {
    const user = await newUser();
    await expectProblem(await remove(user, crypto.randomUUID()), 404);
    await expectProblem(await remove(user, "not-a-uuid"), 404);
  });
});

describe("who may change a doctor", () => {
  it("every authenticated user reads and lists another user's doctor", async () => {
    const [creator, reader] = [await newUser(), await newUser()];
    const tok = token();
    const { body: doctor } = await createDoctor(creator, { name: `Dr ${tok}` });
    expect(await okJson<Doctor>(await read(reader, doctor.id))).toEqual(doctor);
    const page = await listBody(reader, { search: tok });
    expect(page.count).toBe(1);
    expect(page.results).toEqual([doctor]);
  });

  it("another user gets 403 for PUT, PATCH and DELETE, and nothing changes", async () => {
    const [creator, other] = [await newUser(), await newUser()];
    const { body: doctor } = await createDoctor(creator, { license_number: newLicense() });
    const before = await stored(doctor.id);
    await expectProblem(await put(other, doctor.id, { ...VALID_DOCTOR, name: "Hijacked" }), 403);
    await expectProblem(await patch(other, doctor.id, { name: "Hijacked" }), 403);
    await expectProblem(await remove(other, doctor.id), 403);
    expect(await stored(doctor.id)).toEqual(before);
  });

  it("another user gets 403 whatever the doctor's state: assigned, stale If-Match, a taken license", async () => {
    const [creator, other] = [await newUser(), await newUser()];
    const taken = newLicense();
    await createDoctor(creator, { license_number: taken });
    // Assigned to the other user's own patient: still not theirs to delete.
    const { doctor } = await assignedDoctor(creator, other);
    const before = await stored(doctor.id);
    await expectProblem(await remove(other, doctor.id), 403);
    await expectProblem(await remove(other, doctor.id, { "If-Match": STALE }), 403);
    await expectProblem(await put(other, doctor.id, VALID_DOCTOR, { "If-Match": STALE }), 403);
    await expectProblem(await patch(other, doctor.id, { name: "X" }, { "If-Match": STALE }), 403);
    await expectProblem(await patch(other, doctor.id, { license_number: taken }), 403);
    await expectProblem(await put(other, doctor.id, { ...VALID_DOCTOR, license_number: taken }, { "If-Match": STALE }), 403);
    expect(await stored(doctor.id)).toEqual(before);
  });

  it("an administrator may PUT, PATCH and DELETE anyone's doctor; created_by stays the creator", async () => {
    const [creator, admin] = [await newUser(), await newUser()];
    await makeAdmin(admin);
    const { body: doctor, etag } = await createDoctor(creator);
    const replaced = await okJson<Doctor>(
      await put(admin, doctor.id, { name: "Dr Admin", specialization: "Oncology" }, { "If-Match": etag }),
    );
    expect(replaced).toMatchObject({ id: doctor.id, name: "Dr Admin", specialization: "Oncology", created_by: creator.id });
    const patched = await okJson<Doctor>(await patch(admin, doctor.id, { phone: "5550199" }));
    expect(patched).toMatchObject({ name: "Dr Admin", phone: "5550199", created_by: creator.id });
    expect((await remove(admin, doctor.id)).status).toBe(204);
    expect(await stored(doctor.id)).toBeUndefined();
  });

  it("an administrator still gets 409 for an assigned doctor and 412 for a stale tag", async () => {
    const [creator, owner, admin] = [await newUser(), await newUser(), await newUser()];
    await makeAdmin(admin);
    const { doctor } = await assignedDoctor(creator, owner);
    await expectProblem(await remove(admin, doctor.id), 409);
    await expectProblem(await patch(admin, doctor.id, { name: "X" }, { "If-Match": STALE }), 412);
    expect(await stored(doctor.id)).toMatchObject({ name: doctor.name, version: 1 });
  });
});

describe("If-Match", () => {
  it("a stale tag → 412 and nothing changes, for PUT, PATCH and DELETE", async () => {
    const user = await newUser();
    const { body: doctor, etag } = await createDoctor(user);
    await okJson<Doctor>(await patch(user, doctor.id, { phone: "5550100" }, { "If-Match": etag }));
    const before = await stored(doctor.id);
    // The creation tag is stale now.
    await expectProblem(await put(user, doctor.id, VALID_DOCTOR, { "If-Match": etag }), 412);
    await expectProblem(await patch(user, doctor.id, { name: "Stale" }, { "If-Match": etag }), 412);
    await expectProblem(await remove(user, doctor.id, { "If-Match": etag }), 412);
    await expectProblem(await remove(user, doctor.id, { "If-Match": `W/${etag}` }), 412);
    expect(await stored(doctor.id)).toEqual(before);
  });

  it("the current tag → 200 with a new ETag that GET agrees with; then 204 for DELETE", async () => {
    const user = await newUser();
    const { body: doctor, etag } = await createDoctor(user);
    const patched = await patch(user, doctor.id, { name: "Dr Current" }, { "If-Match": etag });
    expect(await okJson<Doctor>(patched)).toMatchObject({ name: "Dr Current" });
    const second = patched.headers.get("ETag") ?? "";
    expect(second).toMatch(STRONG_ETAG);
    expect(second).not.toBe(etag);
    expect((await read(user, doctor.id)).headers.get("ETag")).toBe(second);
    const replaced = await put(user, doctor.id, VALID_DOCTOR, { "If-Match": `${STALE}, ${second}` });
    const third = replaced.headers.get("ETag") ?? "";
    expect(await okJson<Doctor>(replaced)).toMatchObject({ name: VALID_DOCTOR.name });
    expect(new Set([etag, second, third]).size).toBe(3);
    expect((await remove(user, doctor.id, { "If-Match": third })).status).toBe(204);
  });

  it("* matches any existing doctor, and an unknown id stays 404", async () => {
    const user = await newUser();
    const { body: doctor } = await createDoctor(user);
    expect((await patch(user, doctor.id, { name: "Dr Star" }, { "If-Match": "*" })).status).toBe(200);
    await expectProblem(await patch(user, crypto.randomUUID(), { name: "X" }, { "If-Match": "*" }), 404);
    expect((await remove(user, doctor.id, { "If-Match": "*" })).status).toBe(204);
  });
});

describe("check order (docs/BEHAVIOUR.md: 401, 415, 400, then 404, 403, 409, 412)", () => {
  it("an unknown id is 404 before anything else, whoever asks and whatever the tag", async () => {
    const user = await newUser();
    const id = crypto.randomUUID();
    await expectProblem(await put(user, id, VALID_DOCTOR, { "If-Match": STALE }), 404);
    await expectProblem(await patch(user, id, { name: "X" }, { "If-Match": STALE }), 404);
    await expectProblem(await remove(user, id, { "If-Match": STALE }), 404);
  });

  it("validation comes before the resource: 400 for a bad body on an unknown or someone else's doctor", async () => {
    const [creator, other] = [await newUser(), await newUser()];
    const { body: doctor } = await createDoctor(creator);
    await expectFieldError(await patch(other, crypto.randomUUID(), { name: "" }), "name");
    await expectFieldError(await patch(other, doctor.id, { created_by: other.id }), "created_by");
    await expectFieldError(await put(other, "not-a-uuid", { name: "X" }), "specialization");
  });

  it("authentication and media type come before validation: 401 then 415", async () => {
    const user = await newUser();
    const { body: doctor } = await createDoctor(user);
    const noToken = await call(doctorPath(doctor.id), jsonRequest("PATCH", { name: "" }));
    await expectProblem(noToken, 401);
    const plain = await call(doctorPath(doctor.id), {
      method: "PATCH",
      headers: { ...user.auth, "Content-Type": "text/plain" },
      body: "{}",
    });
    await expectProblem(plain, 415);
  });

  it("a non-creator with a stale tag or a taken license gets 403; the creator with both gets 409", async () => {
    const [creator, other] = [await newUser(), await newUser()];
    const taken = newLicense();
    await createDoctor(creator, { license_number: taken });
    const { body: doctor } = await createDoctor(creator);
    const before = await stored(doctor.id);
    await expectProblem(await patch(other, doctor.id, { license_number: taken }, { "If-Match": STALE }), 403);
    await expectProblem(await patch(creator, doctor.id, { license_number: taken }, { "If-Match": STALE }), 409);
    await expectProblem(await put(creator, doctor.id, { ...VALID_DOCTOR, license_number: taken }, { "If-Match": STALE }), 409);
    expect(await stored(doctor.id)).toEqual(before);
  });

  it("the creator deleting an assigned doctor with a stale tag gets 409", async () => {
    const [creator, owner] = [await newUser(), await newUser()];
    const { doctor } = await assignedDoctor(creator, owner);
    await expectProblem(await remove(creator, doctor.id, { "If-Match": STALE }), 409);
    expect(await stored(doctor.id)).toBeDefined();
  });
});

describe("GET /api/doctors/", () => {
  it("pages with the envelope: count, absolute next/previous that keep the other parameters", async () => {
    const user = await newUser();
    const tok = token();
    const created: Doctor[] = [];
    for (const n of ["A", "B", "C"]) created.push((await createDoctor(user, { name: `Dr ${tok} ${n}` })).body as unknown as Doctor);

    const res = await list(user, { search: tok, limit: "2" });
    expect(res.headers.get("ETag")).toBeNull();
    const first = await okJson<DoctorPage>(res);
    expect(Object.keys(first).sort()).toEqual(["count", "next", "previous", "results"]);
    expect(first.count).toBe(3);
    expect(first.results).toEqual(created.slice(0, 2));
    expect(first.previous).toBeNull();
    expect(linkParams(first.next)).toEqual({ search: tok, limit: "2", offset: "2" });

    const second = await listBody(user, { search: tok, limit: "2", offset: "2" });
    expect(second.count).toBe(3);
    expect(second.results).toEqual(created.slice(2));
    expect(second.next).toBeNull();
    expect(linkParams(second.previous)).toEqual({ search: tok, limit: "2", offset: "0" });

    const past = await listBody(user, { search: tok, offset: "5" });
    expect(past).toMatchObject({ count: 3, results: [], next: null });
  });

  it("accepts limit 1 and 100, and answers without the trailing slash too", async () => {
    const user = await newUser();
    const tok = token();
    await createDoctor(user, { name: `Dr ${tok} A` });
    await createDoctor(user, { name: `Dr ${tok} B` });
    const one = await listBody(user, { search: tok, limit: "1" });
    expect([one.count, one.results.length]).toEqual([2, 1]);
    expect(linkParams(one.next)).toEqual({ search: tok, limit: "1", offset: "1" });
    expect((await listBody(user, { search: tok, limit: "100" })).results).toHaveLength(2);
    const bare = await okJson<DoctorPage>(await call(`/api/doctors?search=${tok}`, { headers: user.auth }));
    expect(bare.count).toBe(2);
  });

  it.each([
    ["limit", "0"],
    ["limit", "101"],
    ["limit", "-1"],
    ["limit", "abc"],
    ["limit", "1.5"],
    ["offset", "-1"],
    ["offset", "x"],
    ["ordering", "email"],
    ["ordering", "-updated_at"],
    ["ordering", "id"],
    ["ordering", "--name"],
    ["ordering", "name,specialization"],
    ["search", "nul\u0000byte"],
  ])("answers 400 naming %s for %s", async (param, value) => {
    const user = await newUser();
    await expectFieldError(await list(user, { [param]: value }), param);
  });

  it("answers 400 naming specialization for a filter holding U+0000 (docs/BEHAVIOUR.md), not a 500", async () => {
    const user = await newUser();
    await expectFieldError(await list(user, { specialization: "Cardio\u0000logy" }), "specialization");
  });

  it("searches name and specialization case-insensitively, and nothing else", async () => {
    const user = await newUser();
    const tok = token();
    const byName = (await createDoctor(user, { name: `Dr ${tok}`, specialization: "Neurology" })).body;
    const bySpecialization = (await createDoctor(user, { name: "Dr Plain", specialization: `Oncology ${tok}` })).body;
    // Email and license number are not searched.
    await createDoctor(user, { name: "Dr Mail", email: `${tok}@example.com`, license_number: `${tok}-L` });

    const both = await listBody(user, { search: tok.toUpperCase() });
    expect(both.count).toBe(2);
    expect(idsOf(both)).toEqual([byName.id, bySpecialization.id]);
    expect(idsOf(await listBody(user, { search: `  DR ${tok}  ` }))).toEqual([byName.id]);
    expect(idsOf(await listBody(user, { search: `oncology ${tok}` }))).toEqual([bySpecialization.id]);
  });

  it("searches literally: %, _ and \\ match only themselves", async () => {
    const user = await newUser();
    const tok = token();
    for (const suffix of ["100% sure", "1000 sure", "a_b", "axb", "back\\slash", "backslash"]) {
      await createDoctor(user, { name: `Dr ${tok} ${suffix}` });
    }
    const search = async (text: string) => namesOf(await listBody(user, { search: `${tok} ${text}` }));
    expect(await search("100%")).toEqual([`Dr ${tok} 100% sure`]);
    expect(await search("a_b")).toEqual([`Dr ${tok} a_b`]);
    expect(await search("back\\")).toEqual([`Dr ${tok} back\\slash`]);
    // The control: without wildcards, a plain substring matches both.
    expect(await search("100")).toEqual([`Dr ${tok} 100% sure`, `Dr ${tok} 1000 sure`]);
  });

  it("filters specialization= exactly and case-insensitively", async () => {
    const user = await newUser();
    const tok = token();
    const exact = (await createDoctor(user, { name: `Dr ${tok} 1`, specialization: `Cardio${tok}` })).body;
    const upper = (await createDoctor(user, { name: `Dr ${tok} 2`, specialization: `CARDIO${tok.toUpperCase()}` })).body;
    const longer = (await createDoctor(user, { name: `Dr ${tok} 3`, specialization: `Cardio${tok} Surgery` })).body;

    const page = await listBody(user, { specialization: `cardio${tok}` });
    expect(page.count).toBe(2);
    expect(idsOf(page)).toEqual([exact.id, upper.id]);
    expect(idsOf(await listBody(user, { specialization: `cardio${tok} SURGERY` }))).toEqual([longer.id]);
    // No prefix or wildcard matching.
    expect((await listBody(user, { search: tok, specialization: "Cardio" })).count).toBe(0);
    expect((await listBody(user, { search: tok, specialization: `Cardio${tok}%` })).count).toBe(0);
    // Combined with search, and kept in the links.
    const combined = await listBody(user, { specialization: `cardio${tok}`, search: `${tok} 2`, limit: "1" });
    expect(idsOf(combined)).toEqual([upper.id]);
    const wide = await listBody(user, { specialization: `cardio${tok}`, limit: "1" });
    expect(linkParams(wide.next)).toEqual({ specialization: `cardio${tok}`, limit: "1", offset: "1" });
  });

  it("orders by name, specialization and created_at, either way; by default by created_at", async () => {
    const user = await newUser();
    const tok = token();
    for (const [name, specialization] of [
      ["Carol", "Beta"],
      ["Alice", "Gamma"],
      ["Bob", "Alpha"],
    ]) {
      await createDoctor(user, { name: `Dr ${tok} ${name}`, specialization: `${tok} ${specialization}` });
    }
    const order = async (ordering?: string) =>
      namesOf(await listBody(user, { search: tok, ...(ordering ? { ordering } : {}) })).map((n) => n.split(" ")[2]);
    expect(await order()).toEqual(["Carol", "Alice", "Bob"]);
    expect(await order("created_at")).toEqual(["Carol", "Alice", "Bob"]);
    expect(await order("-created_at")).toEqual(["Bob", "Alice", "Carol"]);
    expect(await order("name")).toEqual(["Alice", "Bob", "Carol"]);
    expect(await order("-name")).toEqual(["Carol", "Bob", "Alice"]);
    expect(await order("specialization")).toEqual(["Bob", "Carol", "Alice"]);
    expect(await order("-specialization")).toEqual(["Alice", "Carol", "Bob"]);
  });
});

describe("GET /api/doctors/ by cursor", () => {
  /**
   * 11 doctors of the test's own (found by `tok` in every name), inserted by
   * one statement so created_at is tied; names and specializations repeat.
   * Four share a specialization no other test uses.
   */
  async function tiedDoctors(user: TestUser, tok: string) {
    await directSql()`
      INSERT INTO doctors (created_by, name, specialization)
      SELECT ${user.id}::uuid, 'Dr ' || ${tok} || (ARRAY[' Ann', ' Bob', ' Ann', ' Cy'])[1 + g % 4],
             CASE WHEN g % 3 = 0 THEN 'Spec ' || ${tok} ELSE (ARRAY['Neurology', 'Oncology'])[1 + g % 2] END
      FROM generate_series(1, 11) g`;
  }

  it.each(["name", "specialization", "created_at"])(
    "follows next from cursor= over the search's doctors once, in order with ties, and previous back, for %s ascending and descending",
    async (field) => {
      const user = await newUser();
      const tok = token();
      await tiedDoctors(user, tok);
      for (const ordering of [field, `-${field}`]) {
        for (const limit of [1, 3, 11]) await expectCursorPaging<Doctor>("/api/doctors/", { search: tok, ordering }, user.auth, limit);
      }
    },
  );

  it("pages the specialization filter, and search and filter together", async () => {
    const user = await newUser();
    const tok = token();
    await tiedDoctors(user, tok);
    const spec = `spec ${tok}`;
    const pages = await expectCursorPaging<Doctor>("/api/doctors/", { specialization: spec }, user.auth, 2);
    expect(pages[0].count).toBe(3);
    await expectCursorPaging<Doctor>("/api/doctors/", { specialization: spec, search: "ann", ordering: "-name" }, user.auth, 1);
  });

  it("refuses a cursor of another search, specialization or ordering, and one with offset (400 naming it)", async () => {
    const user = await newUser();
    const tok = token();
    await tiedDoctors(user, tok);
    const first = await listBody(user, { search: tok, specialization: `Spec ${tok}`, limit: "1", cursor: "" });
    const cursor = new URL(first.next ?? "").searchParams.get("cursor") ?? "";
    const others: Record<string, string>[] = [
      { search: tok, cursor },
      { search: `${tok}x`, specialization: `Spec ${tok}`, cursor },
      { search: tok, specialization: "Oncology", cursor },
      { search: tok, specialization: `Spec ${tok}`, ordering: "name", cursor },
    ];
    for (const query of others) {
      expect(await expectFieldError(await list(user, query), "cursor")).toMatchObject({ errors: { cursor: [expect.any(String)] } });
    }
    await expectFieldError(await list(user, { search: tok, specialization: `Spec ${tok}`, cursor, offset: "1" }), "offset");
    expect((await list(user, { search: tok, specialization: `Spec ${tok}`, cursor })).status).toBe(200);
  });
});

describe("authentication", () => {
  it("every doctor route answers 401 with WWW-Authenticate: Bearer without a valid token", async () => {
    const user = await newUser();
    const { body: doctor } = await createDoctor(user);
    const requests: [string, RequestInit][] = [
      ["/api/doctors/", {}],
      ["/api/doctors/", jsonRequest("POST", VALID_DOCTOR)],
      [doctorPath(doctor.id), {}],
      [doctorPath(doctor.id), jsonRequest("PUT", VALID_DOCTOR)],
      [doctorPath(doctor.id), jsonRequest("PATCH", { name: "X" })],
      [doctorPath(doctor.id), { method: "DELETE" }],
      [doctorPath(doctor.id), { method: "DELETE", headers: { Authorization: "Bearer not.a.token" } }],
    ];
    for (const [path, init] of requests) {
      const res = await call(path, init);
      await expectProblem(res, 401);
      expect(res.headers.get("WWW-Authenticate"), `${init.method ?? "GET"} ${path}`).toMatch(/^Bearer\b/);
    }
    expect(await stored(doctor.id)).toMatchObject({ name: VALID_DOCTOR.name, version: 1 });
  });
});

describe("database round trips", () => {
  it("exactly one for list, create, read, put, patch and delete", async () => {
    const user = await newUser();
    const { body: doctor } = await createDoctor(user);
    const trips = async (path: string, init: RequestInit, status: number) => {
      let got = 0;
      const n = await countRoundTrips(async (request) => {
        got = (await request(path, init)).status;
      });
      expect(got, `${init.method ?? "GET"} ${path}`).toBe(status);
      return n;
    };
    const counts = {
      list: await trips("/api/doctors/?search=x&ordering=-name", { headers: user.auth }, 200),
      create: await trips("/api/doctors/", jsonRequest("POST", { ...VALID_DOCTOR, license_number: newLicense() }, user.auth), 201),
      read: await trips(doctorPath(doctor.id), { headers: user.auth }, 200),
      put: await trips(doctorPath(doctor.id), jsonRequest("PUT", { ...VALID_DOCTOR, license_number: newLicense() }, user.auth), 200),
      patch: await trips(doctorPath(doctor.id), jsonRequest("PATCH", { license_number: newLicense() }, user.auth), 200),
      delete: await trips(doctorPath(doctor.id), { method: "DELETE", headers: user.auth }, 204),
    };
    expect(counts).toEqual({ list: 1, create: 1, read: 1, put: 1, patch: 1, delete: 1 });
  });
});

describe("auditing", () => {
  it("writes no audit row for any doctor request (while a patient request under the same header does)", async () => {
    const user = await newUser();
    const { body: doctor } = await createDoctor(user);
    const requests: [string, RequestInit][] = [
      ["/api/doctors/", { headers: user.auth }],
      ["/api/doctors/", jsonRequest("POST", VALID_DOCTOR, user.auth)],
      [doctorPath(doctor.id), { headers: user.auth }],
      [doctorPath(doctor.id), jsonRequest("PUT", VALID_DOCTOR, user.auth)],
      [doctorPath(doctor.id), jsonRequest("PATCH", { name: "Dr Audit" }, user.auth)],
      [doctorPath(doctor.id), { method: "DELETE", headers: user.auth }],
    ];
    for (const [path, init] of requests) {
      const requestId = newRequestId();
      const res = await call(path, { ...init, headers: { ...(init.headers as HeaderMap), "X-Request-Id": requestId } });
      expect(res.status, `${init.method ?? "GET"} ${path}`).toBeLessThan(300);
      expect(res.headers.get("X-Request-Id")).toBe(requestId);
      expect(await auditRows(requestId), `${init.method ?? "GET"} ${path}`).toEqual([]);
    }
    const control = newRequestId();
    expect((await call("/api/patients/", { headers: { ...user.auth, "X-Request-Id": control } })).status).toBe(200);
    expect(await auditRows(control)).toHaveLength(1);
  });
});
