/**
 * Writes that race for one row: every request gets its answer, none a 5xx.
 * Each update or delete locks its row in a CTE (`cur`) and takes the row
 * it writes from it, since Postgres runs a statement's CTEs in no promised
 * order. Two PATCHes of one doctor once deadlocked in the sync race test
 * (test/routes/sync-race.node.test.ts) when the UPDATE named the row by its
 * id instead, and the victim answered 500. Here many requests at once
 * update one doctor and one patient and delete the same patients and
 * mappings, through three workerd instances whose transactions wait 0–50 ms
 * before committing, so that locks are held while others queue (on
 * PostgreSQL; PGlite runs one transaction at a time). It did not reproduce
 * that deadlock in runs of 300 requests; a deadlock that still happened
 * would now answer 503, which fails it as well.
 */
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildBundle, startBundle } from "../../scripts/lib/bundle";

const INSTANCES = 3;
const JWT_SECRET = "row-lock-race-secret-0123456789abcdef012345";
const DATABASE_URL = `postgres://local:local@127.0.0.1/row-lock-race-${crypto.randomUUID()}`;

const endpoint = () => inject("neonLocalEndpoint");
const setFault = (mode: string) =>
  fetch(
    `${endpoint().replace(/\/sql$/, "/faults")}?connection=${encodeURIComponent(DATABASE_URL.replace(/^postgres:/, "postgresql:"))}&mode=${mode}`,
    { method: "POST" },
  );

describe("writes racing for one row", () => {
  let instances: Miniflare[] = [];
  let origins: string[] = [];

  beforeAll(async () => {
    const bundle = buildBundle();
    const bindings = { NEON_LOCAL_ENDPOINT: endpoint(), JWT_SECRET, ALLOWED_HOSTS: "*", DATABASE_URL };
    instances = Array.from({ length: INSTANCES }, () => startBundle(bundle.path, bindings));
    origins = await Promise.all(instances.map(async (mf) => (await mf.ready).origin));
  }, 120_000);

  afterAll(async () => {
    await setFault("none");
    await Promise.all(instances.map((mf) => mf.dispose()));
  });

  async function send(i: number, method: string, path: string, token?: string, body?: unknown) {
    const res = await fetch(`${origins[i % INSTANCES]}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  it("answers every request with no 5xx, and the row ends in one of the states written", { timeout: 120_000 }, async () => {
    expect((await setFault("none")).status).toBe(204);
    const email = `row-lock-race-${crypto.randomUUID()}@example.com`;
    const password = "a row lock race pass phrase";
    expect((await send(0, "POST", "/api/auth/register/", undefined, { name: "Racer", email, password })).status).toBe(201);
    const token = (await send(0, "POST", "/api/auth/login/", undefined, { email, password })).body.access as string;
    const doctor = (await send(0, "POST", "/api/doctors/", token, { name: "Dr Contended", specialization: "Locks" })).body.id as string;
    const patient = (await send(0, "POST", "/api/patients/", token, { name: "Contended", date_of_birth: "1990-01-01", gender: "other" }))
      .body.id as string;
    const doomed: string[] = [];
    const mappings: string[] = [];
    for (let n = 0; n < 4; n++) {
      const p = await send(n, "POST", "/api/patients/", token, { name: `Doomed ${n}`, date_of_birth: "1990-01-01", gender: "other" });
      doomed.push(p.body.id as string);
      const m = await send(n, "POST", "/api/mappings/", token, { patient_id: patient, doctor_id: doctor });
      if (m.status === 201) mappings.push(m.body.id as string);
    }
    expect((await setFault("slow-commit")).status).toBe(204);

    const ROUNDS = Number(process.env.ROW_LOCK_ROUNDS ?? 6);
    const requests: Promise<{ what: string; status: number }>[] = [];
    const tagged = (what: string, p: ReturnType<typeof send>) => p.then((r) => ({ what, status: r.status }));
    for (let i = 0; i < ROUNDS * INSTANCES; i++) {
      requests.push(
        tagged("PATCH doctor", send(i, "PATCH", `/api/doctors/${doctor}/`, token, { phone: `+1555000${String(i).padStart(4, "0")}` })),
      );
      requests.push(tagged("PATCH patient", send(i, "PATCH", `/api/patients/${patient}/`, token, { address: `Street ${i}` })));
      requests.push(tagged("DELETE patient", send(i, "DELETE", `/api/patients/${doomed[i % doomed.length]}/`, token)));
      if (mappings.length > 0)
        requests.push(tagged("DELETE mapping", send(i, "DELETE", `/api/mappings/${mappings[i % mappings.length]}/`, token)));
    }
    const answers = await Promise.all(requests);
    await setFault("none");

    const counts = new Map<string, number>();
    for (const a of answers) counts.set(`${a.what} ${a.status}`, (counts.get(`${a.what} ${a.status}`) ?? 0) + 1);
    console.log(`[row-lock-race] ${answers.length} requests at once: ${JSON.stringify(Object.fromEntries(counts))}`);
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    // Every update was a 200 and every delete of one row happened exactly once.
    expect(answers.filter((a) => a.what.startsWith("PATCH")).every((a) => a.status === 200)).toBe(true);
    for (const what of ["DELETE patient", "DELETE mapping"]) {
      expect(counts.get(`${what} 204`) ?? 0).toBe(what === "DELETE patient" ? doomed.length : mappings.length);
    }
    const phones = answers.filter((a) => a.what === "PATCH doctor").length;
    const final = await send(0, "GET", `/api/doctors/${doctor}/`, token);
    expect(final.status).toBe(200);
    expect(final.body.version).toBeUndefined();
    expect(String(final.body.phone)).toMatch(/^\+1555000\d{4}$/);
    expect(phones).toBe(ROUNDS * INSTANCES);
  });
});
