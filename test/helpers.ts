/**
 * Shared fixtures. Requests go through the Worker's real entrypoint inside
 * workerd; the database is the real one behind the local Neon endpoint.
 */

import { env } from "cloudflare:workers";
import { neon, neonConfig } from "@neondatabase/serverless";
import { expect } from "vitest";
import app from "../src/index";
import type { Bindings } from "../src/lib/config";

export const ORIGIN = "http://127.0.0.1:8787";

/**
 * A request to the Worker's app inside workerd, with the test bindings, as a
 * client would make it. It goes through `app.request` rather than the
 * `exports.default.fetch` service binding: the pool's binding slows down with
 * every request it has carried (hundreds of milliseconds per request after a
 * few thousand, measured), while the app and its runtime are the same.
 * test/app.test.ts checks the real entrypoint separately.
 */
export async function call(path: string, init?: RequestInit): Promise<Response> {
  return await app.request(new URL(path, ORIGIN).toString(), init, env);
}

/** The same app with some bindings changed or removed (undefined) for one request. */
export async function callWithEnv(overrides: Partial<Record<keyof Bindings, string | undefined>>, path: string, init?: RequestInit) {
  return await app.request(new URL(path, ORIGIN).toString(), init, { ...env, ...overrides });
}

/** A Neon-driver client straight to the test database, for checking what the API wrote. */
export function directSql() {
  neonConfig.fetchEndpoint = env.NEON_LOCAL_ENDPOINT;
  return neon(env.DATABASE_URL);
}

/**
 * Counts the database round trips `fn` makes: it runs under a connection
 * string of its own, whose requests the local endpoint counts separately.
 */
export async function countRoundTrips(
  fn: (request: (path: string, init?: RequestInit) => Promise<Response>) => Promise<unknown>,
  overrides: Partial<Record<keyof Bindings, string>> = {},
) {
  // The driver sends postgresql:// whatever it was given; the endpoint keys on what it receives.
  const connection = `postgresql://app:app@127.0.0.1:5432/app?rt=${crypto.randomUUID()}`;
  await fn((path, init) => callWithEnv({ ...overrides, DATABASE_URL: connection }, path, init));
  const res = await fetch(`${env.NEON_LOCAL_STATS}?connection=${encodeURIComponent(connection)}`);
  const stats = (await res.json()) as { requests: number };
  return stats.requests;
}

/** Asserts an RFC 9457 problem response and returns its body. */
export async function expectProblem(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get("Content-Type")).toBe("application/problem+json");
  const body = (await res.json()) as { type: string; title: string; status: number; detail: string; errors?: Record<string, string[]> };
  expect(body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  return body;
}

/** A JSON request init. */
export function jsonRequest(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

export const uniqueEmail = (prefix = "user") => `${prefix}-${crypto.randomUUID()}@example.com`;
export const PASSWORD = "a perfectly fine passphrase";

export interface TokenPair {
  access: string;
  refresh: string;
  token_type: string;
  expires_in: number;
}

export interface TestUser {
  id: string;
  name: string;
  email: string;
  password: string;
  tokens: TokenPair;
  /** Headers that authenticate as this user. */
  auth: { Authorization: string };
}

/** Registers and logs in a fresh user through the API. */
export async function newUser(name = "Test User"): Promise<TestUser> {
  const email = uniqueEmail();
  const registered = await call("/api/auth/register/", jsonRequest("POST", { name, email, password: PASSWORD }));
  expect(registered.status).toBe(201);
  const { id } = (await registered.json()) as { id: string };
  const tokens = await login(email, PASSWORD);
  return { id, name, email, password: PASSWORD, tokens, auth: { Authorization: `Bearer ${tokens.access}` } };
}

export async function login(email: string, password: string): Promise<TokenPair> {
  const res = await call("/api/auth/login/", jsonRequest("POST", { email, password }));
  expect(res.status).toBe(200);
  return (await res.json()) as TokenPair;
}

/** Collects everything written to the console while `fn` runs. */
export async function captureLogs(fn: () => Promise<unknown>): Promise<string> {
  const lines: string[] = [];
  const originals = { error: console.error, warn: console.warn, log: console.log, info: console.info };
  for (const level of Object.keys(originals) as (keyof typeof originals)[]) {
    console[level] = (...args: unknown[]) => lines.push(args.map(String).join(" "));
  }
  try {
    await fn();
  } finally {
    Object.assign(console, originals);
  }
  return lines.join("\n");
}

/** Makes `user` an administrator, as `npm run admin:create` would. */
export async function makeAdmin(user: { id: string }) {
  await directSql()`UPDATE users SET is_admin = true WHERE id = ${user.id}`;
}

export const VALID_PATIENT = { name: "Pat Example", date_of_birth: "1980-02-03", gender: "female" } as const;
export const VALID_DOCTOR = { name: "Dr Example", specialization: "Cardiology" } as const;

type Json = Record<string, unknown> & { id: string };

/** Creates a resource through the API as `user`; returns its body and ETag. */
async function createAs(path: string, user: TestUser, body: object): Promise<{ body: Json; etag: string }> {
  const res = await call(path, jsonRequest("POST", body, user.auth));
  expect(res.status, await res.clone().text()).toBe(201);
  return { body: (await res.json()) as Json, etag: res.headers.get("ETag") ?? "" };
}

export const createPatient = (user: TestUser, overrides: object = {}) =>
  createAs("/api/patients/", user, { ...VALID_PATIENT, ...overrides });
export const createDoctor = (user: TestUser, overrides: object = {}) => createAs("/api/doctors/", user, { ...VALID_DOCTOR, ...overrides });
export const createMapping = (user: TestUser, patientId: string, doctorId: string) =>
  createAs("/api/mappings/", user, { patient_id: patientId, doctor_id: doctorId });

/** A fresh X-Request-Id, to find the audit rows one request wrote. */
export const newRequestId = () => `test-${crypto.randomUUID()}`;

export interface AuditRow {
  actor_id: string;
  action: string;
  resource_type: string;
  resource_id: string | null;
  client_request_id: string;
  outcome: string;
}

/** The audit rows of the requests that sent X-Request-Id `requestId`, read straight from the database. */
export async function auditRows(requestId: string): Promise<AuditRow[]> {
  return (await directSql()`
    SELECT actor_id, action, resource_type, resource_id, client_request_id, outcome
    FROM audit_events WHERE client_request_id = ${requestId}`) as AuditRow[];
}

/** The list envelope of docs/BEHAVIOUR.md. */
export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export const ISO_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const STRONG_ETAG = /^"[^"]+"$/;

/** The local endpoint's fault modes (scripts/neon-local/server.ts): three before the SQL runs, four after. */
export const FAULTS_BEFORE_SQL = ["refuse", "error", "hang"] as const;
export const FAULTS_AFTER_SQL = ["drop-before-commit", "drop-after-commit", "error-after-commit", "hang-after-commit"] as const;
export type Fault = (typeof FAULTS_BEFORE_SQL)[number] | (typeof FAULTS_AFTER_SQL)[number];
/** Whether the operation's SQL has committed when `fault` strikes its round trip. */
export const commitsBeforeFault = (fault: Fault) => fault.endsWith("-after-commit");

/** Sets (or, with "none", clears) a fault for one connection string at the local endpoint; clearing waits for its requests to settle. */
export const setFault = (connection: string, mode: Fault | "none", from = 1) =>
  fetch(`${env.NEON_LOCAL_STATS.replace(/\/stats$/, "/faults")}?connection=${encodeURIComponent(connection)}&mode=${mode}&from=${from}`, {
    method: "POST",
  });

/**
 * Requests whose database calls meet `fault` at the local endpoint (and
 * only theirs: the fault is set for a connection string of their own),
 * from the `from`-th round trip on. The database timeout is short so that
 * a hang ends quickly; when `fn` is done, the endpoint has finished (committed
 * or rolled back) whatever it was still running, so read-backs are final.
 */
export async function withFault<T>(
  fault: Fault,
  fn: (request: (path: string, init?: RequestInit) => Promise<Response>) => Promise<T>,
  { from = 1 }: { from?: number } = {},
): Promise<T> {
  const connection = `postgresql://app:app@127.0.0.1:5432/app?fault=${crypto.randomUUID()}`;
  expect((await setFault(connection, fault, from)).status).toBe(204);
  try {
    return await fn((path, init) => callWithEnv({ DATABASE_URL: connection, DB_TIMEOUT_MS: "500" }, path, init));
  } finally {
    await setFault(connection, "none");
  }
}

/**
 * Cursor paging of docs/BEHAVIOUR.md on one list, against the same list read
 * by offset in one page (so at most 100 rows): following `next` from
 * `cursor=` with `limit` visits every row exactly once, in order; each link
 * keeps the other parameters and carries no offset; `count` is the total on
 * every page; the last page's `next` is null; following `previous` from the
 * last page walks back through the same pages to the first, whose
 * `previous` is null. Returns the pages read forwards.
 */
export async function expectCursorPaging<T extends { id: string }>(
  path: string,
  query: Record<string, string>,
  headers: Record<string, string>,
  limit: number,
): Promise<Page<T>[]> {
  const get = async (url: string) => {
    const res = await call(url, { headers });
    expect(res.status, `${url}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as Page<T>;
  };
  const all = await get(`${path}?${new URLSearchParams({ ...query, limit: "100" })}`);
  expect(all.next, "the whole list fits one offset page").toBeNull();
  const kept = (link: string) => {
    const params = Object.fromEntries(new URL(link).searchParams);
    expect(params).toEqual({ ...query, limit: String(limit), cursor: expect.stringMatching(/^[A-Za-z0-9_-]*$/) });
    expect(new URL(link).pathname).toBe(new URL(path, ORIGIN).pathname);
    return link;
  };
  const forward: Page<T>[] = [await get(`${path}?${new URLSearchParams({ ...query, limit: String(limit), cursor: "" })}`)];
  expect(forward[0].previous).toBeNull();
  while (forward[forward.length - 1].next !== null) {
    expect(forward.length, "more pages than rows").toBeLessThanOrEqual(all.count + 1);
    forward.push(await get(kept(forward[forward.length - 1].next ?? "")));
  }
  const ids = (pages: Page<T>[]) => pages.flatMap((p) => p.results.map((r) => r.id));
  expect(ids(forward)).toEqual(all.results.map((r) => r.id));
  for (const [i, page] of forward.entries()) {
    expect(page.count).toBe(all.count);
    expect(page.results.length).toBe(i < forward.length - 1 || all.count % limit === 0 ? limit : all.count % limit);
  }
  const backward: Page<T>[] = [forward[forward.length - 1]];
  while (backward[backward.length - 1].previous !== null) {
    expect(backward.length, "more pages back than forward").toBeLessThanOrEqual(forward.length);
    backward.push(await get(kept(backward[backward.length - 1].previous ?? "")));
  }
  expect(backward.map((p) => p.results.map((r) => r.id)).reverse()).toEqual(forward.map((p) => p.results.map((r) => r.id)));
  expect(backward[backward.length - 1].previous).toBeNull();
  for (const page of backward) expect(page.count).toBe(all.count);
  return forward;
}

/** The JSON inside a cursor (opaque to clients; the tests read it to forge one). */
export const cursorJson = (cursor: string) =>
  JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(cursor.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))));
/** A cursor made from JSON, as the API encodes them. */
export const makeCursor = (json: unknown) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(json))))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
/** The `cursor` of a link. */
export const cursorOf = (link: string | null) => new URL(link ?? "").searchParams.get("cursor") ?? "";
