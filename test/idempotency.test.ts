/**
 * Idempotency-Key on every write route (docs/BEHAVIOUR.md): a retry after
 * success is replayed (nothing written again, one `success` audit row plus
 * one `replayed`), the same key with another request is 422 (nothing
 * written), keys are per user, malformed keys are 400, and ten identical
 * requests sent at once write once. Checked against the database directly.
 * The multi-instance race is test/routes/idempotency-race.node.test.ts.
 */
import { describe, expect, it } from "vitest";
import { registeredRoutes } from "../src/lib/registry";
import { resources } from "../src/resources";
import {
  auditRows,
  call,
  createDoctor,
  createMapping,
  createPatient,
  directSql,
  expectProblem,
  jsonRequest,
  newRequestId,
  newUser,
  type TestUser,
  VALID_DOCTOR,
  VALID_PATIENT,
} from "./helpers";

interface Scene {
  path: string;
  /** The request's body for a variant of it (undefined for a DELETE). */
  body?: (variant: string) => object;
  /** How many times the write happened, read from the database (0 or 1 for a single write). */
  writes: () => Promise<number>;
  /** For DELETE: another path of the same kind, for the "same key, other request" case. */
  otherPath?: string;
  /** The other request's effect, for a DELETE's other path: whether its resource was deleted. */
  otherWritten?: () => Promise<boolean>;
}

interface WriteRoute {
  route: string;
  method: "POST" | "PUT" | "PATCH" | "DELETE";
  status: 200 | 201 | 204;
  /** The audit trail's resource type and action, for the audited resources. */
  audit?: { type: "patient" | "mapping"; action: "create" | "update" | "delete" };
  prepare: (user: TestUser, marker: string) => Promise<Scene>;
}

const count = async (query: Promise<Record<string, unknown>[]>) => Number((await query)[0].n);

/** Create, PUT, PATCH and DELETE of patients or doctors. */
function resourceRoutes(table: "patients" | "doctors"): WriteRoute[] {
  const valid = table === "patients" ? VALID_PATIENT : VALID_DOCTOR;
  const create = table === "patients" ? createPatient : createDoctor;
  const owner = table === "patients" ? "owner_id" : "created_by";
  const audit = table === "patients" ? "patient" : undefined;
  const named = (user: TestUser, name: string) =>
    count(directSql().query(`SELECT count(*)::int AS n FROM ${table} WHERE ${owner} = $1 AND name = $2`, [user.id, name]));
  const updates = (["PUT", "PATCH"] as const).map(
    (method): WriteRoute => ({
      route: `${method} /api/${table}/:id`,
      method,
      status: 200,
      audit: audit && { type: audit, action: "update" },
      prepare: async (_, marker) => {
        const { id } = (await create(_)).body;
        return {
          path: `/api/${table}/${id}/`,
          body: (v) => (method === "PUT" ? { ...valid, name: `${marker}${v}` } : { name: `${marker}${v}` }),
          // Every write bumps the version, so the version counts the writes.
          writes: async () => Number((await directSql().query(`SELECT version FROM ${table} WHERE id = $1`, [id]))[0].version) - 1,
        };
      },
    }),
  );
  return [
    {
      route: `POST /api/${table}`,
      method: "POST",
      status: 201,
      audit: audit && { type: audit, action: "create" },
      prepare: async (user, marker) => ({
        path: `/api/${table}/`,
        body: (v) => ({ ...valid, name: `${marker}${v}` }),
        writes: () => named(user, marker),
      }),
    },
    ...updates,
    {
      route: `DELETE /api/${table}/:id`,
      method: "DELETE",
      status: 204,
      audit: audit && { type: audit, action: "delete" },
      prepare: async (user) => {
        const [{ id }, { id: other }] = [(await create(user)).body, (await create(user)).body];
        const gone = async (rowId: string) => (await directSql().query(`SELECT 1 FROM ${table} WHERE id = $1`, [rowId])).length === 0;
        return {
          path: `/api/${table}/${id}/`,
          writes: async () => Number(await gone(id)),
          otherPath: `/api/${table}/${other}/`,
          otherWritten: () => gone(other),
        };
      },
    },
  ];
}

const ROUTES: WriteRoute[] = [
  ...resourceRoutes("patients"),
  ...resourceRoutes("doctors"),
  {
    route: "POST /api/mappings",
    method: "POST",
    status: 201,
    audit: { type: "mapping", action: "create" },
    prepare: async (user) => {
      const patient = (await createPatient(user)).body.id;
      const doctors = [(await createDoctor(user)).body.id, (await createDoctor(user)).body.id];
      return {
        path: "/api/mappings/",
        // Variant "" assigns the first doctor, any other the second.
        body: (v) => ({ patient_id: patient, doctor_id: doctors[v === "" ? 0 : 1] }),
        writes: () => count(directSql()`SELECT count(*)::int AS n FROM patient_doctor_mappings WHERE patient_id = ${patient}`),
      };
    },
  },
  {
    route: "DELETE /api/mappings/:id",
    method: "DELETE",
    status: 204,
    audit: { type: "mapping", action: "delete" },
    prepare: async (user) => {
      const patient = (await createPatient(user)).body.id;
      const [a, b] = [(await createDoctor(user)).body.id, (await createDoctor(user)).body.id];
      const [id, other] = [(await createMapping(user, patient, a)).body.id, (await createMapping(user, patient, b)).body.id];
      const gone = async (rowId: string) => (await directSql()`SELECT 1 FROM patient_doctor_mappings WHERE id = ${rowId}`).length === 0;
      return {
        path: `/api/mappings/${id}/`,
        writes: async () => Number(await gone(id)),
        otherPath: `/api/mappings/${other}/`,
        otherWritten: () => gone(other),
      };
    },
  },
];

function send(user: TestUser, route: WriteRoute, scene: Scene, headers: Record<string, string>, variant = "", path = scene.path) {
  const all = { ...user.auth, ...headers };
  return call(path, scene.body ? jsonRequest(route.method, scene.body(variant), all) : { method: route.method, headers: all });
}

describe.each(ROUTES)("Idempotency-Key on $route", (route) => {
  it("replays a retry after success: the original status, nothing written again, audited as replayed", async () => {
    const user = await newUser();
    const scene = await route.prepare(user, `Idem ${crypto.randomUUID()}`);
    const key = crypto.randomUUID();
    const [firstId, retryId] = [newRequestId(), newRequestId()];
    const first = await send(user, route, scene, { "Idempotency-Key": key, "X-Request-Id": firstId });
    expect(first.status, await first.clone().text()).toBe(route.status);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();
    const retry = await send(user, route, scene, { "Idempotency-Key": key, "X-Request-Id": retryId });
    expect(retry.status, await retry.clone().text()).toBe(route.status);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(retry.headers.get("Location")).toBe(first.headers.get("Location"));
    if (route.status !== 204) {
      expect(await retry.json()).toEqual(await first.json());
      expect(retry.headers.get("ETag")).toBe(first.headers.get("ETag"));
    }
    expect(await scene.writes()).toBe(1);
    if (route.audit) {
      const [original] = await auditRows(firstId);
      expect(original).toMatchObject({ action: route.audit.action, resource_type: route.audit.type, outcome: "success" });
      expect(await auditRows(retryId)).toEqual([{ ...original, client_request_id: retryId, outcome: "replayed" }]);
    }
  });

  it("answers 422 to the same key with another request, and writes nothing for it", async () => {
    const user = await newUser();
    const scene = await route.prepare(user, `Idem ${crypto.randomUUID()}`);
    const key = crypto.randomUUID();
    expect((await send(user, route, scene, { "Idempotency-Key": key })).status).toBe(route.status);
    const requestId = newRequestId();
    const other = await send(user, route, scene, { "Idempotency-Key": key, "X-Request-Id": requestId }, " changed", scene.otherPath);
    const problem = await expectProblem(other, 422);
    expect(problem.detail).toMatch(/Idempotency-Key/);
    expect(await scene.writes()).toBe(1);
    if (scene.otherWritten) expect(await scene.otherWritten()).toBe(false);
    if (route.audit) expect((await auditRows(requestId)).map((a) => a.outcome)).toEqual(["key_mismatch"]);
  });

  it("keeps each user's keys apart: another user's request with the same key runs", async () => {
    const [user, other] = [await newUser(), await newUser()];
    const key = crypto.randomUUID();
    const marker = `Idem ${crypto.randomUUID()}`;
    const [mine, theirs] = [await route.prepare(user, marker), await route.prepare(other, marker)];
    expect((await send(user, route, mine, { "Idempotency-Key": key })).status).toBe(route.status);
    const res = await send(other, route, theirs, { "Idempotency-Key": key });
    expect(res.status).toBe(route.status);
    expect(res.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await theirs.writes()).toBe(1);
  });

  it.each([
    ["empty", ""],
    ["256 characters", "k".repeat(256)],
    ["a space", "two words"],
    ["a non-ASCII character", "caf\u00e9"],
    ["a control character", "a\u0001b"],
  ])("refuses a key with %s (400), writing nothing", async (_, key) => {
    const user = await newUser();
    const scene = await route.prepare(user, `Idem ${crypto.randomUUID()}`);
    const problem = await expectProblem(await send(user, route, scene, { "Idempotency-Key": key }), 400);
    expect(Object.keys(problem.errors ?? {})).toEqual(["Idempotency-Key"]);
    expect(await scene.writes()).toBe(0);
  });

  it("writes once for ten identical requests sent at once with one key", async () => {
    const user = await newUser();
    const scene = await route.prepare(user, `Idem ${crypto.randomUUID()}`);
    const key = crypto.randomUUID();
    const results = await Promise.all(Array.from({ length: 10 }, () => send(user, route, scene, { "Idempotency-Key": key })));
    const statuses = results.map((r) => r.status);
    // One runs; the others are replays, or 409 when they raced it. A racing DELETE may find the row already gone (404).
    const allowed = route.method === "DELETE" ? [route.status, 409, 404] : [route.status, 409];
    expect(
      statuses.every((s) => allowed.includes(s)),
      statuses.join(","),
    ).toBe(true);
    expect(results.filter((r) => r.status === route.status && r.headers.get("Idempotent-Replayed") === null)).toHaveLength(1);
    expect(await scene.writes()).toBe(1);
  });
});

describe("Idempotency-Key details", () => {
  it("takes 255 visible ASCII characters, punctuation included", async () => {
    const user = await newUser();
    const key = `${"!~\"'{}"}${"k".repeat(249)}`;
    const res = await call("/api/patients/", jsonRequest("POST", VALID_PATIENT, { ...user.auth, "Idempotency-Key": key }));
    expect(res.status).toBe(201);
    const again = await call("/api/patients/", jsonRequest("POST", VALID_PATIENT, { ...user.auth, "Idempotency-Key": key }));
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
  });

  it("fingerprints the request, not its spelling: key order, spacing and the trailing slash do not matter", async () => {
    const user = await newUser();
    const key = crypto.randomUUID();
    const name = `Idem ${crypto.randomUUID()}`;
    const headers = { ...user.auth, "Idempotency-Key": key };
    const first = await call("/api/patients/", jsonRequest("POST", { name, date_of_birth: "1980-02-03", gender: "female" }, headers));
    expect(first.status).toBe(201);
    const respelled = `{ "gender" : "female",\n "date_of_birth": "1980-02-03", "name": ${JSON.stringify(name)} }`;
    const retry = await call("/api/patients", jsonRequest("POST", respelled, headers));
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await count(directSql()`SELECT count(*)::int AS n FROM patients WHERE name = ${name}`)).toBe(1);
  });

  it("replays a create with the resource as it is now, and 404 once it is deleted", async () => {
    const user = await newUser();
    const headers = { ...user.auth, "Idempotency-Key": crypto.randomUUID() };
    const first = await call("/api/patients/", jsonRequest("POST", VALID_PATIENT, headers));
    const { id } = (await first.json()) as { id: string };
    expect((await call(`/api/patients/${id}/`, jsonRequest("PATCH", { name: "Renamed" }, user.auth))).status).toBe(200);
    const replay = await call("/api/patients/", jsonRequest("POST", VALID_PATIENT, headers));
    expect(replay.status).toBe(201);
    expect(((await replay.json()) as { name: string }).name).toBe("Renamed");
    expect(replay.headers.get("ETag")).toBe((await call(`/api/patients/${id}/`, { headers: user.auth })).headers.get("ETag"));
    expect((await call(`/api/patients/${id}/`, { method: "DELETE", headers: user.auth })).status).toBe(204);
    const gone = await call("/api/patients/", jsonRequest("POST", VALID_PATIENT, headers));
    await expectProblem(gone, 404);
    expect(gone.headers.get("Idempotent-Replayed")).toBe("true");
  });

  it("records nothing for a write that did not happen: a retry after a 412 runs again", async () => {
    const user = await newUser();
    const { id } = (await createPatient(user)).body;
    const headers = { ...user.auth, "Idempotency-Key": crypto.randomUUID() };
    expect((await call(`/api/patients/${id}/`, jsonRequest("PATCH", { name: "Again" }, { ...headers, "If-Match": '"99"' }))).status).toBe(
      412,
    );
    const res = await call(`/api/patients/${id}/`, jsonRequest("PATCH", { name: "Again" }, headers));
    expect(res.status).toBe(200);
    expect(res.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("keeps ids, hashes and statuses only: neither the key nor any of the body", async () => {
    const user = await newUser();
    const key = `key-${crypto.randomUUID()}`;
    const name = `Private Name ${crypto.randomUUID()}`;
    expect(
      (await call("/api/patients/", jsonRequest("POST", { ...VALID_PATIENT, name }, { ...user.auth, "Idempotency-Key": key }))).status,
    ).toBe(201);
    const rows = await directSql()`SELECT * FROM idempotency_keys WHERE user_id = ${user.id}`;
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]).sort()).toEqual([
      "created_at",
      "fingerprint",
      "key_hash",
      "resource_id",
      "resource_type",
      "status",
      "user_id",
    ]);
    expect(rows[0]).toMatchObject({ status: 201, resource_type: "patient" });
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(JSON.stringify(rows)).not.toContain(name);
  });

  it("covers every write route of the resources that take a key", () => {
    const writes = registeredRoutes(resources)
      .filter((r) => r.method !== "GET" && /^\/api\/(patients|doctors|mappings)/.test(r.path))
      .map((r) => `${r.method} ${r.path}`);
    expect(new Set(ROUTES.map((r) => r.route))).toEqual(new Set(writes));
  });
});
