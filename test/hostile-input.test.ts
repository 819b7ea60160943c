/**
 * Hostile input, property-based (fast-check). Each property starts from a
 * VALID request and changes one part of it — one field's value, one header,
 * one query parameter, the path id — and asserts the exact outcome an
 * independent oracle (the rules of the README, re-stated here) predicts:
 * 2xx exactly when the value can be stored, and then the stored value read
 * back byte for byte; otherwise a 400 whose `errors` name that field and
 * nothing else. Beside them, fixed cases for the edges (lone surrogates,
 * astral characters, combining marks, NUL, huge numbers in If-Match), and
 * invariants that hold for every answer: never a 5xx, problem+json for
 * every error, never another user's data.
 *
 * Each property prints how many generated requests reached the database
 * and fails when fewer than a third did: a generator that only produces
 * requests the validator refuses tests nothing behind it.
 * Seeded: FC_SEED=<n> reproduces a run.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  call,
  createDoctor,
  createMapping,
  createPatient,
  cursorOf,
  jsonRequest,
  makeAdmin,
  makeCursor,
  newUser,
  type TestUser,
} from "./helpers";

const SEED = Number(env.FC_SEED || 20261126);
const RUNS = 600;
console.log(`[hostile input] fast-check seed ${SEED}, ${RUNS} runs per property`);
const params = { seed: SEED, numRuns: RUNS };

// ---------------------------------------------------------------------------
// The oracle: the string and field rules, written out independently of src/.

/** Unicode text: no lone surrogate. */
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const codePointCount = (s: string) => [...s].length;
const storableText = (s: string) => wellFormed(s) && !s.includes("\u0000");
const today = () => new Date().toISOString().slice(0, 10);

/** What a field does with a value: stored as `stored`, or refused. */
type Verdict = { ok: true; stored: unknown } | { ok: false };
const refuse: Verdict = { ok: false };
const store = (stored: unknown): Verdict => ({ ok: true, stored });

const requiredText =
  (max: number) =>
  (v: unknown): Verdict => {
    if (typeof v !== "string" || !storableText(v)) return refuse;
    const t = v.trim();
    return t.length > 0 && codePointCount(t) <= max ? store(t) : refuse;
  };
/** Optional fields: null, or blank after trimming, is stored as null. */
const optional =
  (rule: (t: string) => boolean, normalise: (t: string) => string = (t) => t) =>
  (v: unknown): Verdict => {
    if (v === null) return store(null);
    if (typeof v !== "string" || !storableText(v)) return refuse;
    const t = normalise(v.trim());
    if (t === "") return store(null);
    return rule(t) ? store(t) : refuse;
  };
const optionalText = (max: number) => optional((t) => codePointCount(t) <= max);
const PHONE = /^[0-9 +()-]{7,32}$/;
const isCalendarDate = (s: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const [y, m, d] = s.split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
};

const PATIENT_RULES: Record<string, (v: unknown) => Verdict> = {
  name: requiredText(200),
  date_of_birth: (v) => {
    if (typeof v !== "string") return refuse;
    const t = v.trim();
    return isCalendarDate(t) && t >= "1900-01-01" && t <= today() ? store(t) : refuse;
  },
  gender: (v) => {
    if (typeof v !== "string") return refuse;
    const t = v.trim();
    return ["male", "female", "other", "unknown"].includes(t) ? store(t) : refuse;
  },
  phone: optional((t) => PHONE.test(t)),
  // The email generators below only make addresses that are clearly valid or clearly not (no "@").
  email: optional(
    (t) => t.includes("@"),
    (t) => t.toLowerCase(),
  ),
  address: optionalText(500),
  medical_history: optionalText(10_000),
};
const REQUIRED = ["name", "date_of_birth", "gender"];

const BASE_PATIENT = {
  name: "Base Patient",
  date_of_birth: "1980-02-03",
  gender: "female",
  phone: "+44 20 7946 0000",
  email: "base@example.com",
  address: "1 Base Street",
  medical_history: "Nothing of note",
} as const;

// ---------------------------------------------------------------------------
// Generators: for each field, values that are valid by construction, values
// that are hostile, and values of the wrong type.

const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }), // any UTF-16 code unit: lone surrogates, NUL, controls
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("", " ", "\u0000", "a\u0000b", "\ud800", "a\udfffb", "a\u0301", "😀", "𝄞", "\u202e", "null", "' OR 1=1 --", "%_\\"),
  fc.integer({ min: 190, max: 12_000 }).map((n) => "x".repeat(n)),
);
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
);
const padded = (s: fc.Arbitrary<string>) =>
  fc.tuple(fc.constantFrom("", " ", "\t", "\u00a0 "), s, fc.constantFrom("", " ", "\n", "\u3000")).map(([a, b, c]) => a + b + c);
/** Any Unicode text, astral and combining characters included, of 1..max code points. */
const unicodeText = (max: number) =>
  fc
    .oneof(
      fc.string({ unit: "grapheme", minLength: 1, maxLength: max }),
      fc.string({ unit: "grapheme-composite", minLength: 1, maxLength: max }),
      fc.string({ unit: "binary", minLength: 1, maxLength: max }),
    )
    .filter((t) => t.trim().length > 0 && storableText(t));
const textAround = (max: number) =>
  fc.oneof(
    { weight: 5, arbitrary: padded(fc.string({ unit: "grapheme", minLength: 1, maxLength: Math.min(max, 60) })) },
    // Right at the limit, in astral characters (two UTF-16 units each): max is fine, max + 1 is not.
    { weight: 1, arbitrary: fc.constantFrom("😀".repeat(max), "😀".repeat(max + 1), "e\u0301".repeat(Math.floor(max / 2))) },
  );
const validDate = fc
  .date({ min: new Date("1900-01-01T00:00:00Z"), max: new Date(), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const emailValue = fc.oneof(
  fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9._]{1,20}$/), fc.stringMatching(/^[A-Za-z0-9]{1,15}$/))
    .filter(([local]) => !local.startsWith(".") && !local.endsWith(".") && !local.includes(".."))
    .map(([local, domain]) => `${local}@${domain}.example`),
  hostileString.filter((s) => !s.includes("@")),
);

const FIELD_VALUES: Record<string, fc.Arbitrary<unknown>> = {
  name: textAround(200),
  date_of_birth: fc.oneof(
    { weight: 4, arbitrary: padded(validDate) },
    { weight: 1, arbitrary: fc.constantFrom("1899-12-31", "2999-01-01", "2001-02-29", "2000-02-29", "1990-13-01", "1990-1-1", "19900101") },
  ),
  gender: fc.constantFrom("male", "female", "other", "unknown", " male ", "MALE", "Female", "x"),
  phone: fc.oneof(fc.stringMatching(/^[0-9 +()-]{7,32}$/), fc.stringMatching(/^[0-9a-z+]{5,40}$/)),
  email: emailValue,
  address: textAround(500),
  medical_history: fc.oneof(textAround(10_000), unicodeText(300)),
};
/** One field, and the value it gets: mostly its own kind of value, sometimes hostile, sometimes the wrong type or null. */
const mutation = fc.constantFrom(...Object.keys(FIELD_VALUES)).chain((field) =>
  fc.tuple(
    fc.constant(field),
    fc.oneof(
      { weight: 6, arbitrary: FIELD_VALUES[field] },
      // A string without "@" is never an email address: the oracle needs no email grammar.
      { weight: 2, arbitrary: field === "email" ? hostileString.filter((s) => !s.includes("@")) : hostileString },
      { weight: 1, arbitrary: wrongType },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
  ),
);

// ---------------------------------------------------------------------------

let owner: TestUser;
let other: TestUser;
/** Strings only the other user's data contains: never to be seen in the owner's answers. */
let otherSecrets: string[];
let otherPatientId: string;

/** Requests per property that got past validation to the database, and in all. */
const reached: Record<string, { reached: number; sent: number }> = {};
function tally(property: string, didReach: boolean) {
  reached[property] ??= { reached: 0, sent: 0 };
  reached[property].sent++;
  if (didReach) reached[property].reached++;
}
function expectEnoughReached(property: string) {
  const { reached: n, sent } = reached[property];
  console.log(`[hostile input] ${property}: ${n} of ${sent} generated requests reached the database (${Math.round((100 * n) / sent)} %)`);
  expect(n, `${property}: share of generated requests that reached the database`).toBeGreaterThanOrEqual(sent / 3);
}

beforeAll(async () => {
  [owner, other] = await Promise.all([newUser(), newUser()]);
  const secret = await createPatient(other, { name: `Secret ${crypto.randomUUID()}`, medical_history: `diagnosis ${crypto.randomUUID()}` });
  otherPatientId = secret.body.id;
  otherSecrets = [secret.body.id, String(secret.body.name), String(secret.body.medical_history)];
});
afterAll(() => {
  console.log("[hostile input] reached the database:", JSON.stringify(reached));
});

/** The invariants every answer must hold; returns the body text. */
async function check(res: Response) {
  expect(res.status, "never a 5xx").toBeLessThan(500);
  const text = await res.text();
  if (res.status >= 400) expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  for (const secret of otherSecrets) expect(text).not.toContain(secret);
  return text;
}

type Json = Record<string, unknown>;
/**
 * A value for an assertion message, cut at `max` code points: JSON escapes a
 * lone surrogate and cutting by code point never splits a pair, so the
 * message stays valid UTF-8 (the pool's connection to workerd drops on
 * anything else, and with it the rest of the file).
 */
const label = (value: unknown, max = 80) => [...(JSON.stringify(value) ?? String(value))].slice(0, max).join("");
const readPatient = async (id: string) => JSON.parse(await check(await call(`/api/patients/${id}/`, { headers: owner.auth }))) as Json;
const fieldsOf = (p: Json) => Object.fromEntries(Object.keys(PATIENT_RULES).map((k) => [k, p[k]]));

/** Asserts a 400 whose errors name exactly `field`. */
function expectRefusedNaming(status: number, text: string, field: string, what: string) {
  expect(status, what).toBe(400);
  expect(Object.keys((JSON.parse(text) as { errors?: Json }).errors ?? {}), what).toEqual([field]);
}

describe("hostile input, one change to a valid request", () => {
  it("patient bodies (POST, PUT, PATCH): stored exactly when the oracle says so and read back byte for byte; otherwise 400 naming the field", async () => {
    const target = (await createPatient(owner, BASE_PATIENT)).body.id;
    let current = fieldsOf(await readPatient(target));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("POST", "PUT", "PATCH"), mutation, async (method, [field, value]) => {
        const body = method === "PATCH" ? { [field]: value } : { ...BASE_PATIENT, [field]: value };
        const path = method === "POST" ? "/api/patients/" : `/api/patients/${target}/`;
        const res = await call(path, jsonRequest(method, body, owner.auth));
        const text = await check(res);
        const verdict = PATIENT_RULES[field](value);
        const what = `${method} ${field}=${label(value)}`;
        tally("patient bodies", verdict.ok);
        if (!verdict.ok) return expectRefusedNaming(res.status, text, field, what);

        expect(res.status, what).toBe(method === "POST" ? 201 : 200);
        const answered = JSON.parse(text) as Json;
        const stored = await readPatient(String(answered.id));
        const before = method === "POST" ? fieldsOf({ ...BASE_PATIENT }) : method === "PUT" ? fieldsOf({ ...BASE_PATIENT }) : current;
        // PUT and POST normalise the base's own values too; the base is already normal.
        expect(fieldsOf(stored), what).toEqual({ ...before, [field]: verdict.stored });
        expect(fieldsOf(answered), what).toEqual(fieldsOf(stored));
        if (method !== "POST") current = fieldsOf(stored);
      }),
      params,
    );
    expectEnoughReached("patient bodies");
  }, 300_000);

  it("a missing field, an unknown field or a read-only field: 400 naming it (PATCH may omit anything)", async () => {
    const target = (await createPatient(owner, BASE_PATIENT)).body.id;
    const extra = fc.constantFrom("owner_id", "id", "created_at", "version", "__proto__", "constructor", "is_admin", "Name", "name ");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("POST", "PUT", "PATCH"),
        fc.oneof(
          fc.constantFrom(...Object.keys(PATIENT_RULES)).map((f) => ({ drop: f })),
          fc.tuple(extra, fc.oneof(hostileString, wrongType)).map(([f, v]) => ({ add: f, value: v })),
        ),
        async (method, change) => {
          const raw: Json = { ...BASE_PATIENT };
          if ("drop" in change) delete raw[change.drop];
          // Built as text so that "__proto__" is an own key of the JSON, as a client could send it.
          const json =
            "add" in change
              ? `${JSON.stringify(raw).slice(0, -1)},${JSON.stringify(change.add)}:${JSON.stringify(change.value)}}`
              : JSON.stringify(raw);
          const path = method === "POST" ? "/api/patients/" : `/api/patients/${target}/`;
          const res = await call(path, jsonRequest(method, json, owner.auth));
          const text = await check(res);
          const expectedOk = "drop" in change && (method === "PATCH" || !REQUIRED.includes(change.drop));
          tally("missing and extra fields", expectedOk);
          if (!expectedOk)
            return expectRefusedNaming(res.status, text, "drop" in change ? change.drop : change.add, `${method} ${label(json)}`);
          expect(res.status).toBe(method === "POST" ? 201 : 200);
          const stored = await readPatient(String((JSON.parse(text) as Json).id));
          // POST and PUT store an omitted optional field as null; PATCH leaves it alone.
          if ("drop" in change)
            expect(stored[change.drop]).toEqual(method === "PATCH" ? BASE_PATIENT[change.drop as keyof typeof BASE_PATIENT] : null);
          // Put the target back for the next run.
          if (method !== "POST")
            expect((await call(`/api/patients/${target}/`, jsonRequest("PUT", BASE_PATIENT, owner.auth))).status).toBe(200);
        },
      ),
      { ...params, numRuns: Math.ceil(RUNS / 3) },
    );
  }, 300_000);

  it("If-Match on a PUT and If-None-Match on a GET: 200/412 and 200/304 exactly as the tag rules say", async () => {
    const target = (await createPatient(owner, BASE_PATIENT)).body.id;
    let version = 1;
    const tag = fc.oneof(
      fc.constant("CURRENT"),
      fc.constantFrom("*", '"1"', '"2"', '"01"', '"99999999999"', '"4294967297"', '"-1"', '"1.0"', "1", "WEAK", '""', '"', ""),
      fc.bigInt({ min: 0n, max: 10n ** 30n }).map((n) => `"${n}"`),
      fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }),
    );
    const tagList = fc
      .array(tag, { minLength: 1, maxLength: 3 })
      .chain((tags) => fc.constantFrom(", ", ",", " , ").map((sep) => tags.join(sep)));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("If-Match", "If-None-Match"), tagList, async (header, template) => {
        const value = template.replaceAll("CURRENT", `"${version}"`).replaceAll("WEAK", `W/"${version}"`);
        const tags = value
          .trim()
          .split(",")
          .map((t) => t.trim())
          .filter(Boolean);
        const current = `"${version}"`;
        if (header === "If-Match") {
          const matches = tags.includes("*") || tags.includes(current);
          const res = await call(
            `/api/patients/${target}/`,
            jsonRequest("PUT", { ...BASE_PATIENT, phone: null }, { ...owner.auth, "If-Match": value }),
          );
          await check(res);
          tally("conditional headers", true);
          expect(res.status, `If-Match: ${value} against ${current}`).toBe(matches ? 200 : 412);
          if (matches) version++;
        } else {
          const matches = tags.some((t) => t === "*" || t.replace(/^W\//, "") === current);
          const res = await call(`/api/patients/${target}/`, { headers: { ...owner.auth, "If-None-Match": value } });
          await check(res);
          tally("conditional headers", true);
          expect(res.status, `If-None-Match: ${value} against ${current}`).toBe(matches ? 304 : 200);
        }
      }),
      params,
    );
    expectEnoughReached("conditional headers");
  }, 300_000);

  it("the Authorization header: 200 exactly for the unchanged token, 401 for any change to it", async () => {
    const token = owner.tokens.access;
    const change = fc.oneof(
      fc.constant({ kind: "none" as const }),
      // The signature's last character included: its low bits are padding, which a lax decoder ignores.
      fc.integer({ min: 0, max: token.length - 1 }).chain((at) =>
        fc
          .constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
          .filter((ch) => ch !== token[at])
          .map((ch) => ({ kind: "replace" as const, at, ch })),
      ),
      fc.integer({ min: 0, max: token.length - 1 }).map((at) => ({ kind: "truncate" as const, at })),
      // Trailing whitespace is not part of a header value: a tail that ends in it is another test.
      fc
        .string({ minLength: 1, maxLength: 10 })
        .filter((tail) => tail.trimEnd() === tail)
        .map((tail) => ({ kind: "append" as const, tail })),
    );
    await fc.assert(
      fc.asyncProperty(change, async (c) => {
        const changed =
          c.kind === "none"
            ? token
            : c.kind === "replace"
              ? token.slice(0, c.at) + c.ch + token.slice(c.at + 1)
              : c.kind === "truncate"
                ? token.slice(0, c.at)
                : token + c.tail;
        const res = await call("/api/auth/me/", { headers: { Authorization: `Bearer ${changed}` } });
        const text = await check(res);
        tally("authorization", c.kind === "none");
        expect(res.status, `${c.kind}: ${changed}`).toBe(c.kind === "none" ? 200 : 401);
        if (c.kind === "none") expect((JSON.parse(text) as Json).id).toBe(owner.id);
      }),
      params,
    );
    // A changed token is refused before the database, by design: this property's share is not a test of reach.
    console.log(`[hostile input] authorization: ${reached.authorization.reached} of ${reached.authorization.sent} unchanged`);
  }, 300_000);

  it("path ids: the owner's own id (in any letter case) is 200, any change to it or another user's id is 404", async () => {
    const own = (await createPatient(owner)).body.id;
    const mutateId = fc.oneof(
      { weight: 3, arbitrary: fc.constant({ id: own, mine: true }) },
      { weight: 1, arbitrary: fc.constant({ id: own.toUpperCase(), mine: true }) },
      { weight: 1, arbitrary: fc.constant({ id: otherPatientId, mine: false }) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.integer({ min: 0, max: own.length - 1 }), fc.constantFrom(..."0123456789abcdef"))
          .filter(([at, ch]) => own[at] !== "-" && own[at] !== ch)
          .map(([at, ch]) => ({ id: own.slice(0, at) + ch + own.slice(at + 1), mine: false })),
      },
      { weight: 1, arbitrary: fc.integer({ min: 1, max: own.length - 1 }).map((at) => ({ id: own.slice(0, at), mine: false })) },
      {
        weight: 1,
        arbitrary: hostileString.map((s) => ({ id: encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "?")) || "x", mine: false })),
      },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/api/patients/", "/api/mappings/patient/"), mutateId, async (base, { id, mine }) => {
        const res = await call(`${base}${id}/`, { headers: owner.auth });
        await check(res);
        tally("path ids", /^[0-9a-f-]{36}$/i.test(id));
        expect(res.status, `${base}${id}/`).toBe(mine ? 200 : 404);
      }),
      params,
    );
    expectEnoughReached("path ids");
  }, 300_000);

  it("one query parameter on each list: 200 when valid, otherwise 400 naming it (audit: 403 for a non-administrator after validation)", async () => {
    // A real cursor of each list (default order, no filter), from a second page: each list needs two rows.
    const admin = await newUser();
    await makeAdmin(admin);
    const doctor = (await createDoctor(owner)).body.id;
    await createDoctor(owner);
    for (let i = 0; i < 2; i++) await createMapping(owner, (await createPatient(owner)).body.id, doctor);
    const cursorFor = async (list: string, who: TestUser) =>
      cursorOf(((await (await call(`${list}?limit=1&cursor=`, { headers: who.auth })).json()) as { next: string | null }).next);
    const cursors: Record<string, string> = {
      "/api/patients/": await cursorFor("/api/patients/", owner),
      "/api/doctors/": await cursorFor("/api/doctors/", owner),
      "/api/mappings/": await cursorFor("/api/mappings/", owner),
      "/api/audit/": await cursorFor("/api/audit/", admin),
    };
    // Valid: empty (the first page), or the list's own cursor; another list's, or anything else, is a 400.
    const cursor = (list: string) => (v: string) => v === "" || v === cursors[list];
    const lists: Record<string, Record<string, (v: string) => boolean>> = {
      "/api/patients/": {
        cursor: cursor("/api/patients/"),
        limit: (v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 100,
        offset: (v) => /^\d+$/.test(v) && Number(v) <= 1_000_000_000,
        ordering: (v) => ["name", "date_of_birth", "created_at", "updated_at"].includes(v.replace(/^-/, "")),
        search: (v) => codePointCount(v) <= 200 && storableText(v),
      },
      "/api/doctors/": {
        cursor: cursor("/api/doctors/"),
        limit: (v) => /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 100,
        search: (v) => codePointCount(v) <= 200 && storableText(v),
        specialization: (v) => codePointCount(v) <= 100 && storableText(v),
      },
      "/api/mappings/": {
        cursor: cursor("/api/mappings/"),
        patient_id: (v) => UUID.test(v),
        doctor_id: (v) => UUID.test(v),
        ordering: (v) => v === "created_at" || v === "-created_at",
      },
      // The owner is no administrator: a valid query is refused with 403, after validation (400 first).
      "/api/audit/": {
        cursor: cursor("/api/audit/"),
        actor_id: (v) => UUID.test(v),
        offset: (v) => /^\d+$/.test(v) && Number(v) <= 1_000_000_000,
      },
    };
    const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const value = fc.oneof(
      fc.constantFrom(
        "0",
        "1",
        "20",
        "100",
        "101",
        "-1",
        "1e2",
        " 5",
        "00",
        "name",
        "-name",
        "--name",
        "date_of_birth",
        "-created_at",
        "id",
      ),
      fc.integer({ min: 0, max: 2_000_000_000 }).map(String),
      fc.string({ unit: "grapheme", maxLength: 30 }),
      fc.constantFrom("😀".repeat(100), "😀".repeat(101), "😀".repeat(200), "😀".repeat(201), "a\u0000b"),
      fc.uuid().chain((id) => fc.constantFrom(id, id.toUpperCase(), id.slice(1), `${id}0`, ` ${id}`)),
      // Cursors cut short, and made of JSON that is not a cursor's.
      fc.constantFrom(...Object.values(cursors)).chain((c) => fc.integer({ min: 1, max: c.length - 1 }).map((n) => c.slice(0, n))),
      fc.jsonValue().map(makeCursor),
    );
    /** Values each parameter takes, so that a fair share of requests is valid and reaches the database. */
    const own: Record<string, fc.Arbitrary<string>> = {
      limit: fc.integer({ min: 1, max: 100 }).map(String),
      offset: fc.integer({ min: 0, max: 1_000 }).map(String),
      ordering: fc.constantFrom("name", "-name", "date_of_birth", "-updated_at", "created_at", "-created_at"),
      search: fc.string({ unit: "grapheme", maxLength: 30 }),
      specialization: fc.string({ unit: "grapheme", maxLength: 30 }),
      patient_id: fc.uuid(),
      doctor_id: fc.uuid(),
      actor_id: fc.uuid(),
      cursor: fc.constantFrom("", ...Object.values(cursors)),
    };
    const pick = fc
      .constantFrom(...Object.keys(lists))
      .chain((list) =>
        fc
          .constantFrom(...Object.keys(lists[list]))
          .chain((name) => fc.tuple(fc.constant(list), fc.constant(name), fc.oneof(own[name], value))),
      );
    await fc.assert(
      fc.asyncProperty(pick, async ([list, name, v]) => {
        const res = await call(`${list}?${new URLSearchParams({ [name]: v })}`, { headers: owner.auth });
        const text = await check(res);
        const valid = lists[list][name](v);
        tally("query parameters", valid);
        if (!valid) return expectRefusedNaming(res.status, text, name, `${list}?${name}=${label(v, 40)}`);
        expect(res.status, `${list}?${name}=${label(v, 40)}`).toBe(list === "/api/audit/" ? 403 : 200);
      }),
      params,
    );
    expectEnoughReached("query parameters");
  }, 300_000);
});

describe("hostile input: raw bodies and fixed edge cases", () => {
  /** Raw JSON text that JSON.stringify would never write. */
  const rawBody = fc.oneof(
    fc.integer({ min: 1, max: 20_000 }).map((depth) => `${"[".repeat(depth)}${"]".repeat(depth)}`),
    fc.integer({ min: 1, max: 5_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`),
    fc.constantFrom('{"__proto__":{"isAdmin":true},"name":"x"}', '{"constructor":{"prototype":{}}}', "{", "[1,", '"\\ud800"', "\u0000", ""),
    fc.string({ unit: "binary", maxLength: 200 }),
  );

  it("raw bodies (deep nesting, prototype keys, broken JSON) on every body-taking route: a 400, never a 5xx", async () => {
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
        const res = await call(path, { method, body, headers: { "Content-Type": "application/json", ...owner.auth } });
        await check(res);
        expect(res.status).toBe(400);
      }),
      { ...params, numRuns: Math.ceil(RUNS / 3) },
    );
  }, 120_000);

  it("duplicate keys: the last one wins, as JSON.parse does", async () => {
    const res = await call(
      "/api/patients/",
      jsonRequest("POST", '{"name":"First","name":"Last","date_of_birth":"1990-01-01","gender":"male"}', owner.auth),
    );
    expect(res.status).toBe(201);
    expect(((await res.json()) as Json).name).toBe("Last");
  });

  const cases: [string, unknown, Verdict][] = [
    ["a lone high surrogate", "a\ud800b", refuse],
    ["a lone low surrogate", "a\udfffb", refuse],
    ["a reversed surrogate pair", "\udc00\ud800", refuse],
    ["NUL", "a\u0000b", refuse],
    ["an astral character", "𝄞 😀", store("𝄞 😀")],
    ["a combining mark, not normalised", "Jose\u0301", store("Jose\u0301")],
    ["a precomposed letter, not decomposed", "Jos\u00e9", store("Jos\u00e9")],
    ["a right-to-left override", "\u202eabc", store("\u202eabc")],
    ["200 astral characters (400 UTF-16 units)", "😀".repeat(200), store("😀".repeat(200))],
    ["201 astral characters", "😀".repeat(201), refuse],
  ];
  it.each(cases)("a patient name with %s", async (_, name, verdict) => {
    const res = await call("/api/patients/", jsonRequest("POST", { ...BASE_PATIENT, name }, owner.auth));
    const text = await check(res);
    if (!verdict.ok) return expectRefusedNaming(res.status, text, "name", label(name));
    expect(res.status).toBe(201);
    const stored = await readPatient(String((JSON.parse(text) as Json).id));
    expect(stored.name).toBe(verdict.stored);
    // Byte for byte: the same UTF-8 as the value sent.
    expect([...new TextEncoder().encode(String(stored.name))]).toEqual([...new TextEncoder().encode(String(verdict.stored))]);
  });

  it("an access token spelled another way (base64 padding, or the signature's unused low bits set) is refused", async () => {
    const token = owner.tokens.access;
    const last = token.at(-1) ?? "";
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // Same 4 data bits, other padding bits: decodes to the same signature bytes.
    const sibling = alphabet[alphabet.indexOf(last) + 1];
    for (const spelling of [`${token}=`, `${token}==`, `${token.slice(0, -1)}${sibling}`]) {
      const res = await call("/api/auth/me/", { headers: { Authorization: `Bearer ${spelling}` } });
      expect(res.status, spelling.slice(-6)).toBe(401);
    }
    expect((await call("/api/auth/me/", { headers: owner.auth })).status).toBe(200);
  });

  it.each(['"99999999999"', '"4294967296"', '"2147483648"', `"${"9".repeat(400)}"`, '"1", "99999999999"'])(
    "If-Match: %s is compared, never parsed into an overflow: 412 (or 200 when it lists the current tag)",
    async (ifMatch) => {
      const { body } = await createPatient(owner);
      const res = await call(`/api/patients/${body.id}/`, jsonRequest("PATCH", { phone: null }, { ...owner.auth, "If-Match": ifMatch }));
      await check(res);
      expect(res.status).toBe(ifMatch.includes('"1"') ? 200 : 412);
    },
  );
});

describe("query text limits, counted in code points", () => {
  const lists = [
    ["/api/patients/", "search", 200],
    ["/api/doctors/", "search", 200],
    ["/api/doctors/", "specialization", 100],
  ] as const;

  it.each(lists)("%s?%s= takes %i astral characters and refuses one more", async (list, name, max) => {
    const at = await call(`${list}?${new URLSearchParams({ [name]: "😀".repeat(max) })}`, { headers: owner.auth });
    await check(at);
    expect(at.status).toBe(200);
    const over = await call(`${list}?${new URLSearchParams({ [name]: "😀".repeat(max + 1) })}`, { headers: owner.auth });
    expectRefusedNaming(over.status, await check(over), name, `${name} of ${max + 1}`);
  });

  it("a 200-character astral search finds the patient whose name it is", async () => {
    const name = "𝄞".repeat(199) + String.fromCodePoint(0x1f600 + Math.floor(Math.random() * 50));
    const { body } = await createPatient(owner, { name });
    const res = await call(`/api/patients/?${new URLSearchParams({ search: name })}`, { headers: owner.auth });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { results: Json[] }).results.map((p) => p.id)).toEqual([body.id]);
  });
});
