/**
 * Load without loss: many concurrent clients run a mixed workload (creates,
 * updates, deletes, racing mapping creates, refreshes) against the Worker
 * under `wrangler dev` for a fixed time; afterwards the database must hold
 * exactly what the successful answers said happened — no lost or phantom
 * writes, no duplicate pairs — every audited request must have exactly one
 * audit row with the outcome its answer implies, and no answer may be a 5xx.
 * Each client first runs one round of every kind of operation whose answer
 * is certain (its own patient: created, updated, mapped twice, deleted), so
 * each kind has a floor however slow the machine; then random operations
 * until the time is up. LOAD_SECONDS sets the duration (short in `npm test`;
 * longer by hand).
 */
import { isDeepStrictEqual } from "node:util";
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startWorker } from "../scripts/lib/wrangler-dev";

const SECONDS = Number(process.env.LOAD_SECONDS ?? 8);
const USERS = 6;
const WORKERS_PER_USER = 3;
const PASSWORD = "a load test pass phrase";

type Kind = "create" | "update" | "delete" | "map" | "refresh";

/** The answers each kind of operation may give under this workload; anything else fails the test. */
const EXPECTED_STATUSES: Record<Kind, number[]> = {
  create: [201],
  // 404: another client of the same user deleted the patient first.
  update: [200, 404],
  delete: [204],
  // 409: the pair exists (or a racing request made it); 400: a racing request deleted the patient.
  map: [201, 400, 409],
  refresh: [200],
};

/** The audit row's action and resource for each audited kind. */
const AUDITED_AS: Partial<Record<Kind, { action: string; resource_type: string }>> = {
  create: { action: "create", resource_type: "patient" },
  update: { action: "update", resource_type: "patient" },
  delete: { action: "delete", resource_type: "patient" },
  map: { action: "create", resource_type: "mapping" },
};

/** The audit outcome an answer implies (src/db/fragments.ts auditOutcome). */
function auditOutcome(kind: Kind, status: number): string {
  if (status >= 200 && status < 300) return "success";
  // A mapping refused for its patient: the statement found no patient (of the caller's) to map.
  if (kind === "map" && status === 400) return "not_found";
  return { 404: "not_found", 409: "conflict", 412: "precondition_failed" }[status] ?? `(no outcome for ${status})`;
}

interface AuditedRequest {
  kind: Kind;
  status: number;
  actor: string;
  /** The id the row must name: the target, or what a create made (null when it made nothing). */
  resourceId: string | null;
}

interface Ledger {
  /** Kind → status → answers. */
  answers: Map<Kind, Map<number, number>>;
  /** Request id → what the audit row must say, for audited requests. */
  audited: Map<string, AuditedRequest>;
  /** Patients created (201), with the client that made them, the highest version any answer showed and its name. */
  patients: Map<string, { owner: string; creator: number; version: number; name: string; deleted: boolean }>;
  /** Mappings created (201): id → patient. */
  mappings: Map<string, string>;
  statuses: Map<number, number>;
}

describe("load without loss", () => {
  let worker: { origin: string; stop: () => void } | undefined;
  let origin: string;
  const sql = () => {
    neonConfig.fetchEndpoint = inject("neonLocalEndpoint");
    return neon("postgres://local:local@127.0.0.1/main");
  };

  beforeAll(async () => {
    worker = await startWorker({
      NEON_LOCAL_ENDPOINT: inject("neonLocalEndpoint"),
      DATABASE_URL: "postgres://local:local@127.0.0.1/main",
      JWT_SECRET: "load-test-secret-0123456789abcdef0123456789",
    });
    origin = worker.origin;
  }, 90_000);

  afterAll(() => {
    worker?.stop();
  });

  it(`keeps the database exactly in line with ${SECONDS} s of mixed concurrent traffic`, { timeout: (SECONDS + 120) * 1000 }, async () => {
    const ledger: Ledger = { answers: new Map(), audited: new Map(), patients: new Map(), mappings: new Map(), statuses: new Map() };
    const send = async (path: string, init: RequestInit & { kind?: Kind; actor?: string; target?: string } = {}) => {
      const requestId = `load-${crypto.randomUUID()}`;
      const res = await fetch(`${origin}${path}`, {
        ...init,
        headers: { "Content-Type": "application/json", "X-Request-Id": requestId, ...init.headers },
      });
      const text = await res.text();
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      ledger.statuses.set(res.status, (ledger.statuses.get(res.status) ?? 0) + 1);
      if (init.kind) {
        const byStatus = ledger.answers.get(init.kind) ?? new Map<number, number>();
        ledger.answers.set(init.kind, byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1));
        if (AUDITED_AS[init.kind]) {
          const made = res.status === 201 ? String(body.id) : null;
          ledger.audited.set(requestId, { kind: init.kind, status: res.status, actor: init.actor ?? "", resourceId: init.target ?? made });
        }
      }
      return { status: res.status, body, etag: res.headers.get("ETag") };
    };

    // Users, each with a login, and a shared set of doctors.
    const users = await Promise.all(
      Array.from({ length: USERS }, async (_, i) => {
        const email = `load-${i}-${crypto.randomUUID()}@example.com`;
        const registered = await send("/api/auth/register/", {
          method: "POST",
          body: JSON.stringify({ name: `Load ${i}`, email, password: PASSWORD }),
        });
        const tokens = await send("/api/auth/login/", { method: "POST", body: JSON.stringify({ email, password: PASSWORD }) });
        return { id: String(registered.body.id), access: String(tokens.body.access), refresh: String(tokens.body.refresh) };
      }),
    );
    type User = (typeof users)[number];
    const auth = (u: User) => ({ Authorization: `Bearer ${u.access}` });
    const doctors: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = await send("/api/doctors/", {
        method: "POST",
        headers: auth(users[0]),
        body: JSON.stringify({ name: `Dr Load ${i}`, specialization: "Load" }),
      });
      doctors.push(String(d.body.id));
    }

    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
    const op = {
      create: async (user: User, client: number) => {
        const name = `P-${crypto.randomUUID()}`;
        const r = await send("/api/patients/", {
          method: "POST",
          kind: "create",
          actor: user.id,
          headers: auth(user),
          body: JSON.stringify({ name, date_of_birth: "1980-01-01", gender: "unknown" }),
        });
        if (r.status === 201) ledger.patients.set(String(r.body.id), { owner: user.id, creator: client, version: 1, name, deleted: false });
        return String(r.body.id);
      },
      update: async (user: User, id: string) => {
        const name = `U-${crypto.randomUUID()}`;
        const r = await send(`/api/patients/${id}/`, {
          method: "PATCH",
          kind: "update",
          actor: user.id,
          target: id,
          headers: auth(user),
          body: JSON.stringify({ name }),
        });
        const p = ledger.patients.get(id);
        const version = Number(r.etag?.replaceAll('"', ""));
        if (r.status === 200 && p && version > p.version) Object.assign(p, { version, name });
      },
      // Only the client that created a patient deletes it: its own round of operations is then certain.
      delete: async (user: User, id: string) => {
        const r = await send(`/api/patients/${id}/`, { method: "DELETE", kind: "delete", actor: user.id, target: id, headers: auth(user) });
        const p = ledger.patients.get(id);
        if (r.status === 204 && p) p.deleted = true;
      },
      map: async (user: User, patient: string, doctor: string) => {
        const r = await send("/api/mappings/", {
          method: "POST",
          kind: "map",
          actor: user.id,
          headers: auth(user),
          body: JSON.stringify({ patient_id: patient, doctor_id: doctor }),
        });
        if (r.status === 201) ledger.mappings.set(String(r.body.id), patient);
      },
      // One refresher per user: refresh tokens are single-use, never refreshed in parallel.
      refresh: async (user: User) => {
        const r = await send("/api/auth/refresh/", { method: "POST", kind: "refresh", body: JSON.stringify({ refresh: user.refresh }) });
        user.refresh = String(r.body.refresh);
        user.access = String(r.body.access);
      },
    };

    const deadline = Date.now() + SECONDS * 1000;
    const client = async (user: User, index: number, refresher: boolean) => {
      // A round whose answers are certain: a patient no other client deletes, mapped twice (the second a 409).
      const own = await op.create(user, index);
      await op.update(user, own);
      await op.map(user, own, doctors[index % doctors.length]);
      await op.map(user, own, doctors[index % doctors.length]);
      await op.delete(user, own);
      if (refresher) await op.refresh(user);
      for (let n = 1; Date.now() < deadline; n++) {
        const live = [...ledger.patients.entries()].filter(([, p]) => p.owner === user.id && !p.deleted);
        const mine = live.map(([id]) => id);
        const created = live.filter(([, p]) => p.creator === index).map(([id]) => id);
        const roll = Math.random();
        if (refresher && n % 5 === 0) await op.refresh(user);
        else if (roll < 0.35 || created.length === 0) await op.create(user, index);
        else if (roll < 0.6) await op.update(user, pick(mine));
        else if (roll < 0.7) await op.delete(user, pick(created));
        // Racing mapping creates: the user's clients often pick the same pair.
        else await op.map(user, pick(mine.slice(0, 3)), pick(doctors));
      }
    };
    await Promise.all(
      users.flatMap((u, i) => Array.from({ length: WORKERS_PER_USER }, (_, j) => client(u, i * WORKERS_PER_USER + j, j === 0))),
    );

    const total = [...ledger.statuses.values()].reduce((a, b) => a + b, 0);
    const perKind = Object.fromEntries([...ledger.answers].map(([kind, byStatus]) => [kind, Object.fromEntries(byStatus)]));
    console.log(`[load] ${total} requests in ${SECONDS} s by ${USERS * WORKERS_PER_USER} clients:`, JSON.stringify(perKind));
    expect([...ledger.statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    // Every kind of operation happened, each with its success (and mapping creates with their 409).
    const answered = (kind: Kind, status: number) => ledger.answers.get(kind)?.get(status) ?? 0;
    const floors = {
      creates: answered("create", 201),
      updates: answered("update", 200),
      deletes: answered("delete", 204),
      mappings: answered("map", 201),
      "mapping conflicts": answered("map", 409),
      refreshes: answered("refresh", 200),
    };
    expect(
      Object.keys(floors).filter((k) => floors[k as keyof typeof floors] === 0),
      "kinds that never happened",
    ).toEqual([]);
    for (const [kind, byStatus] of ledger.answers)
      expect(
        [...byStatus.keys()].filter((s) => !EXPECTED_STATUSES[kind].includes(s)),
        kind,
      ).toEqual([]);

    const db = sql();
    const ids = users.map((u) => u.id);
    // Patients: exactly those created and not deleted, each with the newest name any answer showed.
    const rows = (await db.query("SELECT id, name, version FROM patients WHERE owner_id = ANY($1::uuid[])", [`{${ids.join(",")}}`])) as {
      id: string;
      name: string;
      version: number;
    }[];
    const expected = [...ledger.patients.entries()].filter(([, p]) => !p.deleted);
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(expected.map(([id]) => id)));
    for (const row of rows) {
      const p = ledger.patients.get(row.id);
      expect({ version: row.version, name: row.name }).toEqual({ version: p?.version, name: p?.name });
    }
    // Mappings: every 201 whose patient survives, nothing else, and no pair twice.
    const mappingRows = (await db.query("SELECT id, patient_id FROM patient_doctor_mappings WHERE owner_id = ANY($1::uuid[])", [
      `{${ids.join(",")}}`,
    ])) as { id: string; patient_id: string }[];
    const survivors = [...ledger.mappings.entries()].filter(([, patient]) => !ledger.patients.get(patient)?.deleted).map(([id]) => id);
    expect(new Set(mappingRows.map((m) => m.id))).toEqual(new Set(survivors));
    const [{ duplicates }] = (await db.query(
      "SELECT count(*)::int AS duplicates FROM (SELECT 1 FROM patient_doctor_mappings GROUP BY patient_id, doctor_id HAVING count(*) > 1) d",
    )) as { duplicates: number }[];
    expect(duplicates).toBe(0);

    // Audit, request by request: each audited request has exactly one row, saying what its answer said; no other request has any.
    const audit = (await db.query(
      // The client's X-Request-Id is kept beside the service's own id (client_request_id).
      "SELECT client_request_id AS request_id, actor_id, action, resource_type, resource_id, outcome FROM audit_events WHERE client_request_id LIKE 'load-%'",
    )) as { request_id: string }[];
    const rowsByRequest = new Map<string, Record<string, unknown>[]>();
    for (const a of audit) rowsByRequest.set(a.request_id, [...(rowsByRequest.get(a.request_id) ?? []), a]);
    const wrong: string[] = [];
    for (const [requestId, r] of ledger.audited) {
      const want = [
        {
          request_id: requestId,
          actor_id: r.actor,
          ...AUDITED_AS[r.kind],
          resource_id: r.resourceId,
          outcome: auditOutcome(r.kind, r.status),
        },
      ];
      const got = rowsByRequest.get(requestId) ?? [];
      if (!isDeepStrictEqual(got, want))
        wrong.push(`${r.kind} answered ${r.status}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    }
    const unexpected = [...rowsByRequest.keys()].filter((id) => !ledger.audited.has(id));
    console.log(`[load] ${ledger.audited.size} audited requests, ${wrong.length} with the wrong audit rows`);
    expect(wrong.slice(0, 3).join("\n"), `${wrong.length} of ${ledger.audited.size} audited requests have the wrong audit rows`).toBe("");
    expect(unexpected, "audit rows for requests that write none").toEqual([]);
  });
});
