/**
 * READ_AUDIT_COMMIT (README, "Read-audit durability"): every audited read
 * answers the same and writes exactly one audit row whether its commit waits
 * for the WAL flush (`durable`, the default) or not (`async`), in one round
 * trip either way. Whether a commit waited cannot be seen from another
 * session, so the mechanism is checked where it can be: inside the read's
 * own transaction (synchronous_commit is off there, and only there), and by
 * the endpoint's count of statements (`async` sends the SET LOCAL with the
 * read, in the same request).
 */
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { classifyDbError } from "../src/db/errors";
import { databaseConfig } from "../src/lib/config";
import { encodeOpaque } from "../src/lib/cursor";
import { NIL_UUID } from "../src/resources/sync/schemas";
import {
  auditRows,
  call,
  callWithEnv,
  createDoctor,
  createMapping,
  createPatient,
  directSql,
  jsonRequest,
  makeAdmin,
  newRequestId,
  newUser,
  type TestUser,
} from "./helpers";

const MODES = ["durable", "async"] as const;
type Mode = (typeof MODES)[number];

const dbWith = (mode: Mode) => createDb(databaseConfig({ ...env, READ_AUDIT_COMMIT: mode }));

describe("the db layer", () => {
  const setting = sql`SELECT current_setting('synchronous_commit') AS value`;

  it.each([
    ["durable", "on"],
    ["async", "off"],
  ] as const)("runs an audited read under %s with synchronous_commit %s inside its own transaction", async (mode, expected) => {
    const { rows } = await dbWith(mode).auditRead<{ value: string }>(setting);
    expect(rows).toEqual([{ value: expected }]);
  });

  it("leaves synchronous_commit on for everything else, on the same connections (SET LOCAL, not SET)", async () => {
    const db = dbWith("async");
    for (let i = 0; i < 10; i++) await db.auditRead(setting);
    const after = await Promise.all(Array.from({ length: 10 }, () => db.execute<{ value: string }>(setting)));
    expect(after.map((r) => r.rows[0].value)).toEqual(Array(10).fill("on"));
  });

  it.each(MODES)("reports a failed statement with its SQLSTATE and keeps none of its writes under %s", async (mode) => {
    const marker = `read-audit-${crypto.randomUUID()}`;
    const failing = sql`WITH w AS (INSERT INTO audit_events (actor_id, action, resource_type, request_id, outcome)
      VALUES (gen_random_uuid(), 'read', 'patient', ${marker}, 'success') RETURNING 1) SELECT (SELECT count(*) FROM w) / 0 AS never`;
    const error = await dbWith(mode)
      .auditRead(failing)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(classifyDbError(error)).toEqual({ code: "22012", constraint: undefined, unavailable: false });
    expect(await directSql()`SELECT 1 FROM audit_events WHERE request_id = ${marker}`).toEqual([]);
  });
});

interface Fixture {
  owner: TestUser;
  admin: TestUser;
  inactive: TestUser;
  patient: string;
  mapping: string;
  /** A sync cursor from before the fixture's patient was created. */
  since: string;
}

interface ReadCase {
  name: string;
  path: (f: Fixture) => string;
  caller?: (f: Fixture) => TestUser;
  status: number;
  audit: { action: string; resource_type: string; resource_id: (f: Fixture) => string | null; outcome: string } | null;
  /** The part of the body that must be the same under both settings (other test files write concurrently). */
  same?: (body: unknown, f: Fixture) => unknown;
}

const UNKNOWN = "00000000-0000-4000-8000-000000000000";

const CASES: ReadCase[] = [
  {
    name: "GET /api/patients/{id}/",
    path: (f) => `/api/patients/${f.patient}/`,
    status: 200,
    audit: { action: "read", resource_type: "patient", resource_id: (f) => f.patient, outcome: "success" },
  },
  {
    name: "GET /api/patients/{id}/ (not found)",
    path: () => `/api/patients/${UNKNOWN}/`,
    status: 404,
    audit: { action: "read", resource_type: "patient", resource_id: () => UNKNOWN, outcome: "not_found" },
  },
  {
    name: "GET /api/patients/",
    path: () => "/api/patients/",
    status: 200,
    audit: { action: "list", resource_type: "patient", resource_id: () => null, outcome: "success" },
  },
  {
    name: "GET /api/mappings/{id}/",
    path: (f) => `/api/mappings/${f.mapping}/`,
    status: 200,
    audit: { action: "read", resource_type: "mapping", resource_id: (f) => f.mapping, outcome: "success" },
  },
  {
    name: "GET /api/mappings/",
    path: () => "/api/mappings/",
    status: 200,
    audit: { action: "list", resource_type: "mapping", resource_id: () => null, outcome: "success" },
  },
  {
    name: "GET /api/mappings/patient/{id}/",
    path: (f) => `/api/mappings/patient/${f.patient}/`,
    status: 200,
    audit: { action: "list", resource_type: "mapping", resource_id: () => null, outcome: "success" },
  },
  {
    name: "GET /api/sync/",
    path: (f) => `/api/sync/?limit=500&since=${f.since}`,
    status: 200,
    audit: { action: "sync", resource_type: "patient", resource_id: () => null, outcome: "success" },
    // Other test files' doctors join the feed meanwhile: compare the fixture's own changes.
    same: (body, f) => (body as { changes: { id: string }[] }).changes.filter((c) => c.id === f.patient),
  },
  {
    name: "GET /api/admin/stats/",
    path: () => "/api/admin/stats/",
    caller: (f) => f.admin,
    status: 200,
    audit: { action: "list", resource_type: "user", resource_id: () => null, outcome: "success" },
    // Every request (these included) moves the counts: compare the shape.
    same: (body) => Object.keys(body as object).sort(),
  },
  {
    name: "GET /api/admin/users/?search=…",
    path: (f) => `/api/admin/users/?search=${encodeURIComponent(f.owner.email)}`,
    caller: (f) => f.admin,
    status: 200,
    audit: { action: "list", resource_type: "user", resource_id: () => null, outcome: "success" },
  },
  {
    name: "GET /api/admin/users/{id}/",
    path: (f) => `/api/admin/users/${f.owner.id}/`,
    caller: (f) => f.admin,
    status: 200,
    audit: { action: "read", resource_type: "user", resource_id: (f) => f.owner.id, outcome: "success" },
  },
  {
    name: "GET /api/patients/{id}/ (deactivated account)",
    path: (f) => `/api/patients/${f.patient}/`,
    caller: (f) => f.inactive,
    status: 401,
    // Refused by the statement's token check: its audit row goes with it.
    audit: null,
  },
];

/** The request under `mode`, on a connection string of its own, with the endpoint's count of round trips and statements. */
async function measured(mode: Mode, path: string, caller: TestUser, requestId: string) {
  const connection = `postgresql://app:app@127.0.0.1:5432/app?rac=${crypto.randomUUID()}`;
  const res = await callWithEnv({ READ_AUDIT_COMMIT: mode, DATABASE_URL: connection }, path, {
    headers: { ...caller.auth, "X-Request-Id": requestId },
  });
  const stats = (await (await fetch(`${env.NEON_LOCAL_STATS}?connection=${encodeURIComponent(connection)}`)).json()) as {
    requests: number;
    queries: number;
  };
  return { status: res.status, body: await res.json(), ...stats };
}

describe("every audited read under both settings", () => {
  let f: Fixture;
  beforeAll(async () => {
    const [owner, admin, inactive] = await Promise.all([newUser("Owner"), newUser("Admin"), newUser("Inactive")]);
    await makeAdmin(admin);
    const [{ x }] = (await directSql()`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x`) as { x: string }[];
    const since = encodeOpaque({ v: 1, x, r: -1, i: NIL_UUID, t: Math.floor(Date.now() / 1000) });
    const { body: patient } = await createPatient(owner);
    const { body: doctor } = await createDoctor(owner);
    const { body: mapping } = await createMapping(owner, patient.id, doctor.id);
    const deactivated = await call(`/api/admin/users/${inactive.id}/`, jsonRequest("PATCH", { is_active: false }, admin.auth));
    expect(deactivated.status).toBe(200);
    f = { owner, admin, inactive, patient: patient.id, mapping: mapping.id, since };
  });

  it.each(CASES)("$name: the same answer, one audit row, one round trip", async (c) => {
    const answers = [];
    for (const mode of MODES) {
      const requestId = newRequestId();
      const m = await measured(mode, c.path(f), (c.caller ?? ((x) => x.owner))(f), requestId);
      expect(m.status, mode).toBe(c.status);
      expect(m.requests, `${mode}: round trips`).toBe(1);
      // async: the SET LOCAL and the read, in one request (one transaction).
      expect(m.queries, `${mode}: statements`).toBe(mode === "async" ? 2 : 1);
      // Read back as soon as the answer is in: an async commit is visible at once, only its flush is later.
      const rows = await auditRows(requestId);
      if (c.audit === null) expect(rows, mode).toEqual([]);
      else
        expect(rows, mode).toEqual([
          {
            actor_id: (c.caller ?? ((x) => x.owner))(f).id,
            action: c.audit.action,
            resource_type: c.audit.resource_type,
            resource_id: c.audit.resource_id(f),
            client_request_id: requestId,
            outcome: c.audit.outcome,
          },
        ]);
      answers.push(c.same ? c.same(m.body, f) : m.body);
    }
    expect(answers[1]).toEqual(answers[0]);
  });
});
