/**
 * Idempotency keys under real concurrency (docs/BEHAVIOUR.md): the
 * deployable bundle in four workerd instances (Miniflare) on one database,
 * and ten identical requests with one Idempotency-Key sent to all of them at
 * once. However they interleave, the write happens once; every other answer
 * is the replay or a 409 — a racing DELETE too, which finds the row gone
 * under its lock and so knows a request raced it.
 * Read back through the API.
 */
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startBundleInstances } from "../../scripts/lib/bundle";

const INSTANCES = 4;
const REQUESTS = 10;

describe("Idempotency-Key across Worker instances", () => {
  let instances: Miniflare[] = [];
  let origins: string[] = [];
  let auth: Record<string, string>;

  beforeAll(async () => {
    ({ instances, origins } = await startBundleInstances(INSTANCES, {
      NEON_LOCAL_ENDPOINT: inject("neonLocalEndpoint"),
      DATABASE_URL: "postgres://local:local@127.0.0.1/main",
      JWT_SECRET: "idempotency-race-secret-0123456789abcdef012345",
      ALLOWED_HOSTS: "*",
    }));
    const email = `race-${crypto.randomUUID()}@example.com`;
    const password = "the right pass phrase";
    expect((await send(0, "POST", "/api/auth/register/", { name: "Race", email, password })).status).toBe(201);
    const tokens = (await (await send(1, "POST", "/api/auth/login/", { email, password })).json()) as { access: string };
    auth = { Authorization: `Bearer ${tokens.access}` };
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map((mf) => mf.dispose()));
  });

  function send(instance: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    return fetch(`${origins[instance % INSTANCES]}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { "Content-Type": "application/json" }), ...auth, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  const created = async (path: string, body: unknown) => {
    const res = await send(0, "POST", path, body);
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };

  /** Sends the request ten times at once over the instances with one key; returns the statuses, after checking there is one first run. */
  async function race(method: string, path: string, body: unknown, success: number, alsoAllowed: number[] = [409]) {
    const key = crypto.randomUUID();
    const results = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        send(i, method, path, body, { "Idempotency-Key": key }).then(async (res) => {
          await res.body?.cancel();
          return { status: res.status, replayed: res.headers.get("Idempotent-Replayed") === "true" };
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === success || alsoAllowed.includes(s)),
      statuses.join(","),
    ).toBe(true);
    expect(
      results.filter((r) => r.status === success && !r.replayed),
      "first runs",
    ).toHaveLength(1);
  }

  it(`creates one patient for ${REQUESTS} identical POSTs with one key over ${INSTANCES} instances`, { timeout: 60_000 }, async () => {
    const name = `Race ${crypto.randomUUID()}`;
    await race("POST", "/api/patients/", { name, date_of_birth: "1980-02-03", gender: "other" }, 201);
    const page = (await (await send(2, "GET", `/api/patients/?search=${encodeURIComponent(name)}`)).json()) as { count: number };
    expect(page.count).toBe(1);
  });

  it("updates a patient once for identical PATCHes with one key", { timeout: 60_000 }, async () => {
    const id = await created("/api/patients/", { name: "Race", date_of_birth: "1980-02-03", gender: "other" });
    await race("PATCH", `/api/patients/${id}/`, { name: "Raced" }, 200);
    // One write: the version (the ETag) went from 1 to 2, not further.
    expect((await send(3, "GET", `/api/patients/${id}/`)).headers.get("ETag")).toBe('"2"');
  });

  it("creates one mapping for identical POSTs with one key", { timeout: 60_000 }, async () => {
    const patient = await created("/api/patients/", { name: "Race", date_of_birth: "1980-02-03", gender: "other" });
    const doctor = await created("/api/doctors/", { name: "Dr Race", specialization: "Racing" });
    await race("POST", "/api/mappings/", { patient_id: patient, doctor_id: doctor }, 201);
    const page = (await (await send(1, "GET", `/api/mappings/?patient_id=${patient}`)).json()) as { count: number };
    expect(page.count).toBe(1);
  });

  it("deletes a doctor once for identical DELETEs with one key: the others get 409 or the replay, never 404", {
    timeout: 60_000,
  }, async () => {
    const doctor = await created("/api/doctors/", { name: "Dr Race", specialization: "Racing" });
    await race("DELETE", `/api/doctors/${doctor}/`, undefined, 204);
    expect((await send(2, "GET", `/api/doctors/${doctor}/`)).status).toBe(404);
  });

  it("deletes a patient once for identical DELETEs with one key: the others get 409 or the replay, never 404", {
    timeout: 60_000,
  }, async () => {
    const id = await created("/api/patients/", { name: "Race", date_of_birth: "1980-02-03", gender: "other" });
    await race("DELETE", `/api/patients/${id}/`, undefined, 204);
    expect((await send(2, "GET", `/api/patients/${id}/`)).status).toBe(404);
  });

  it("deletes a mapping once for identical DELETEs with one key: the others get 409 or the replay, never 404", {
    timeout: 60_000,
  }, async () => {
    const patient = await created("/api/patients/", { name: "Race", date_of_birth: "1980-02-03", gender: "other" });
    const doctor = await created("/api/doctors/", { name: "Dr Race", specialization: "Racing" });
    const mapping = await created("/api/mappings/", { patient_id: patient, doctor_id: doctor });
    await race("DELETE", `/api/mappings/${mapping}/`, undefined, 204);
    expect((await send(2, "GET", `/api/mappings/${mapping}/`)).status).toBe(404);
  });
});
