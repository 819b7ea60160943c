/**
 * docs/BEHAVIOUR.md: the audit trail for administrators (GET /api/audit/), and that
 * administrators get no extra access to patients. Other files write audit
 * rows concurrently, so the filter tests work on the rows of one fresh user
 * whose every request carries a known X-Request-Id.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  type AuditRow,
  auditRows,
  call,
  countRoundTrips,
  createDoctor,
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
  type TestUser,
  UUID_PATTERN,
  VALID_PATIENT,
} from "../helpers";

/** A row as GET /api/audit/ shows it: the stored row plus its ids and time. */
type AuditEvent = AuditRow & { id: string; occurred_at: string; request_id: string };
type AuditEventPage = Page<AuditEvent>;

const audit = (user: TestUser | undefined, query: Record<string, string> = {}) =>
  call(`/api/audit/?${new URLSearchParams(query)}`, { headers: user?.auth ?? {} });

async function auditPage(admin: TestUser, query: Record<string, string>): Promise<AuditEventPage> {
  const res = await audit(admin, query);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as AuditEventPage;
}

/** The query parameters of a `next`/`previous` link, after checking it is absolute and points at the trail. */
function linkParams(link: string | null) {
  expect(link).not.toBeNull();
  const url = new URL(String(link));
  expect(`${url.origin}${url.pathname}`).toBe(`${ORIGIN}/api/audit/`);
  return Object.fromEntries(url.searchParams);
}

/** The same instant written with a +02:00 offset instead of Z. */
const plusTwoHours = (iso: string) => new Date(Date.parse(iso) + 2 * 3600_000).toISOString().replace("Z", "+02:00");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One fresh user's known trail: nine audited requests in two phases with a
 * pause between them (for since/until), each with its own request id.
 */
interface Scenario {
  admin: TestUser;
  actor: TestUser;
  patientId: string;
  unknownId: string;
  mappingId: string;
  /** Request ids by step name, in the order the requests were made. */
  rid: Record<Step, string>;
}
type Step =
  | "createPatient"
  | "readPatient"
  | "staleUpdate"
  | "readUnknown"
  | "listPatients"
  | "createMapping"
  | "duplicateMapping"
  | "deleteMapping"
  | "readDeletedMapping";
const PHASE_ONE: Step[] = ["createPatient", "readPatient", "staleUpdate", "readUnknown", "listPatients"];
const PHASE_TWO: Step[] = ["createMapping", "duplicateMapping", "deleteMapping", "readDeletedMapping"];

async function buildScenario(): Promise<Scenario> {
  const [admin, actor] = [await newUser("Admin"), await newUser("Actor")];
  await makeAdmin(admin);
  // Doctors are not audited: made outside the trail on purpose.
  const { body: doctor } = await createDoctor(actor);
  const rid = Object.fromEntries([...PHASE_ONE, ...PHASE_TWO].map((s) => [s, newRequestId()])) as Record<Step, string>;
  const as = (step: Step, headers: Record<string, string> = {}) => ({ ...actor.auth, ...headers, "X-Request-Id": rid[step] });
  const expectStatus = async (res: Promise<Response>, status: number) => {
    const r = await res;
    expect(r.status, await r.clone().text()).toBe(status);
    return r;
  };

  const created = await expectStatus(
    call("/api/patients/", jsonRequest("POST", { name: "Audited", date_of_birth: "1990-01-01", gender: "other" }, as("createPatient"))),
    201,
  );
  const patientId = ((await created.json()) as { id: string }).id;
  await expectStatus(call(`/api/patients/${patientId}/`, { headers: as("readPatient") }), 200);
  await expectStatus(
    call(`/api/patients/${patientId}/`, jsonRequest("PATCH", { name: "Stale" }, as("staleUpdate", { "If-Match": '"999999"' }))),
    412,
  );
  const unknownId = crypto.randomUUID();
  await expectStatus(call(`/api/patients/${unknownId}/`, { headers: as("readUnknown") }), 404);
  await expectStatus(call("/api/patients/", { headers: as("listPatients") }), 200);

  await sleep(30);

  const mappingBody = { patient_id: patientId, doctor_id: doctor.id };
  const mapped = await expectStatus(call("/api/mappings/", jsonRequest("POST", mappingBody, as("createMapping"))), 201);
  const mappingId = ((await mapped.json()) as { id: string }).id;
  await expectStatus(call("/api/mappings/", jsonRequest("POST", mappingBody, as("duplicateMapping"))), 409);
  await expectStatus(call(`/api/mappings/${mappingId}/`, { method: "DELETE", headers: as("deleteMapping") }), 204);
  await expectStatus(call(`/api/mappings/${mappingId}/`, { headers: as("readDeletedMapping") }), 404);

  return { admin, actor, patientId, unknownId, mappingId, rid };
}

describe("GET /api/audit/", () => {
  let s: Scenario;
  /** The request ids of the actor's rows matching `query`, as the API lists them. */
  const requestIds = async (query: Record<string, string> = {}) =>
    (await auditPage(s.admin, { actor_id: s.actor.id, limit: "100", ...query })).results.map((r) => r.client_request_id);
  /** Request ids of the given steps, newest first. */
  const newestFirst = (...steps: Step[]) => steps.map((step) => s.rid[step]).reverse();

  beforeAll(async () => {
    s = await buildScenario();
  });

  it("lists the actor's rows newest first, each with exactly the documented fields", async () => {
    const page = await auditPage(s.admin, { actor_id: s.actor.id });
    expect(page.count).toBe(9);
    expect(page.results.map((r) => r.client_request_id)).toEqual(newestFirst(...PHASE_ONE, ...PHASE_TWO));
    const times = page.results.map((r) => r.occurred_at);
    expect(times).toEqual([...times].sort().reverse());
    const created = page.results.find((r) => r.client_request_id === s.rid.createPatient);
    expect(created).toEqual({
      id: expect.stringMatching(UUID_PATTERN),
      occurred_at: expect.stringMatching(ISO_TIMESTAMP),
      actor_id: s.actor.id,
      action: "create",
      resource_type: "patient",
      resource_id: s.patientId,
      request_id: expect.stringMatching(UUID_PATTERN),
      client_request_id: s.rid.createPatient,
      outcome: "success",
      fields: null,
    });
    expect(page.results.find((r) => r.client_request_id === s.rid.listPatients)).toMatchObject({ action: "list", resource_id: null });
  });

  it("records what each request came to", async () => {
    const page = await auditPage(s.admin, { actor_id: s.actor.id });
    const summary = Object.fromEntries(
      page.results.map((r) => [r.client_request_id, [r.resource_type, r.action, r.resource_id, r.outcome]]),
    );
    expect(summary).toEqual({
      [s.rid.createPatient]: ["patient", "create", s.patientId, "success"],
      [s.rid.readPatient]: ["patient", "read", s.patientId, "success"],
      [s.rid.staleUpdate]: ["patient", "update", s.patientId, "precondition_failed"],
      [s.rid.readUnknown]: ["patient", "read", s.unknownId, "not_found"],
      [s.rid.listPatients]: ["patient", "list", null, "success"],
      [s.rid.createMapping]: ["mapping", "create", s.mappingId, "success"],
      [s.rid.duplicateMapping]: ["mapping", "create", null, "conflict"],
      [s.rid.deleteMapping]: ["mapping", "delete", s.mappingId, "success"],
      [s.rid.readDeletedMapping]: ["mapping", "read", s.mappingId, "not_found"],
    });
  });

  it("the trail as a whole is newest first", async () => {
    const page = await auditPage(s.admin, { limit: "100" });
    expect(page.count).toBeGreaterThanOrEqual(9);
    const times = page.results.map((r) => r.occurred_at);
    expect(times).toEqual([...times].sort().reverse());
  });

  it("filters by actor_id, in any case of the UUID_PATTERN, and by another actor", async () => {
    expect(await requestIds({ actor_id: s.actor.id.toUpperCase() })).toEqual(newestFirst(...PHASE_ONE, ...PHASE_TWO));
    // The admin made no audited request: nothing.
    expect(await auditPage(s.admin, { actor_id: s.admin.id })).toMatchObject({ count: 0, results: [], next: null, previous: null });
  });

  it("filters by resource_type", async () => {
    expect(await requestIds({ resource_type: "patient" })).toEqual(newestFirst(...PHASE_ONE));
    expect(await requestIds({ resource_type: "mapping" })).toEqual(newestFirst(...PHASE_TWO));
  });

  it("filters by resource_id", async () => {
    expect(await requestIds({ resource_id: s.patientId })).toEqual(newestFirst("createPatient", "readPatient", "staleUpdate"));
    expect(await requestIds({ resource_id: s.mappingId })).toEqual(newestFirst("createMapping", "deleteMapping", "readDeletedMapping"));
    // Without actor_id too: these ids are this scenario's alone.
    const page = await auditPage(s.admin, { resource_id: s.unknownId });
    expect(page.results.map((r) => r.client_request_id)).toEqual([s.rid.readUnknown]);
  });

  it("filters by action", async () => {
    expect(await requestIds({ action: "create" })).toEqual(newestFirst("createPatient", "createMapping", "duplicateMapping"));
    expect(await requestIds({ action: "read" })).toEqual(newestFirst("readPatient", "readUnknown", "readDeletedMapping"));
    expect(await requestIds({ action: "update" })).toEqual([s.rid.staleUpdate]);
    expect(await requestIds({ action: "delete" })).toEqual([s.rid.deleteMapping]);
    expect(await requestIds({ action: "list" })).toEqual([s.rid.listPatients]);
  });

  it("filters by outcome", async () => {
    expect(await requestIds({ outcome: "success" })).toEqual(
      newestFirst("createPatient", "readPatient", "listPatients", "createMapping", "deleteMapping"),
    );
    expect(await requestIds({ outcome: "not_found" })).toEqual(newestFirst("readUnknown", "readDeletedMapping"));
    expect(await requestIds({ outcome: "conflict" })).toEqual([s.rid.duplicateMapping]);
    expect(await requestIds({ outcome: "precondition_failed" })).toEqual([s.rid.staleUpdate]);
  });

  it("filters by since and until, written with Z or with an offset", async () => {
    const rows = (await auditPage(s.admin, { actor_id: s.actor.id })).results;
    const at = (step: Step) => rows.find((r) => r.client_request_id === s.rid[step])?.occurred_at ?? "";
    // occurred_at is shown to the millisecond: the first row of phase two is at or after it,
    // and the last row of phase one is before it plus 1 ms. The phases are 30 ms apart.
    const phaseTwoStart = at("createMapping");
    const phaseOneEnd = new Date(Date.parse(at("listPatients")) + 1).toISOString();
    expect(await requestIds({ since: phaseTwoStart })).toEqual(newestFirst(...PHASE_TWO));
    expect(await requestIds({ since: plusTwoHours(phaseTwoStart) })).toEqual(newestFirst(...PHASE_TWO));
    expect(await requestIds({ until: phaseOneEnd })).toEqual(newestFirst(...PHASE_ONE));
    expect(await requestIds({ until: plusTwoHours(phaseOneEnd) })).toEqual(newestFirst(...PHASE_ONE));
    expect(await requestIds({ since: at("createPatient"), until: phaseOneEnd })).toEqual(newestFirst(...PHASE_ONE));
    const beforePhaseTwo = new Date(Date.parse(phaseTwoStart) - 1).toISOString();
    expect(await requestIds({ since: phaseOneEnd, until: beforePhaseTwo })).toEqual([]);
    expect(await requestIds({ until: "2000-01-01T00:00:00Z" })).toEqual([]);
  });

  it("combines filters", async () => {
    expect(await requestIds({ resource_type: "patient", action: "read", outcome: "success" })).toEqual([s.rid.readPatient]);
    expect(await requestIds({ resource_type: "mapping", outcome: "not_found", resource_id: s.mappingId })).toEqual([
      s.rid.readDeletedMapping,
    ]);
    expect(await requestIds({ resource_type: "patient", action: "delete" })).toEqual([]);
  });

  it("pages with count and next/previous links that keep the filters", async () => {
    const first = await auditPage(s.admin, { actor_id: s.actor.id, limit: "4" });
    expect(Object.keys(first).sort()).toEqual(["count", "next", "previous", "results"]);
    expect(first.count).toBe(9);
    expect(first.results.map((r) => r.client_request_id)).toEqual(newestFirst(...PHASE_ONE, ...PHASE_TWO).slice(0, 4));
    expect(first.previous).toBeNull();
    expect(linkParams(first.next)).toEqual({ actor_id: s.actor.id, limit: "4", offset: "4" });

    const last = await auditPage(s.admin, { actor_id: s.actor.id, limit: "4", offset: "8" });
    expect(last.count).toBe(9);
    expect(last.results.map((r) => r.client_request_id)).toEqual([s.rid.createPatient]);
    expect(last.next).toBeNull();
    expect(linkParams(last.previous)).toEqual({ actor_id: s.actor.id, limit: "4", offset: "4" });
  });

  it.each([
    ["actor_id", "not-a-uuid"],
    ["actor_id", "123"],
    ["resource_id", "not-a-uuid"],
    ["resource_type", "doctor"],
    ["resource_type", "Patient"],
    ["action", "explode"],
    ["outcome", "x"],
    ["outcome", "failure"],
    ["since", "yesterday"],
    ["since", "2026-02-30T00:00:00Z"],
    ["until", "2026-13-01T00:00:00Z"],
    ["until", "1 Jan 2026"],
    ["ordering", "occurred_at"],
    ["ordering", "-occurred_at"],
    ["limit", "0"],
    ["limit", "101"],
    ["limit", "ten"],
    ["offset", "-1"],
    ["offset", "1.5"],
  ])("answers 400 naming %s for %s, to an administrator and to anyone else", async (param, value) => {
    for (const user of [s.admin, s.actor]) {
      const body = await expectProblem(await audit(user, { [param]: value }), 400);
      expect(Object.keys(body.errors ?? {})).toEqual([param]);
    }
  });

  it("answers 400, not 500, for a well-formed timestamp Postgres cannot hold (year 0000)", async () => {
    for (const param of ["since", "until"]) {
      const body = await expectProblem(await audit(s.admin, { [param]: "0000-01-01T00:00:00Z" }), 400);
      expect(Object.keys(body.errors ?? {})).toEqual([param]);
    }
  });

  it("accepts limit 1 and 100", async () => {
    expect((await auditPage(s.admin, { actor_id: s.actor.id, limit: "1" })).results).toHaveLength(1);
    expect((await auditPage(s.admin, { actor_id: s.actor.id, limit: "100" })).results).toHaveLength(9);
  });

  it("answers 403 to a user who is not an administrator", async () => {
    const body = await expectProblem(await audit(s.actor), 403);
    expect(JSON.stringify(body)).not.toContain(s.rid.createPatient);
    await expectProblem(await audit(s.actor, { actor_id: s.actor.id }), 403);
  });

  it("answers 401 with WWW-Authenticate: Bearer without a valid token, before validating the query", async () => {
    for (const res of [
      await audit(undefined),
      await audit(undefined, { action: "explode" }),
      await call("/api/audit/", { headers: { Authorization: "Bearer not.a.token" } }),
    ]) {
      await expectProblem(res, 401);
      expect(res.headers.get("WWW-Authenticate")).toMatch(/^Bearer\b/);
    }
  });

  it("answers without the trailing slash too, and is not itself audited", async () => {
    const requestId = newRequestId();
    const res = await call(`/api/audit?actor_id=${s.actor.id}`, { headers: { ...s.admin.auth, "X-Request-Id": requestId } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as AuditEventPage).count).toBe(9);
    expect(res.headers.get("ETag")).toBeNull();
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(await auditRows(requestId)).toEqual([]);
  });

  it("makes exactly one database round trip, for the administrator's list and for the 403", async () => {
    const trips = async (user: TestUser, status: number) => {
      let got = 0;
      const n = await countRoundTrips(async (request) => {
        got = (await request(`/api/audit/?actor_id=${s.actor.id}&outcome=success`, { headers: user.auth })).status;
      });
      expect(got).toBe(status);
      return n;
    };
    expect({ admin: await trips(s.admin, 200), other: await trips(s.actor, 403) }).toEqual({ admin: 1, other: 1 });
  });
});

describe("GET /api/audit/ by cursor", () => {
  /** A fresh actor's 10 rows (other files write the trail meanwhile): 6 by one statement (occurred_at tied), 4 a microsecond apart. */
  async function tiedTrail() {
    const actor = crypto.randomUUID();
    const resource = crypto.randomUUID();
    await directSql()`
      INSERT INTO audit_events (actor_id, action, resource_type, resource_id, request_id, outcome, occurred_at)
      SELECT ${actor}::uuid, 'read', 'patient', CASE WHEN g % 2 = 0 THEN ${resource}::uuid END, 'req-' || g, 'success',
             CASE WHEN g <= 6 THEN now() ELSE now() - g * interval '1 microsecond' END
      FROM generate_series(1, 10) g`;
    return { actor, resource };
  }

  it("walks an actor's rows newest first, once each with ties, and back; with the resource filter too", async () => {
    const admin = await newUser("Admin");
    await makeAdmin(admin);
    const { actor, resource } = await tiedTrail();
    for (const limit of [1, 3, 10]) {
      const pages = await expectCursorPaging<AuditEvent>("/api/audit/", { actor_id: actor }, admin.auth, limit);
      expect(pages[0].count).toBe(10);
    }
    await expectCursorPaging<AuditEvent>("/api/audit/", { actor_id: actor, resource_id: resource }, admin.auth, 2);
    await expectCursorPaging<AuditEvent>("/api/audit/", { resource_id: resource, outcome: "success" }, admin.auth, 2);
  });

  it("refuses another filter's cursor with 400 (validation comes before the administrator check here); a valid one is 403 for others", async () => {
    const admin = await newUser("Admin");
    await makeAdmin(admin);
    const { actor } = await tiedTrail();
    const first = await auditPage(admin, { actor_id: actor, limit: "1", cursor: "" });
    const cursor = new URL(first.next ?? "").searchParams.get("cursor") ?? "";
    const body = await expectProblem(await audit(admin, { actor_id: actor, action: "read", cursor }), 400);
    expect(Object.keys(body.errors ?? {})).toEqual(["cursor"]);
    await expectProblem(await audit(admin, { actor_id: actor, cursor, offset: "0" }), 400);
    const user = await newUser();
    await expectProblem(await audit(user, { actor_id: actor, cursor }), 403);
    await expectProblem(await audit(user, { actor_id: actor, action: "read", cursor }), 400);
  });
});

describe("request ids in the trail", () => {
  it("are the service's own; a client's X-Request-Id is echoed and kept beside it, never instead", async () => {
    const user = await newUser();
    const clientId = newRequestId();
    const res = await call("/api/patients/", jsonRequest("POST", VALID_PATIENT, { ...user.auth, "X-Request-Id": clientId }));
    expect(res.status).toBe(201);
    expect(res.headers.get("X-Request-Id")).toBe(clientId);
    const rows = await directSql()`SELECT request_id FROM audit_events WHERE actor_id = ${user.id}`;
    expect(rows).toHaveLength(1);
    expect(rows[0].request_id).not.toBe(clientId);
    expect(rows[0].request_id).toMatch(UUID_PATTERN);
    expect(await auditRows(clientId)).toMatchObject([{ client_request_id: clientId, action: "create" }]);
  });
});

describe("administrators and patients", () => {
  it("an administrator gets no extra access to another user's patient", async () => {
    const [owner, admin] = [await newUser(), await newUser()];
    await makeAdmin(admin);
    const name = `Private ${crypto.randomUUID()}`;
    const { body: patient } = await createPatient(owner, { name });
    const path = `/api/patients/${patient.id}/`;

    const requestId = newRequestId();
    await expectProblem(await call(path, { headers: { ...admin.auth, "X-Request-Id": requestId } }), 404);
    // Probing someone else's id looks exactly like an unknown id in the trail.
    expect(await auditRows(requestId)).toEqual([
      {
        actor_id: admin.id,
        action: "read",
        resource_type: "patient",
        resource_id: patient.id,
        client_request_id: requestId,
        outcome: "not_found",
      },
    ]);
    await expectProblem(await call(path, jsonRequest("PATCH", { name: "Admin was here" }, admin.auth)), 404);
    await expectProblem(await call(path, { method: "DELETE", headers: admin.auth }), 404);
    await expectProblem(await call(`/api/mappings/patient/${patient.id}/`, { headers: admin.auth }), 404);

    const res = await call(`/api/patients/?${new URLSearchParams({ search: name })}`, { headers: admin.auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ count: 0, next: null, previous: null, results: [] });

    // The owner still has it, unchanged.
    const mine = await call(path, { headers: owner.auth });
    expect(mine.status).toBe(200);
    expect(await mine.json()).toEqual(patient);
  });
});

describe("the fields an update changed", () => {
  it("are named in a patient update's row (never their values), a field sent with its current value is not, and GET /api/audit/ returns them", async () => {
    const owner = await newUser();
    const admin = await newUser();
    await makeAdmin(admin);
    const { body } = await createPatient(owner, { phone: "+44 20 7946 0000" });
    const update = async (method: string, patch: object) => {
      const requestId = newRequestId();
      const res = await call(`/api/patients/${body.id}/`, jsonRequest(method, patch, { ...owner.auth, "X-Request-Id": requestId }));
      expect(res.status).toBe(200);
      const page = (await (await call(`/api/audit/?actor_id=${owner.id}&action=update`, { headers: admin.auth })).json()) as {
        results: { client_request_id: string; fields: string[] | null }[];
      };
      return page.results.find((r) => r.client_request_id === requestId)?.fields;
    };
    expect(await update("PATCH", { name: VALID_PATIENT.name, medical_history: "Asthma", phone: "+44 20 7946 0000" })).toEqual([
      "medical_history",
    ]);
    // PUT: the omitted optional fields become null — the phone and the history change, the rest is as it was.
    expect(await update("PUT", { ...VALID_PATIENT })).toEqual(["phone", "medical_history"]);
    expect(await update("PATCH", { gender: VALID_PATIENT.gender })).toEqual([]);
    const reads = (await (await call(`/api/audit/?actor_id=${owner.id}&action=create`, { headers: admin.auth })).json()) as {
      results: { fields: unknown }[];
    };
    expect(reads.results.map((r) => r.fields)).toEqual([null]);
  });
});
