/**
 * Database round trips for every outcome of every route, counted at the
 * local endpoint: one table, checked against the app's own route list, so a
 * new route without its rows fails here. The README's promise is one round
 * trip per request whatever the answer — success, 404, 403, 409, 412 and
 * the 401s that need the database — with a successful login at two (a
 * failed or limited one at one), and none for what is refused before the database
 * (bad token, bad body, bad query, an id that is not a UUID).
 */
import { beforeAll, describe, expect, it } from "vitest";
import app from "../src/index";
import { encodeOpaque } from "../src/lib/cursor";
import { NIL_UUID } from "../src/resources/sync/schemas";
import {
  call,
  callWithEnv,
  countRoundTrips,
  createDoctor,
  createMapping,
  createPatient,
  directSql,
  jsonRequest,
  makeAdmin,
  newUser,
  PASSWORD,
  type TestUser,
  uniqueEmail,
  VALID_DOCTOR,
  VALID_PATIENT,
} from "./helpers";

interface Fixture {
  owner: TestUser;
  other: TestUser;
  admin: TestUser;
  /** A deactivated account whose access token was valid until then. */
  inactive: TestUser;
  patient: string;
  /** A doctor of the owner's, assigned to `patient` by `mapping`. */
  doctor: string;
  mapping: string;
  /** A doctor of the owner's, assigned to nobody. */
  spareDoctor: string;
  license: string;
}

interface Outcome {
  /** What the case is, e.g. "stale If-Match". */
  name: string;
  status: number;
  trips: number;
  /** The request, sent through `request` (the counted connection). */
  send: (request: (path: string, init?: RequestInit) => Promise<Response>, f: Fixture) => Promise<Response>;
  /** Settings for this request only (e.g. a lower login limit). */
  env?: Record<string, string>;
}

const UNKNOWN = "00000000-0000-4000-8000-000000000000";
const as = (user: TestUser, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...user.auth, ...(init.headers as Record<string, string> | undefined) },
});
const withIfMatch = (user: TestUser, method: string, tag: string, body?: unknown): RequestInit =>
  body === undefined ? as(user, { method, headers: { "If-Match": tag } }) : jsonRequest(method, body, { ...user.auth, "If-Match": tag });
const badToken = { Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad-signature" };
const license = () => `RT-${crypto.randomUUID()}`;

/**
 * The ways every access-token route refuses: before the database (no or a
 * bad token), and in its own statement, for a deactivated account's token.
 */
const unauthenticated = (method: string, path: (f: Fixture) => string, body?: unknown): Outcome[] => [
  { name: "no token", status: 401, trips: 0, send: (r, f) => r(path(f), { method }) },
  { name: "bad token", status: 401, trips: 0, send: (r, f) => r(path(f), { method, headers: badToken }) },
  {
    name: "deactivated account",
    status: 401,
    trips: 1,
    send: (r, f) => r(path(f), body === undefined ? as(f.inactive, { method }) : jsonRequest(method, body, f.inactive.auth)),
  },
];
const invalidBody = (method: string, path: (f: Fixture) => string): Outcome[] => [
  { name: "invalid body", status: 400, trips: 0, send: (r, f) => r(path(f), jsonRequest(method, { name: 42 }, f.owner.auth)) },
  { name: "not JSON", status: 415, trips: 0, send: (r, f) => r(path(f), as(f.owner, { method, body: "x" })) },
];
const notAnId = (method: string, base: string): Outcome => ({
  name: "id that is not a UUID",
  status: 404,
  trips: 0,
  send: (r, f) => r(`${base}not-a-uuid/`, as(f.owner, { method })),
});

/**
 * The Idempotency-Key outcomes of a write: a retry replayed (the first
 * request is sent uncounted), the key reused for another request (422), a
 * malformed key (400, before the database). `second` is the other request.
 */
function keyed(
  method: string,
  success: number,
  first: (f: Fixture) => { path: string; body?: unknown },
  second: (f: Fixture) => { path: string; body?: unknown },
): Outcome[] {
  const init = (f: Fixture, key: string, body: unknown) => {
    const headers = { ...f.owner.auth, "Idempotency-Key": key };
    return body === undefined ? { method, headers } : jsonRequest(method, body, headers);
  };
  const afterFirst = async (f: Fixture, key: string) => {
    const { path, body } = first(f);
    expect((await call(path, init(f, key, body))).status).toBe(success);
  };
  return [
    {
      name: "replayed (Idempotency-Key)",
      status: success,
      trips: 1,
      send: async (r, f) => {
        const key = crypto.randomUUID();
        await afterFirst(f, key);
        return r(first(f).path, init(f, key, first(f).body));
      },
    },
    {
      name: "key used for another request",
      status: 422,
      trips: 1,
      send: async (r, f) => {
        const key = crypto.randomUUID();
        await afterFirst(f, key);
        return r(second(f).path, init(f, key, second(f).body));
      },
    },
    {
      name: "malformed Idempotency-Key",
      status: 400,
      trips: 0,
      send: (r, f) => r(first(f).path, init(f, "no spaces allowed", first(f).body)),
    },
  ];
}

/**
 * The `next` link of the first cursor page of `list` (one row a page), read
 * uncounted: the counted request follows it, as a client would.
 */
async function nextCursorLink(list: string, user: TestUser) {
  const res = await call(`${list}${list.includes("?") ? "&" : "?"}limit=1&cursor=`, as(user));
  const { next } = (await res.json()) as { next: string | null };
  if (!next) throw new Error(`${list} has a single page`);
  return next;
}
/** The first page by cursor and the next one (1 round trip each, like any page); `before` makes sure the list has two rows. */
const cursorPages = (list: (f: Fixture) => string, who: (f: Fixture) => TestUser, before?: (f: Fixture) => Promise<unknown>): Outcome[] => [
  {
    name: "first page by cursor",
    status: 200,
    trips: 1,
    send: (r, f) => r(`${list(f)}${list(f).includes("?") ? "&" : "?"}cursor=`, as(who(f))),
  },
  {
    name: "next page by cursor",
    status: 200,
    trips: 1,
    send: async (r, f) => {
      await before?.(f);
      return r(await nextCursorLink(list(f), who(f)), as(who(f)));
    },
  },
];
const patientPath = (f: Fixture) => `/api/patients/${f.patient}/`;
const doctorPath = (f: Fixture) => `/api/doctors/${f.doctor}/`;
const mappingPath = (f: Fixture) => `/api/mappings/${f.mapping}/`;
/** The administrator routes act on the `other` account (never on the administrator: their own flags are 409). */
const adminUserPath = (f: Fixture) => `/api/admin/users/${f.other.id}/`;
const NEW_PASSWORD = "a brand new passphrase";

/** Keyed as the app lists its routes: `METHOD /hono/path`. */
const TABLE: Record<string, Outcome[]> = {
  "GET /api/health": [{ name: "up", status: 200, trips: 0, send: (r) => r("/api/health/") }],
  "GET /api/health/ready": [{ name: "ready", status: 200, trips: 1, send: (r) => r("/api/health/ready/") }],
  "GET /api/openapi.json": [{ name: "document", status: 200, trips: 0, send: (r) => r("/api/openapi.json") }],
  "GET /api/docs": [{ name: "page", status: 200, trips: 0, send: (r) => r("/api/docs/") }],

  "POST /api/auth/register": [
    {
      name: "new account",
      status: 201,
      trips: 1,
      send: (r) => r("/api/auth/register/", jsonRequest("POST", { name: "RT", email: uniqueEmail("rt"), password: PASSWORD })),
    },
    {
      name: "email taken",
      status: 409,
      trips: 1,
      send: (r, f) => r("/api/auth/register/", jsonRequest("POST", { name: "RT", email: f.other.email, password: PASSWORD })),
    },
    { name: "invalid body", status: 400, trips: 0, send: (r) => r("/api/auth/register/", jsonRequest("POST", { name: "RT" })) },
  ],
  "POST /api/auth/login": [
    {
      name: "right password",
      status: 200,
      trips: 2,
      send: (r, f) => r("/api/auth/login/", jsonRequest("POST", { email: f.other.email, password: PASSWORD })),
    },
    {
      name: "wrong password",
      status: 401,
      trips: 1,
      send: (r, f) => r("/api/auth/login/", jsonRequest("POST", { email: f.other.email, password: "not the password" })),
    },
    {
      name: "no such account",
      status: 401,
      trips: 1,
      send: (r) => r("/api/auth/login/", jsonRequest("POST", { email: uniqueEmail("ghost"), password: PASSWORD })),
    },
    {
      name: "over the limit",
      status: 429,
      trips: 1,
      env: { LOGIN_MAX_FAILURES: "1" },
      send: async (r) => {
        const body = { email: uniqueEmail("limited"), password: "not the password" };
        // The failure that reaches the limit is sent uncounted; only the refusal is counted.
        await call("/api/auth/login/", jsonRequest("POST", body));
        return r("/api/auth/login/", jsonRequest("POST", body));
      },
    },
    { name: "invalid body", status: 400, trips: 0, send: (r) => r("/api/auth/login/", jsonRequest("POST", { email: "x" })) },
  ],
  "POST /api/auth/refresh": [
    {
      name: "rotated",
      status: 200,
      trips: 1,
      send: async (r) => r("/api/auth/refresh/", jsonRequest("POST", { refresh: (await newUser()).tokens.refresh })),
    },
    { name: "unknown token", status: 401, trips: 1, send: (r) => r("/api/auth/refresh/", jsonRequest("POST", { refresh: "nope" })) },
    {
      name: "reused token",
      status: 401,
      trips: 1,
      // Without the grace window: an immediate re-presentation is reuse.
      env: { REFRESH_REUSE_GRACE_SECONDS: "0" },
      send: async (r) => {
        const { refresh } = (await newUser()).tokens;
        expect((await call("/api/auth/refresh/", jsonRequest("POST", { refresh }))).status).toBe(200);
        return r("/api/auth/refresh/", jsonRequest("POST", { refresh }));
      },
    },
    {
      name: "retried within the grace window",
      status: 200,
      trips: 1,
      send: async (r) => {
        const { refresh } = (await newUser()).tokens;
        expect((await call("/api/auth/refresh/", jsonRequest("POST", { refresh }))).status).toBe(200);
        return r("/api/auth/refresh/", jsonRequest("POST", { refresh }));
      },
    },
    { name: "invalid body", status: 400, trips: 0, send: (r) => r("/api/auth/refresh/", jsonRequest("POST", {})) },
  ],
  "POST /api/auth/logout": [
    {
      name: "logged out",
      status: 204,
      trips: 1,
      send: async (r) => r("/api/auth/logout/", jsonRequest("POST", { refresh: (await newUser()).tokens.refresh })),
    },
    { name: "unknown token", status: 401, trips: 1, send: (r) => r("/api/auth/logout/", jsonRequest("POST", { refresh: "nope" })) },
    { name: "invalid body", status: 400, trips: 0, send: (r) => r("/api/auth/logout/", jsonRequest("POST", {})) },
  ],
  "GET /api/auth/me": [
    { name: "me", status: 200, trips: 1, send: (r, f) => r("/api/auth/me/", as(f.owner)) },
    ...unauthenticated("GET", () => "/api/auth/me/"),
  ],

  "GET /api/patients": [
    { name: "page", status: 200, trips: 1, send: (r, f) => r("/api/patients/?search=pat&ordering=-name", as(f.owner)) },
    { name: "invalid query", status: 400, trips: 0, send: (r, f) => r("/api/patients/?limit=0", as(f.owner)) },
    ...cursorPages(
      () => "/api/patients/?ordering=-date_of_birth",
      (f) => f.owner,
      (f) => createPatient(f.owner),
    ),
    {
      name: "previous page by cursor",
      status: 200,
      trips: 1,
      send: async (r, f) => {
        await createPatient(f.owner);
        const second = (await (await call(await nextCursorLink("/api/patients/", f.owner), as(f.owner))).json()) as { previous: string };
        return r(second.previous, as(f.owner));
      },
    },
    { name: "cursor with offset", status: 400, trips: 0, send: (r, f) => r("/api/patients/?cursor=&offset=0", as(f.owner)) },
    { name: "malformed cursor", status: 400, trips: 0, send: (r, f) => r("/api/patients/?cursor=e30", as(f.owner)) },
    {
      name: "cursor of another ordering",
      status: 400,
      trips: 0,
      send: async (r, f) => {
        await createPatient(f.owner);
        return r(`${await nextCursorLink("/api/patients/", f.owner)}&ordering=name`, as(f.owner));
      },
    },
    ...unauthenticated("GET", () => "/api/patients/"),
  ],
  "POST /api/patients": [
    { name: "created", status: 201, trips: 1, send: (r, f) => r("/api/patients/", jsonRequest("POST", VALID_PATIENT, f.owner.auth)) },
    ...invalidBody("POST", () => "/api/patients/"),
    ...unauthenticated("POST", () => "/api/patients/", VALID_PATIENT),
    ...keyed(
      "POST",
      201,
      () => ({ path: "/api/patients/", body: VALID_PATIENT }),
      () => ({ path: "/api/patients/", body: { ...VALID_PATIENT, name: "Other" } }),
    ),
  ],
  "GET /api/patients/:id": [
    { name: "own", status: 200, trips: 1, send: (r, f) => r(patientPath(f), as(f.owner)) },
    {
      name: "not modified",
      status: 304,
      trips: 1,
      send: (r, f) => r(patientPath(f), as(f.owner, { headers: { "If-None-Match": '"1"' } })),
    },
    { name: "another user's", status: 404, trips: 1, send: (r, f) => r(patientPath(f), as(f.other)) },
    { name: "unknown", status: 404, trips: 1, send: (r, f) => r(`/api/patients/${UNKNOWN}/`, as(f.owner)) },
    notAnId("GET", "/api/patients/"),
    ...unauthenticated("GET", patientPath),
  ],
  "PUT /api/patients/:id": [
    { name: "replaced", status: 200, trips: 1, send: (r, f) => r(patientPath(f), jsonRequest("PUT", VALID_PATIENT, f.owner.auth)) },
    { name: "another user's", status: 404, trips: 1, send: (r, f) => r(patientPath(f), jsonRequest("PUT", VALID_PATIENT, f.other.auth)) },
    { name: "stale If-Match", status: 412, trips: 1, send: (r, f) => r(patientPath(f), withIfMatch(f.owner, "PUT", '"7"', VALID_PATIENT)) },
    ...invalidBody("PUT", patientPath),
    ...unauthenticated("PUT", patientPath, VALID_PATIENT),
    ...keyed(
      "PUT",
      200,
      (f) => ({ path: patientPath(f), body: VALID_PATIENT }),
      (f) => ({ path: patientPath(f), body: { ...VALID_PATIENT, name: "Other" } }),
    ),
  ],
  "PATCH /api/patients/:id": [
    { name: "patched", status: 200, trips: 1, send: (r, f) => r(patientPath(f), jsonRequest("PATCH", { phone: null }, f.owner.auth)) },
    {
      name: "another user's",
      status: 404,
      trips: 1,
      send: (r, f) => r(patientPath(f), jsonRequest("PATCH", { phone: null }, f.other.auth)),
    },
    {
      name: "stale If-Match",
      status: 412,
      trips: 1,
      send: (r, f) => r(patientPath(f), withIfMatch(f.owner, "PATCH", '"7"', { phone: null })),
    },
    ...invalidBody("PATCH", patientPath),
    ...unauthenticated("PATCH", patientPath, { phone: null }),
    ...keyed(
      "PATCH",
      200,
      (f) => ({ path: patientPath(f), body: { phone: null } }),
      (f) => ({ path: patientPath(f), body: { name: "Other" } }),
    ),
  ],
  "DELETE /api/patients/:id": [
    { name: "deleted", status: 204, trips: 1, send: (r, f) => r(patientPath(f), as(f.owner, { method: "DELETE" })) },
    { name: "another user's", status: 404, trips: 1, send: (r, f) => r(patientPath(f), as(f.other, { method: "DELETE" })) },
    { name: "stale If-Match", status: 412, trips: 1, send: (r, f) => r(patientPath(f), withIfMatch(f.owner, "DELETE", '"7"')) },
    notAnId("DELETE", "/api/patients/"),
    ...unauthenticated("DELETE", patientPath),
    ...keyed(
      "DELETE",
      204,
      (f) => ({ path: patientPath(f) }),
      () => ({ path: `/api/patients/${UNKNOWN}/` }),
    ),
  ],

  "GET /api/doctors": [
    { name: "page", status: 200, trips: 1, send: (r, f) => r("/api/doctors/?search=x&ordering=-name", as(f.other)) },
    { name: "invalid query", status: 400, trips: 0, send: (r, f) => r("/api/doctors/?ordering=nope", as(f.other)) },
    ...cursorPages(
      () => "/api/doctors/?ordering=name",
      (f) => f.other,
    ),
    ...unauthenticated("GET", () => "/api/doctors/"),
  ],
  "POST /api/doctors": [
    { name: "created", status: 201, trips: 1, send: (r, f) => r("/api/doctors/", jsonRequest("POST", VALID_DOCTOR, f.owner.auth)) },
    {
      name: "license taken",
      status: 409,
      trips: 1,
      send: (r, f) => r("/api/doctors/", jsonRequest("POST", { ...VALID_DOCTOR, license_number: f.license }, f.other.auth)),
    },
    ...invalidBody("POST", () => "/api/doctors/"),
    ...unauthenticated("POST", () => "/api/doctors/", VALID_DOCTOR),
    ...keyed(
      "POST",
      201,
      () => ({ path: "/api/doctors/", body: VALID_DOCTOR }),
      () => ({ path: "/api/doctors/", body: { ...VALID_DOCTOR, name: "Other" } }),
    ),
  ],
  "GET /api/doctors/:id": [
    { name: "any user", status: 200, trips: 1, send: (r, f) => r(doctorPath(f), as(f.other)) },
    { name: "not modified", status: 304, trips: 1, send: (r, f) => r(doctorPath(f), as(f.other, { headers: { "If-None-Match": '"1"' } })) },
    { name: "unknown", status: 404, trips: 1, send: (r, f) => r(`/api/doctors/${UNKNOWN}/`, as(f.other)) },
    notAnId("GET", "/api/doctors/"),
    ...unauthenticated("GET", doctorPath),
  ],
  "PUT /api/doctors/:id": [
    { name: "by its creator", status: 200, trips: 1, send: (r, f) => r(doctorPath(f), jsonRequest("PUT", VALID_DOCTOR, f.owner.auth)) },
    {
      name: "by an administrator",
      status: 200,
      trips: 1,
      send: (r, f) => r(doctorPath(f), jsonRequest("PUT", VALID_DOCTOR, f.admin.auth)),
    },
    { name: "by another user", status: 403, trips: 1, send: (r, f) => r(doctorPath(f), jsonRequest("PUT", VALID_DOCTOR, f.other.auth)) },
    {
      name: "unknown",
      status: 404,
      trips: 1,
      send: (r, f) => r(`/api/doctors/${UNKNOWN}/`, jsonRequest("PUT", VALID_DOCTOR, f.owner.auth)),
    },
    {
      name: "license taken",
      status: 409,
      trips: 1,
      send: (r, f) => r(doctorPath(f), jsonRequest("PUT", { ...VALID_DOCTOR, license_number: f.license }, f.owner.auth)),
    },
    { name: "stale If-Match", status: 412, trips: 1, send: (r, f) => r(doctorPath(f), withIfMatch(f.owner, "PUT", '"7"', VALID_DOCTOR)) },
    ...invalidBody("PUT", doctorPath),
    ...unauthenticated("PUT", doctorPath, VALID_DOCTOR),
    ...keyed(
      "PUT",
      200,
      (f) => ({ path: doctorPath(f), body: VALID_DOCTOR }),
      (f) => ({ path: doctorPath(f), body: { ...VALID_DOCTOR, name: "Other" } }),
    ),
  ],
  "PATCH /api/doctors/:id": [
    {
      name: "by its creator",
      status: 200,
      trips: 1,
      send: (r, f) => r(doctorPath(f), jsonRequest("PATCH", { phone: null }, f.owner.auth)),
    },
    {
      name: "by another user",
      status: 403,
      trips: 1,
      send: (r, f) => r(doctorPath(f), jsonRequest("PATCH", { phone: null }, f.other.auth)),
    },
    {
      name: "unknown",
      status: 404,
      trips: 1,
      send: (r, f) => r(`/api/doctors/${UNKNOWN}/`, jsonRequest("PATCH", { phone: null }, f.owner.auth)),
    },
    {
      name: "license taken",
      status: 409,
      trips: 1,
      send: (r, f) => r(doctorPath(f), jsonRequest("PATCH", { license_number: f.license }, f.owner.auth)),
    },
    {
      name: "stale If-Match",
      status: 412,
      trips: 1,
      send: (r, f) => r(doctorPath(f), withIfMatch(f.owner, "PATCH", '"7"', { phone: null })),
    },
    ...invalidBody("PATCH", doctorPath),
    ...unauthenticated("PATCH", doctorPath, { phone: null }),
    ...keyed(
      "PATCH",
      200,
      (f) => ({ path: doctorPath(f), body: { phone: null } }),
      (f) => ({ path: doctorPath(f), body: { name: "Other" } }),
    ),
  ],
  "DELETE /api/doctors/:id": [
    {
      name: "unassigned",
      status: 204,
      trips: 1,
      send: (r, f) => r(`/api/doctors/${f.spareDoctor}/`, as(f.owner, { method: "DELETE" })),
    },
    { name: "by another user", status: 403, trips: 1, send: (r, f) => r(doctorPath(f), as(f.other, { method: "DELETE" })) },
    { name: "unknown", status: 404, trips: 1, send: (r, f) => r(`/api/doctors/${UNKNOWN}/`, as(f.owner, { method: "DELETE" })) },
    { name: "still assigned", status: 409, trips: 1, send: (r, f) => r(doctorPath(f), as(f.owner, { method: "DELETE" })) },
    {
      name: "stale If-Match",
      status: 412,
      trips: 1,
      send: (r, f) => r(`/api/doctors/${f.spareDoctor}/`, withIfMatch(f.owner, "DELETE", '"7"')),
    },
    notAnId("DELETE", "/api/doctors/"),
    ...unauthenticated("DELETE", doctorPath),
    ...keyed(
      "DELETE",
      204,
      (f) => ({ path: `/api/doctors/${f.spareDoctor}/` }),
      () => ({ path: `/api/doctors/${UNKNOWN}/` }),
    ),
  ],

  "GET /api/mappings": [
    { name: "page", status: 200, trips: 1, send: (r, f) => r(`/api/mappings/?patient_id=${f.patient}`, as(f.owner)) },
    { name: "invalid query", status: 400, trips: 0, send: (r, f) => r("/api/mappings/?patient_id=x", as(f.owner)) },
    {
      name: "cursor of another list",
      status: 400,
      trips: 0,
      send: async (r, f) =>
        r(await nextCursorLink("/api/doctors/", f.owner).then((link) => `/api/mappings/${new URL(link).search}`), as(f.owner)),
    },
    ...cursorPages(
      () => "/api/mappings/?ordering=-created_at",
      (f) => f.owner,
      (f) => createMapping(f.owner, f.patient, f.spareDoctor),
    ),
    ...unauthenticated("GET", () => "/api/mappings/"),
  ],
  "POST /api/mappings": [
    {
      name: "assigned",
      status: 201,
      trips: 1,
      send: (r, f) => r("/api/mappings/", jsonRequest("POST", { patient_id: f.patient, doctor_id: f.spareDoctor }, f.owner.auth)),
    },
    {
      name: "another user's patient",
      status: 400,
      trips: 1,
      send: (r, f) => r("/api/mappings/", jsonRequest("POST", { patient_id: f.patient, doctor_id: f.spareDoctor }, f.other.auth)),
    },
    {
      name: "already assigned",
      status: 409,
      trips: 1,
      send: (r, f) => r("/api/mappings/", jsonRequest("POST", { patient_id: f.patient, doctor_id: f.doctor }, f.owner.auth)),
    },
    {
      name: "invalid body",
      status: 400,
      trips: 0,
      send: (r, f) => r("/api/mappings/", jsonRequest("POST", { patient_id: "x" }, f.owner.auth)),
    },
    ...unauthenticated("POST", () => "/api/mappings/", { patient_id: UNKNOWN, doctor_id: UNKNOWN }),
    ...keyed(
      "POST",
      201,
      (f) => ({ path: "/api/mappings/", body: { patient_id: f.patient, doctor_id: f.spareDoctor } }),
      (f) => ({ path: "/api/mappings/", body: { patient_id: f.patient, doctor_id: f.doctor } }),
    ),
  ],
  "GET /api/mappings/patient/:id": [
    { name: "own patient", status: 200, trips: 1, send: (r, f) => r(`/api/mappings/patient/${f.patient}/`, as(f.owner)) },
    { name: "another user's patient", status: 404, trips: 1, send: (r, f) => r(`/api/mappings/patient/${f.patient}/`, as(f.other)) },
    notAnId("GET", "/api/mappings/patient/"),
    ...cursorPages(
      (f) => `/api/mappings/patient/${f.patient}/`,
      (f) => f.owner,
      (f) => createMapping(f.owner, f.patient, f.spareDoctor),
    ),
    ...unauthenticated("GET", (f) => `/api/mappings/patient/${f.patient}/`),
  ],
  "GET /api/mappings/:id": [
    { name: "own", status: 200, trips: 1, send: (r, f) => r(mappingPath(f), as(f.owner)) },
    { name: "another user's", status: 404, trips: 1, send: (r, f) => r(mappingPath(f), as(f.other)) },
    notAnId("GET", "/api/mappings/"),
    ...unauthenticated("GET", mappingPath),
  ],
  "DELETE /api/mappings/:id": [
    { name: "removed", status: 204, trips: 1, send: (r, f) => r(mappingPath(f), as(f.owner, { method: "DELETE" })) },
    { name: "another user's", status: 404, trips: 1, send: (r, f) => r(mappingPath(f), as(f.other, { method: "DELETE" })) },
    { name: "stale If-Match", status: 412, trips: 1, send: (r, f) => r(mappingPath(f), withIfMatch(f.owner, "DELETE", '"7"')) },
    notAnId("DELETE", "/api/mappings/"),
    ...unauthenticated("DELETE", mappingPath),
    ...keyed(
      "DELETE",
      204,
      (f) => ({ path: mappingPath(f) }),
      () => ({ path: `/api/mappings/${UNKNOWN}/` }),
    ),
  ],

  "POST /api/auth/password": [
    {
      name: "changed",
      status: 200,
      trips: 2,
      send: async (r) => {
        const user = await newUser();
        return r("/api/auth/password/", jsonRequest("POST", { current_password: PASSWORD, new_password: NEW_PASSWORD }, user.auth));
      },
    },
    {
      name: "wrong current password",
      status: 400,
      trips: 2,
      send: (r, f) =>
        r("/api/auth/password/", jsonRequest("POST", { current_password: "not it", new_password: NEW_PASSWORD }, f.other.auth)),
    },
    {
      name: "new password holds the email's local part",
      status: 400,
      trips: 1,
      send: (r, f) =>
        r(
          "/api/auth/password/",
          jsonRequest("POST", { current_password: PASSWORD, new_password: `x${f.other.email.split("@")[0]}` }, f.other.auth),
        ),
    },
    {
      name: "over the login limit",
      status: 429,
      trips: 2,
      env: { LOGIN_MAX_FAILURES: "1" },
      send: async (r) => {
        const user = await newUser();
        const body = jsonRequest("POST", { current_password: "not it", new_password: NEW_PASSWORD }, user.auth);
        // The failure that reaches the limit is sent uncounted; only the refusal is counted.
        await callWithEnv({ LOGIN_MAX_FAILURES: "1" }, "/api/auth/password/", body);
        return r("/api/auth/password/", jsonRequest("POST", { current_password: PASSWORD, new_password: NEW_PASSWORD }, user.auth));
      },
    },
    {
      name: "invalid body",
      status: 400,
      trips: 0,
      send: (r, f) => r("/api/auth/password/", jsonRequest("POST", { current_password: PASSWORD }, f.other.auth)),
    },
    ...unauthenticated("POST", () => "/api/auth/password/", { current_password: PASSWORD, new_password: NEW_PASSWORD }),
  ],

  // A page of the sync feed is one statement; a malformed or expired cursor is refused before the database.
  "GET /api/sync": [
    { name: "first page", status: 200, trips: 1, send: (r, f) => r("/api/sync/?limit=2", as(f.owner)) },
    {
      name: "a page after a cursor",
      status: 200,
      trips: 1,
      send: (r, f) =>
        r(`/api/sync/?since=${encodeOpaque({ v: 1, x: "1", r: -1, i: NIL_UUID, t: Math.floor(Date.now() / 1000) })}`, as(f.owner)),
    },
    { name: "malformed cursor", status: 400, trips: 0, send: (r, f) => r("/api/sync/?since=nope", as(f.owner)) },
    {
      name: "cursor older than SYNC_TOMBSTONE_DAYS",
      status: 410,
      trips: 0,
      send: (r, f) => r(`/api/sync/?since=${encodeOpaque({ v: 1, x: "1", r: -1, i: NIL_UUID, t: 0 })}`, as(f.owner)),
    },
    ...unauthenticated("GET", () => "/api/sync/"),
  ],

  "GET /api/audit": [
    { name: "administrator", status: 200, trips: 1, send: (r, f) => r(`/api/audit/?actor_id=${f.owner.id}`, as(f.admin)) },
    { name: "not an administrator", status: 403, trips: 1, send: (r, f) => r("/api/audit/", as(f.owner)) },
    { name: "invalid query", status: 400, trips: 0, send: (r, f) => r("/api/audit/?actor_id=x", as(f.admin)) },
    ...cursorPages(
      () => "/api/audit/?resource_type=patient",
      (f) => f.admin,
    ),
    ...unauthenticated("GET", () => "/api/audit/"),
  ],

  // The administrator routes: a request their own validation refuses (400, an id that is not a UUID) asks the
  // database first whether the caller is an administrator (403 before 400 or 404): one round trip too.
  "GET /api/admin/stats": [
    { name: "administrator", status: 200, trips: 1, send: (r, f) => r("/api/admin/stats/", as(f.admin)) },
    { name: "not an administrator", status: 403, trips: 1, send: (r, f) => r("/api/admin/stats/", as(f.owner)) },
    ...unauthenticated("GET", () => "/api/admin/stats/"),
  ],
  "GET /api/admin/users": [
    {
      name: "page",
      status: 200,
      trips: 1,
      send: (r, f) => r("/api/admin/users/?search=a&is_active=true&ordering=-last_login_at", as(f.admin)),
    },
    { name: "not an administrator", status: 403, trips: 1, send: (r, f) => r("/api/admin/users/", as(f.owner)) },
    { name: "invalid query", status: 400, trips: 1, send: (r, f) => r("/api/admin/users/?is_admin=x", as(f.admin)) },
    ...cursorPages(
      () => "/api/admin/users/?ordering=-last_login_at",
      (f) => f.admin,
    ),
    { name: "cursor with offset", status: 400, trips: 1, send: (r, f) => r("/api/admin/users/?cursor=&offset=0", as(f.admin)) },
    { name: "invalid query, not an administrator", status: 403, trips: 1, send: (r, f) => r("/api/admin/users/?is_admin=x", as(f.owner)) },
    ...unauthenticated("GET", () => "/api/admin/users/"),
  ],
  "GET /api/admin/users/:id": [
    { name: "administrator", status: 200, trips: 1, send: (r, f) => r(adminUserPath(f), as(f.admin)) },
    {
      name: "not modified",
      status: 304,
      trips: 1,
      send: async (r, f) => {
        const etag = (await call(adminUserPath(f), as(f.admin))).headers.get("ETag") ?? "";
        return r(adminUserPath(f), as(f.admin, { headers: { "If-None-Match": etag } }));
      },
    },
    { name: "not an administrator", status: 403, trips: 1, send: (r, f) => r(adminUserPath(f), as(f.owner)) },
    { name: "unknown", status: 404, trips: 1, send: (r, f) => r(`/api/admin/users/${UNKNOWN}/`, as(f.admin)) },
    { ...notAnId("GET", "/api/admin/users/"), trips: 1, send: (r, f) => r("/api/admin/users/not-a-uuid/", as(f.admin)) },
    ...unauthenticated("GET", adminUserPath),
  ],
  "PATCH /api/admin/users/:id": [
    {
      name: "deactivated",
      status: 200,
      trips: 1,
      send: async (r, f) => r(`/api/admin/users/${(await newUser()).id}/`, jsonRequest("PATCH", { is_active: false }, f.admin.auth)),
    },
    {
      name: "not an administrator",
      status: 403,
      trips: 1,
      send: (r, f) => r(adminUserPath(f), jsonRequest("PATCH", { name: "X" }, f.owner.auth)),
    },
    {
      name: "unknown",
      status: 404,
      trips: 1,
      send: (r, f) => r(`/api/admin/users/${UNKNOWN}/`, jsonRequest("PATCH", { name: "X" }, f.admin.auth)),
    },
    {
      name: "own is_admin",
      status: 409,
      trips: 1,
      send: (r, f) => r(`/api/admin/users/${f.admin.id}/`, jsonRequest("PATCH", { is_admin: false }, f.admin.auth)),
    },
    {
      name: "stale If-Match",
      status: 412,
      trips: 1,
      send: (r, f) => r(adminUserPath(f), withIfMatch(f.admin, "PATCH", '"999"', { name: "X" })),
    },
    {
      name: "invalid body",
      status: 400,
      trips: 1,
      send: (r, f) => r(adminUserPath(f), jsonRequest("PATCH", { is_active: "no" }, f.admin.auth)),
    },
    { name: "not JSON", status: 415, trips: 0, send: (r, f) => r(adminUserPath(f), as(f.admin, { method: "PATCH", body: "x" })) },
    ...unauthenticated("PATCH", adminUserPath, { name: "X" }),
  ],
  "DELETE /api/admin/users/:id/sessions": [
    {
      name: "signed out everywhere",
      status: 204,
      trips: 1,
      send: async (r, f) => r(`/api/admin/users/${(await newUser()).id}/sessions/`, as(f.admin, { method: "DELETE" })),
    },
    {
      name: "not an administrator",
      status: 403,
      trips: 1,
      send: (r, f) => r(`${adminUserPath(f)}sessions/`, as(f.owner, { method: "DELETE" })),
    },
    {
      name: "unknown",
      status: 404,
      trips: 1,
      send: (r, f) => r(`/api/admin/users/${UNKNOWN}/sessions/`, as(f.admin, { method: "DELETE" })),
    },
    {
      name: "id that is not a UUID",
      status: 404,
      trips: 1,
      send: (r, f) => r("/api/admin/users/not-a-uuid/sessions/", as(f.admin, { method: "DELETE" })),
    },
    ...unauthenticated("DELETE", (f) => `${adminUserPath(f)}sessions/`),
  ],
};

const appRoutes = [...new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`))];
/** The statuses that come from the resource's own checks and so need the database. */
const DATABASE_STATUSES = [403, 404, 409, 410, 412, 422];
/**
 * Routes whose only 409 is an Idempotency-Key race loser (the duplicate that
 * met the winner's key when recording its own): it needs two statements in
 * flight at once, which a counted single request cannot arrange (and PGlite
 * runs statements one at a time). It costs the one round trip all the same;
 * test/idempotency.test.ts and the multi-instance race test exercise it.
 */
const RACE_ONLY_409 = new Set([
  "POST /api/patients",
  "PUT /api/patients/:id",
  "PATCH /api/patients/:id",
  "DELETE /api/patients/:id",
  "DELETE /api/mappings/:id",
]);

describe("round trips for every outcome", () => {
  it("the table has rows for every route of the app and none for a route it lacks", () => {
    expect(new Set(Object.keys(TABLE))).toEqual(new Set(appRoutes));
    for (const [route, outcomes] of Object.entries(TABLE)) {
      expect(
        outcomes.some((o) => o.status < 300),
        `${route} has a success row`,
      ).toBe(true);
    }
  });

  let users: Pick<Fixture, "owner" | "other" | "admin" | "inactive">;
  beforeAll(async () => {
    const [owner, other, admin, inactive] = await Promise.all([newUser("Owner"), newUser("Other"), newUser("Admin"), newUser("Inactive")]);
    await makeAdmin(admin);
    // An administrator, so that the admin routes' 401 is the deactivation's, not a 403.
    await makeAdmin(inactive);
    await directSql()`UPDATE users SET is_active = false WHERE id = ${inactive.id}`;
    users = { owner, other, admin, inactive };
  });

  /** Fresh resources for each case, so that one case's write cannot change another's answer. */
  async function fixture(): Promise<Fixture> {
    const taken = license();
    const [patient, doctor, spare] = await Promise.all([
      createPatient(users.owner),
      createDoctor(users.owner),
      createDoctor(users.owner),
      createDoctor(users.other, { license_number: taken }),
    ]);
    const mapping = await createMapping(users.owner, patient.body.id, doctor.body.id);
    return {
      ...users,
      patient: patient.body.id,
      doctor: doctor.body.id,
      mapping: mapping.body.id,
      spareDoctor: spare.body.id,
      license: taken,
    };
  }

  const cases = Object.entries(TABLE).flatMap(([route, outcomes]) =>
    outcomes.map((o) => [`${route} — ${o.name} → ${o.status}`, o] as const),
  );

  it.each(cases)("%s", async (label, outcome) => {
    const f = await fixture();
    let status = 0;
    const trips = await countRoundTrips(async (request) => {
      status = (await outcome.send(request, f)).status;
    }, outcome.env);
    expect({ status, trips }, label).toEqual({ status: outcome.status, trips: outcome.trips });
  });

  it("covers the database-decided statuses each route documents", () => {
    // The document is really read: a route known to give 404 and 412 lists them.
    expect(errorStatusesOf("PUT", "/api/patients/:id")).toEqual(expect.arrayContaining([404, 412]));
    // Every status a route's own checks can give (403/404/409/412) appears in its rows.
    const seen = new Map(Object.entries(TABLE).map(([route, outcomes]) => [route, new Set(outcomes.map((o) => o.status))]));
    const documented = (route: string) => {
      const [method, path] = route.split(" ");
      return new Set(
        DATABASE_STATUSES.filter((s) => errorStatusesOf(method, path).includes(s) && !(s === 409 && RACE_ONLY_409.has(route))),
      );
    };
    for (const route of Object.keys(TABLE)) {
      for (const status of documented(route)) expect(seen.get(route)?.has(status), `${route} has a row for ${status}`).toBe(true);
    }
  });
});

/** The error statuses the OpenAPI document lists for one operation. */
function errorStatusesOf(method: string, honoPath: string): number[] {
  const path = honoPath.replace(/:(\w+)/g, "{$1}").replace(/\/?$/, "/");
  const operation = OPENAPI.paths?.[path]?.[method.toLowerCase()] as { responses?: Record<string, unknown> } | undefined;
  return Object.keys(operation?.responses ?? {}).map(Number);
}

let OPENAPI: { paths?: Record<string, Record<string, unknown>> } = {};
beforeAll(async () => {
  OPENAPI = (await (await call("/api/openapi.json")).json()) as typeof OPENAPI;
});
