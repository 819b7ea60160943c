/**
 * Load without loss: many concurrent clients run a mixed workload (creates,
 * updates, deletes, racing mapping creates, refreshes) against the Worker
 * under `wrangler dev` for a fixed time; afterwards the database must hold
 * exactly what the successful answers said happened — no lost or phantom
 * writes, no duplicate pairs, one `success` audit row per successful
 * operation and none for the others — and no answer may be a 5xx.
 * LOAD_SECONDS sets the duration (short in `npm test`; longer by hand).
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startWorker } from "../scripts/lib/wrangler-dev";

const SECONDS = Number(process.env.LOAD_SECONDS ?? 8);
const USERS = 6;
const WORKERS_PER_USER = 3;
const PASSWORD = "a load test pass phrase";

interface Ledger {
  statuses: Map<number, number>;
  /** Request id → whether the answer was a 2xx, for audited requests. */
  audited: Map<string, boolean>;
  /** Patients created (201), with the highest version any answer showed and its name. */
  patients: Map<string, { owner: string; version: number; name: string; deleted: boolean }>;
  /** Mappings created (201): id → patient. */
  mappings: Map<string, string>;
  refreshes: number;
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
    const ledger: Ledger = { statuses: new Map(), audited: new Map(), patients: new Map(), mappings: new Map(), refreshes: 0 };
    const send = async (path: string, init: RequestInit & { audit?: boolean } = {}) => {
      const requestId = `load-${crypto.randomUUID()}`;
      const res = await fetch(`${origin}${path}`, {
        ...init,
        headers: { "Content-Type": "application/json", "X-Request-Id": requestId, ...init.headers },
      });
      ledger.statuses.set(res.status, (ledger.statuses.get(res.status) ?? 0) + 1);
      if (init.audit) ledger.audited.set(requestId, res.ok);
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {}, etag: res.headers.get("ETag") };
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
    const auth = (u: (typeof users)[number]) => ({ Authorization: `Bearer ${u.access}` });
    const doctors: string[] = [];
    for (let i = 0; i < 4; i++) {
      const d = await send("/api/doctors/", {
        method: "POST",
        headers: auth(users[0]),
        body: JSON.stringify({ name: `Dr Load ${i}`, specialization: "Load" }),
      });
      doctors.push(String(d.body.id));
    }

    const deadline = Date.now() + SECONDS * 1000;
    const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
    const worker = async (user: (typeof users)[number], refresher: boolean) => {
      let n = 0;
      while (Date.now() < deadline) {
        n++;
        const mine = [...ledger.patients.entries()].filter(([, p]) => p.owner === user.id && !p.deleted).map(([id]) => id);
        const roll = Math.random();
        if (refresher && n % 5 === 0) {
          // One refresher per user: refresh tokens are single-use, never refreshed in parallel.
          const r = await send("/api/auth/refresh/", { method: "POST", body: JSON.stringify({ refresh: user.refresh }) });
          expect(r.status, "a refresh by the token's only holder").toBe(200);
          user.refresh = String(r.body.refresh);
          user.access = String(r.body.access);
          ledger.refreshes++;
        } else if (roll < 0.35 || mine.length === 0) {
          const name = `P-${crypto.randomUUID()}`;
          const r = await send("/api/patients/", {
            method: "POST",
            audit: true,
            headers: auth(user),
            body: JSON.stringify({ name, date_of_birth: "1980-01-01", gender: "unknown" }),
          });
          if (r.status === 201) ledger.patients.set(String(r.body.id), { owner: user.id, version: 1, name, deleted: false });
        } else if (roll < 0.6) {
          const id = pick(mine);
          const name = `U-${crypto.randomUUID()}`;
          const r = await send(`/api/patients/${id}/`, {
            method: "PATCH",
            audit: true,
            headers: auth(user),
            body: JSON.stringify({ name }),
          });
          const p = ledger.patients.get(id);
          const version = Number(r.etag?.replaceAll('"', ""));
          if (r.status === 200 && p && version > p.version) Object.assign(p, { version, name });
        } else if (roll < 0.7) {
          const id = pick(mine);
          const r = await send(`/api/patients/${id}/`, { method: "DELETE", audit: true, headers: auth(user) });
          const p = ledger.patients.get(id);
          if (r.status === 204 && p) p.deleted = true;
        } else {
          // Racing mapping creates: the user's workers often pick the same pair.
          const patient = pick(mine.slice(0, 3));
          const r = await send("/api/mappings/", {
            method: "POST",
            audit: true,
            headers: auth(user),
            body: JSON.stringify({ patient_id: patient, doctor_id: pick(doctors) }),
          });
          if (r.status === 201) ledger.mappings.set(String(r.body.id), patient);
        }
      }
    };
    await Promise.all(users.flatMap((u) => Array.from({ length: WORKERS_PER_USER }, (_, i) => worker(u, i === 0))));

    const total = [...ledger.statuses.values()].reduce((a, b) => a + b, 0);
    console.log(`[load] ${total} requests in ${SECONDS} s by ${USERS * WORKERS_PER_USER} clients:`, Object.fromEntries(ledger.statuses));
    expect([...ledger.statuses.keys()].filter((s) => s >= 500)).toEqual([]);

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
    // Audit: a success row exactly for each audited request that succeeded, and one row for each audited request.
    const audit = (await db.query(
      "SELECT client_request_id AS request_id, outcome FROM audit_events WHERE actor_id = ANY($1::uuid[]) AND client_request_id LIKE 'load-%'",
      [`{${ids.join(",")}}`],
    )) as { request_id: string; outcome: string }[];
    const byRequest = new Map(audit.map((a) => [a.request_id, a.outcome]));
    expect(audit.length).toBe(ledger.audited.size);
    for (const [requestId, ok] of ledger.audited) expect(byRequest.get(requestId) === "success", requestId).toBe(ok);
    expect(ledger.refreshes).toBeGreaterThan(0);
  });
});
