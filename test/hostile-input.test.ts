/**
 * Hostile input, property-based (fast-check): generated bodies, query
 * strings, path ids and headers for the patient, doctor, mapping and auth
 * routes — wrong types, huge and empty strings, unicode edge cases (lone
 * surrogates, NUL, astral, combining), deep nesting, duplicate keys, numbers
 * as strings, `__proto__`/`constructor` keys. Invariants: never a 5xx; every
 * 4xx is problem+json; no answer carries another user's data; what is
 * stored comes back byte for byte. Seeded: FC_SEED=<n> reproduces a run.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { call, createPatient, jsonRequest, newUser, type TestUser } from "./helpers";

const SEED = Number(env.FC_SEED || 20261126);
const RUNS = 1000;
console.log(`[hostile input] fast-check seed ${SEED}, ${RUNS} runs per property`);

const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }), // any UTF-16 code unit: lone surrogates, NUL, controls
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\ud800",
    "\udfff",
    "a\u0301",
    "😀",
    "𝄞",
    "\u202e",
    "null",
    "0",
    "-1",
    "1e309",
    "NaN",
    "' OR 1=1 --",
    "%_\\",
  ),
  fc.integer({ min: 190, max: 12_000 }).map((n) => "x".repeat(n)),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);
const patientLike = fc.record(
  {
    name: hostileValue,
    date_of_birth: fc.oneof(
      hostileValue,
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
    ),
    gender: fc.oneof(hostileValue, fc.constantFrom("male", "female", "other", "unknown", " male ", "MALE")),
    phone: hostileValue,
    email: hostileValue,
    address: hostileValue,
    medical_history: hostileValue,
    ["__proto__"]: hostileValue,
    constructor: hostileValue,
    owner_id: hostileValue,
  },
  { requiredKeys: [] },
);
/** Raw JSON text that JSON.stringify would never write. */
const rawBody = fc.oneof(
  fc.integer({ min: 1, max: 20_000 }).map((depth) => `${"[".repeat(depth)}${"]".repeat(depth)}`),
  fc.integer({ min: 1, max: 5_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
  fc
    .tuple(hostileString, hostileString)
    .map(([a, b]) => `{"name":${JSON.stringify(a)},"name":${JSON.stringify(b)},"date_of_birth":"1990-01-01","gender":"male"}`),
  fc.constantFrom('{"__proto__":{"isAdmin":true},"name":"x"}', '{"constructor":{"prototype":{}}}', "{", "[1,", '"\\ud800"', "\u0000", ""),
  fc.string({ unit: "binary", maxLength: 200 }),
);
const header = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 200 });

let owner: TestUser;
let other: TestUser;
/** Strings only the other user's data contains: never to be seen in the owner's answers. */
let otherSecrets: string[];

beforeAll(async () => {
  [owner, other] = await Promise.all([newUser(), newUser()]);
  const secret = await createPatient(other, { name: `Secret ${crypto.randomUUID()}`, medical_history: `diagnosis ${crypto.randomUUID()}` });
  otherSecrets = [secret.body.id, String(secret.body.name), String(secret.body.medical_history)];
});

/** The invariants every answer must hold. */
async function check(res: Response) {
  expect(res.status, "never a 5xx").toBeLessThan(500);
  const text = await res.text();
  if (res.status >= 400) expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  for (const secret of otherSecrets) expect(text).not.toContain(secret);
  return text;
}

const params = { seed: SEED, numRuns: RUNS };

describe("hostile input", () => {
  it("POST /api/patients/ with generated bodies: 201 or 4xx, and what is stored comes back byte for byte", async () => {
    await fc.assert(
      fc.asyncProperty(patientLike, async (body) => {
        const res = await call("/api/patients/", jsonRequest("POST", body, owner.auth));
        const text = await check(res);
        if (res.status === 201) {
          const created = JSON.parse(text) as Record<string, unknown>;
          const read = JSON.parse(await check(await call(`/api/patients/${created.id}/`, { headers: owner.auth }))) as Record<
            string,
            unknown
          >;
          expect(read).toEqual(created);
          // The name was taken as sent, trimmed: nothing replaced, dropped or re-encoded.
          expect(created.name).toBe((body.name as string).trim());
        }
      }),
      params,
    );
  }, 120_000);

  it("any Unicode text in a well-formed patient is stored and read back byte for byte", async () => {
    const text = (max: number) => fc.string({ unit: "grapheme", minLength: 1, maxLength: max }).filter((t) => t.trim().length > 0);
    let stored = 0;
    await fc.assert(
      fc.asyncProperty(text(60), text(300), text(100), async (name, history, address) => {
        const body = { name, date_of_birth: "1990-01-02", gender: "other", medical_history: history, address };
        const res = await call("/api/patients/", jsonRequest("POST", body, owner.auth));
        const created = JSON.parse(await check(res)) as Record<string, unknown>;
        // Longer than allowed in code points is the one reason to refuse.
        if (res.status === 400) return expect(Object.keys(created.errors as object).length).toBeGreaterThan(0);
        expect(res.status).toBe(201);
        stored++;
        const read = JSON.parse(await check(await call(`/api/patients/${created.id}/`, { headers: owner.auth }))) as Record<
          string,
          unknown
        >;
        expect([read.name, read.medical_history, read.address]).toEqual([name.trim(), history.trim(), address.trim()]);
      }),
      params,
    );
    expect(stored).toBeGreaterThan(RUNS / 2);
  }, 120_000);

  it("raw bodies (deep nesting, duplicate keys, prototype keys, broken JSON) on every body-taking route", async () => {
    const routes: [string, string][] = [
      ["POST", "/api/patients/"],
      ["POST", "/api/doctors/"],
      ["POST", "/api/mappings/"],
      ["POST", "/api/auth/register/"],
      ["POST", "/api/auth/login/"],
      ["POST", "/api/auth/refresh/"],
    ];
    await fc.assert(
      fc.asyncProperty(rawBody, fc.constantFrom(...routes), async (body, [method, path]) => {
        await check(await call(path, { method, body, headers: { "Content-Type": "application/json", ...owner.auth } }));
      }),
      params,
    );
  }, 120_000);

  it("query strings on every list: 200 or 400", async () => {
    const lists = ["/api/patients/", "/api/doctors/", "/api/mappings/", "/api/audit/"];
    const names = fc.constantFrom(
      "limit",
      "offset",
      "ordering",
      "search",
      "specialization",
      "patient_id",
      "doctor_id",
      "since",
      "action",
      "x",
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lists), fc.array(fc.tuple(names, hostileString), { maxLength: 4 }), async (path, pairs) => {
        const query = pairs.map(([k, v]) => `${k}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, "?"))}`).join("&");
        const res = await call(`${path}?${query}`, { headers: owner.auth });
        await check(res);
        expect([200, 400, 403]).toContain(res.status);
      }),
      params,
    );
  }, 120_000);

  it("path ids and conditional headers on every id route: never a 5xx, never another user's data", async () => {
    const idRoutes = ["/api/patients/", "/api/doctors/", "/api/mappings/", "/api/mappings/patient/"];
    const id = fc.oneof(
      fc.uuid(),
      fc.constant(otherSecrets[0]),
      hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "?")) || "x"),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...idRoutes),
        id,
        fc.constantFrom("GET", "PUT", "PATCH", "DELETE"),
        header,
        header,
        async (base, raw, method, ifMatch, requestId) => {
          const headers = { ...owner.auth, "If-Match": ifMatch, "If-None-Match": ifMatch, "X-Request-Id": requestId };
          const init = method === "GET" || method === "DELETE" ? { method, headers } : jsonRequest(method, { name: "x" }, headers);
          const res = await call(`${base}${raw}/`, init);
          await check(res);
        },
      ),
      params,
    );
  }, 120_000);

  it("Authorization headers: 401 or success, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        const res = await call("/api/auth/me/", { headers: { Authorization: value } });
        await check(res);
        expect([200, 401]).toContain(res.status);
      }),
      params,
    );
  }, 120_000);
});
