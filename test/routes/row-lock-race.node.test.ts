/**
 * Writes that race for one row: every request gets its answer, none a 5xx,
 * every update a 200 and every delete exactly one 204. Each update or
 * delete locks its row in a CTE (`cur`) and takes the row it writes from
 * it, since Postgres runs a statement's CTEs in no promised order: a doctor
 * update rearranged to write first and lock after answers 404 here to every
 * racing PATCH (the locking read skips the row its own statement changed).
 * Many requests at once update one doctor and one patient and delete the
 * same patients and mappings, through three workerd instances whose
 * transactions wait 0–50 ms before committing, so that locks are held while
 * others queue (on PostgreSQL; PGlite runs one transaction at a time). A
 * deadlock, which the sync race test met once, would answer 503 and fail
 * it too; this test has not reproduced one.
 */
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildBundle, startBundle } from "../../scripts/lib/bundle";
import { send, setFault } from "../instances";

const INSTANCES = 3;
const JWT_SECRET = "row-lock-race-secret-0123456789abcdef012345";
const DATABASE_URL = `postgres://local:local@127.0.0.1/row-lock-race-${crypto.randomUUID()}`;

const endpoint = () => inject("neonLocalEndpoint");

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
    await setFault(endpoint(), DATABASE_URL, "none");
    await Promise.all(instances.map((mf) => mf.dispose()));
  });

  /** Request `i` goes to instance `i mod INSTANCES`. */
  const sendTo = (i: number, method: string, path: string, token?: string, body?: unknown) =>
    send(origins[i % INSTANCES], method, path, token, body);

  it("answers every request with no 5xx, and the row ends in one of the states written", { timeout: 120_000 }, async () => {
    expect((await setFault(endpoint(), DATABASE_URL, "none")).status).toBe(204);
    const email = `row-lock-race-${crypto.randomUUID()}@example.com`;
    const password = "a row lock race pass phrase";
    expect((await sendTo(0, "POST", "/api/auth/register/", undefined, { name: "Racer", email, password })).status).toBe(201);
    const token = (await sendTo(0, "POST", "/api/auth/login/", undefined, { email, password })).body.access as string;
    const doctor = (await sendTo(0, "POST", "/api/doctors/", token, { name: "Dr Contended", specialization: "Locks" })).body.id as string;
    const patient = (await sendTo(0, "POST", "/api/patients/", token, { name: "Contended", date_of_birth: "1990-01-01", gender: "other" }))
      .body.id as string;
    const doomed: string[] = [];
    const mappings: string[] = [];
    for (let n = 0; n < 4; n++) {
      const p = await sendTo(n, "POST", "/api/patients/", token, { name: `Doomed ${n}`, date_of_birth: "1990-01-01", gender: "other" });
      doomed.push(p.body.id as string);
      const m = await sendTo(n, "POST", "/api/mappings/", token, { patient_id: patient, doctor_id: doctor });
      if (m.status === 201) mappings.push(m.body.id as string);
    }
    expect((await setFault(endpoint(), DATABASE_URL, "slow-commit")).status).toBe(204);

    const ROUNDS = Number(process.env.ROW_LOCK_ROUNDS ?? 6);
    const requests: Promise<{ what: string; status: number }>[] = [];
    const tagged = (what: string, p: ReturnType<typeof sendTo>) => p.then((r) => ({ what, status: r.status }));
    const phonesSent: string[] = [];
    const addressesSent: string[] = [];
    for (let i = 0; i < ROUNDS * INSTANCES; i++) {
      phonesSent.push(`+1555000${String(i).padStart(4, "0")}`);
      addressesSent.push(`Street ${i}`);
      requests.push(tagged("PATCH doctor", sendTo(i, "PATCH", `/api/doctors/${doctor}/`, token, { phone: phonesSent[i] })));
      requests.push(tagged("PATCH patient", sendTo(i, "PATCH", `/api/patients/${patient}/`, token, { address: addressesSent[i] })));
      requests.push(tagged("DELETE patient", sendTo(i, "DELETE", `/api/patients/${doomed[i % doomed.length]}/`, token)));
      if (mappings.length > 0)
        requests.push(tagged("DELETE mapping", sendTo(i, "DELETE", `/api/mappings/${mappings[i % mappings.length]}/`, token)));
    }
    const answers = await Promise.all(requests);
    await setFault(endpoint(), DATABASE_URL, "none");

    const counts = new Map<string, number>();
    for (const a of answers) counts.set(`${a.what} ${a.status}`, (counts.get(`${a.what} ${a.status}`) ?? 0) + 1);
    console.log(`[row-lock-race] ${answers.length} requests at once: ${JSON.stringify(Object.fromEntries(counts))}`);
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    // Every update was a 200 and every delete of one row happened exactly once.
    expect(answers.filter((a) => a.what.startsWith("PATCH")).every((a) => a.status === 200)).toBe(true);
    for (const what of ["DELETE patient", "DELETE mapping"]) {
      expect(counts.get(`${what} 204`) ?? 0).toBe(what === "DELETE patient" ? doomed.length : mappings.length);
    }
    // The doctor and the patient end as one of the racing PATCHes left them.
    const final = await sendTo(0, "GET", `/api/doctors/${doctor}/`, token);
    expect(final.status).toBe(200);
    expect(final.body.version).toBeUndefined();
    expect(phonesSent).toContain(final.body.phone);
    expect(addressesSent).toContain((await sendTo(0, "GET", `/api/patients/${patient}/`, token)).body.address);
  });
});
