/**
 * Database faults (injected at the local endpoint) on every write route:
 * the API answers 503 with Retry-After and a problem body that reveals
 * nothing — never a 500, never a hang — and the database holds either the
 * whole operation with its audit row or nothing of it, as read back
 * directly. Which one depends on where the fault struck: before the SQL ran
 * or before its COMMIT, nothing; after the COMMIT (the answer cut, a 500,
 * or no answer until the Worker's DB timeout), all of it.
 */

import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { registeredRoutes } from "../src/lib/registry";
import { loginAttemptKey, sha256 } from "../src/lib/tokens";
import { resources } from "../src/resources";
import {
  auditRows,
  call,
  commitsBeforeFault,
  createDoctor,
  createMapping,
  createPatient,
  directSql,
  expectProblem,
  FAULTS_AFTER_SQL,
  FAULTS_BEFORE_SQL,
  type Fault,
  jsonRequest,
  makeAdmin,
  newRequestId,
  newUser,
  PASSWORD,
  type TestUser,
  uniqueEmail,
  VALID_DOCTOR,
  VALID_PATIENT,
  withFault,
} from "./helpers";

const FAULTS: Fault[] = [...FAULTS_BEFORE_SQL, ...FAULTS_AFTER_SQL];

/** The whole of the 503: anything more (the endpoint, the fault, the SQL, the request's data) would be a leak. */
const UNAVAILABLE = {
  type: "about:blank",
  title: "Service Unavailable",
  status: 503,
  detail: "The database is unavailable; try again shortly.",
};

interface Prepared {
  path: string;
  init: RequestInit;
  /** Each part of the operation: whether it is in the database now. All of them, or none. */
  effects: () => Promise<boolean[]>;
}

interface Operation {
  /** The route as the API docs list it; `variant` tells apart two operations on one route. */
  route: string;
  variant?: string;
  /** Whether the route writes an audit row (patients and mappings do). */
  audited: boolean;
  /** The round trip that writes (login reads the account first); the others commit nothing. */
  writingRoundTrip: number;
  /** Sets the scene through the unfaulted app; returns the request to send under the fault. */
  prepare: (user: TestUser, headers: Record<string, string>, marker: string) => Promise<Prepared>;
}

const rows = async (query: Promise<Record<string, unknown>[]>) => (await query).length;

const RESOURCES = {
  patients: { valid: VALID_PATIENT, create: createPatient, owner: "owner_id", audited: true },
  doctors: { valid: VALID_DOCTOR, create: createDoctor, owner: "created_by", audited: false },
} as const;

/** Create, PUT and PATCH of a patient or a doctor: the marker name written, and by an update the version bumped. */
function resourceWrites(table: keyof typeof RESOURCES): Operation[] {
  const { valid, create, owner, audited } = RESOURCES[table];
  const creation: Operation = {
    route: `POST /api/${table}`,
    audited,
    writingRoundTrip: 1,
    prepare: async (user, headers, marker) => ({
      path: `/api/${table}/`,
      init: jsonRequest("POST", { ...valid, name: marker }, headers),
      effects: async () => [
        (await rows(directSql().query(`SELECT 1 FROM ${table} WHERE ${owner} = $1 AND name = $2`, [user.id, marker]))) === 1,
      ],
    }),
  };
  const updates = (["PUT", "PATCH"] as const).map(
    (method): Operation => ({
      route: `${method} /api/${table}/:id`,
      audited,
      writingRoundTrip: 1,
      prepare: async (user, headers, marker) => {
        const { id } = (await create(user)).body;
        return {
          path: `/api/${table}/${id}/`,
          init: jsonRequest(method, method === "PUT" ? { ...valid, name: marker } : { name: marker }, headers),
          effects: async () => {
            const [row] = await directSql().query(`SELECT name, version FROM ${table} WHERE id = $1`, [id]);
            return [row.name === marker, row.version === 2];
          },
        };
      },
    }),
  );
  return [creation, ...updates];
}

/** An administrator's write that ends every session of another account (the caller is made an administrator). */
function adminSignOut(route: string, suffix: string, init: (headers: Record<string, string>) => RequestInit, state: string): Operation {
  return {
    route,
    audited: true,
    writingRoundTrip: 1,
    prepare: async (user, headers) => {
      await makeAdmin(user);
      const target = await newUser();
      return {
        path: `/api/admin/users/${target.id}/${suffix}`,
        init: init(headers),
        effects: async () => [
          (await rows(
            directSql().query(`SELECT 1 FROM users WHERE id = $1 AND ${state} AND tokens_valid_after IS NOT NULL`, [target.id]),
          )) === 1,
          (await rows(directSql()`SELECT 1 FROM refresh_tokens WHERE user_id = ${target.id} AND revoked_at IS NOT NULL`)) === 1,
        ],
      };
    },
  };
}

const OPERATIONS: Operation[] = [
  ...resourceWrites("patients"),
  {
    route: "DELETE /api/patients/:id",
    variant: "with a mapping, which goes with it",
    audited: true,
    writingRoundTrip: 1,
    prepare: async (user, headers) => {
      const { id } = (await createPatient(user)).body;
      const mapping = (await createMapping(user, id, (await createDoctor(user)).body.id)).body.id;
      return {
        path: `/api/patients/${id}/`,
        init: { method: "DELETE", headers },
        effects: async () => [
          (await rows(directSql()`SELECT 1 FROM patients WHERE id = ${id}`)) === 0,
          (await rows(directSql()`SELECT 1 FROM patient_doctor_mappings WHERE id = ${mapping}`)) === 0,
        ],
      };
    },
  },
  ...resourceWrites("doctors"),
  {
    route: "DELETE /api/doctors/:id",
    audited: false,
    writingRoundTrip: 1,
    prepare: async (user, headers) => {
      const { id } = (await createDoctor(user)).body;
      return {
        path: `/api/doctors/${id}/`,
        init: { method: "DELETE", headers },
        effects: async () => [(await rows(directSql()`SELECT 1 FROM doctors WHERE id = ${id}`)) === 0],
      };
    },
  },
  {
    route: "POST /api/mappings",
    audited: true,
    writingRoundTrip: 1,
    prepare: async (user, headers) => {
      const patient = (await createPatient(user)).body.id;
      const doctor = (await createDoctor(user)).body.id;
      return {
        path: "/api/mappings/",
        init: jsonRequest("POST", { patient_id: patient, doctor_id: doctor }, headers),
        effects: async () => [(await rows(directSql()`SELECT 1 FROM patient_doctor_mappings WHERE patient_id = ${patient}`)) === 1],
      };
    },
  },
  {
    route: "DELETE /api/mappings/:id",
    audited: true,
    writingRoundTrip: 1,
    prepare: async (user, headers) => {
      const patient = (await createPatient(user)).body.id;
      const { id } = (await createMapping(user, patient, (await createDoctor(user)).body.id)).body;
      return {
        path: `/api/mappings/${id}/`,
        init: { method: "DELETE", headers },
        effects: async () => [(await rows(directSql()`SELECT 1 FROM patient_doctor_mappings WHERE id = ${id}`)) === 0],
      };
    },
  },
  {
    route: "POST /api/auth/register",
    audited: false,
    writingRoundTrip: 1,
    prepare: async (_, headers) => {
      const email = uniqueEmail("fault");
      return {
        path: "/api/auth/register/",
        init: jsonRequest("POST", { name: "Fault", email, password: PASSWORD }, headers),
        effects: async () => [(await rows(directSql()`SELECT 1 FROM users WHERE email = ${email}`)) === 1],
      };
    },
  },
  {
    // Happened: a new session (refresh token) and the earlier failed login forgotten, in one statement.
    route: "POST /api/auth/login",
    audited: false,
    writingRoundTrip: 2,
    prepare: async (user, headers) => {
      expect((await call("/api/auth/login/", jsonRequest("POST", { email: user.email, password: "not the password" }))).status).toBe(401);
      const emailHash = await loginAttemptKey(user.email, env.JWT_SECRET);
      return {
        path: "/api/auth/login/",
        init: jsonRequest("POST", { email: user.email, password: user.password }, headers),
        effects: async () => [
          (await rows(directSql()`SELECT 1 FROM refresh_tokens WHERE user_id = ${user.id}`)) === 2,
          (await rows(directSql()`SELECT 1 FROM login_attempts WHERE email_hash = ${emailHash}`)) === 0,
        ],
      };
    },
  },
  {
    // Happened: the attempt counted (the answer would have been 401), in login's first and only round trip.
    route: "POST /api/auth/login",
    variant: "with a wrong password",
    audited: false,
    writingRoundTrip: 1,
    prepare: async (user, headers) => {
      const emailHash = await loginAttemptKey(user.email, env.JWT_SECRET);
      return {
        path: "/api/auth/login/",
        init: jsonRequest("POST", { email: user.email, password: "not the password" }, headers),
        effects: async () => [
          (await rows(directSql()`SELECT 1 FROM login_attempts WHERE email_hash = ${emailHash} AND failures = 1`)) === 1,
        ],
      };
    },
  },
  {
    // Happened: the presented token spent and its successor issued in the same family.
    route: "POST /api/auth/refresh",
    audited: false,
    writingRoundTrip: 1,
    prepare: async (user, headers) => {
      const tokenHash = await sha256(user.tokens.refresh);
      return {
        path: "/api/auth/refresh/",
        init: jsonRequest("POST", { refresh: user.tokens.refresh }, headers),
        effects: async () => [
          (await rows(directSql()`SELECT 1 FROM refresh_tokens WHERE token_hash = ${tokenHash} AND used_at IS NOT NULL`)) === 1,
          (await rows(directSql()`SELECT 1 FROM refresh_tokens WHERE user_id = ${user.id}`)) === 2,
        ],
      };
    },
  },
  {
    // Happened: the session (the token's family) revoked.
    route: "POST /api/auth/logout",
    audited: false,
    writingRoundTrip: 1,
    prepare: async (user, headers) => {
      const tokenHash = await sha256(user.tokens.refresh);
      return {
        path: "/api/auth/logout/",
        init: jsonRequest("POST", { refresh: user.tokens.refresh }, headers),
        effects: async () => [
          (await rows(directSql()`SELECT 1 FROM refresh_tokens WHERE token_hash = ${tokenHash} AND revoked_at IS NOT NULL`)) === 1,
        ],
      };
    },
  },
  {
    // Happened: the password replaced, every earlier session ended (tokens refused, families revoked) and a new one started.
    route: "POST /api/auth/password",
    audited: false,
    writingRoundTrip: 2,
    prepare: async (user, headers) => {
      const [before] = await directSql()`SELECT password_hash FROM users WHERE id = ${user.id}`;
      return {
        path: "/api/auth/password/",
        init: jsonRequest("POST", { current_password: user.password, new_password: "a brand new passphrase" }, headers),
        effects: async () => [
          (await rows(directSql()`SELECT 1 FROM users WHERE id = ${user.id} AND password_hash <> ${before.password_hash}`)) === 1,
          (await rows(directSql()`SELECT 1 FROM users WHERE id = ${user.id} AND tokens_valid_after IS NOT NULL`)) === 1,
          (await rows(directSql()`SELECT 1 FROM refresh_tokens WHERE user_id = ${user.id} AND revoked_at IS NOT NULL`)) === 1,
          (await rows(directSql()`SELECT 1 FROM refresh_tokens WHERE user_id = ${user.id}`)) === 2,
        ],
      };
    },
  },
  // Happened: the account deactivated (or only signed out everywhere), its access tokens refused and refresh families revoked, audited.
  adminSignOut("PATCH /api/admin/users/:id", "", (headers) => jsonRequest("PATCH", { is_active: false }, headers), "NOT is_active"),
  adminSignOut("DELETE /api/admin/users/:id/sessions", "sessions/", (headers) => ({ method: "DELETE", headers }), "true"),
];

/** Every operation under every fault at its first round trip, and the two-round-trip ones at their second too. */
const CASES = OPERATIONS.flatMap((op) =>
  [1, ...(op.writingRoundTrip > 1 ? [op.writingRoundTrip] : [])].flatMap((from) =>
    FAULTS.map((fault) => ({ op, fault, from, committed: commitsBeforeFault(fault) && from === op.writingRoundTrip })),
  ),
);

describe("a database fault during a write", () => {
  it.each(
    CASES.map((c) => [c.op.route + (c.op.variant ? ` ${c.op.variant}` : ""), c.fault, c.from, c.committed ? "all" : "none", c] as const),
  )("%s, %s at round trip %i: 503, and %s of it in the database", async (_, fault, from, __, { op, committed }) => {
    const user = await newUser();
    const requestId = newRequestId();
    const marker = `Fault ${crypto.randomUUID()}`;
    const { path, init, effects } = await op.prepare(user, { ...user.auth, "X-Request-Id": requestId }, marker);
    const res = await withFault(fault, (request) => request(path, init), { from });
    expect(await expectProblem(res, 503)).toEqual(UNAVAILABLE);
    expect(res.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
    // All or nothing: every part of the operation, and its audit row, together.
    const parts = await effects();
    expect(parts).toEqual(parts.map(() => committed));
    if (op.audited) {
      expect((await auditRows(requestId)).map((a) => a.outcome)).toEqual(committed ? ["success"] : []);
    }
  });
});

/**
 * The worst case for a client: the write committed, the answer was lost
 * (503). A retry with the same Idempotency-Key gets the original answer
 * (docs/BEHAVIOUR.md), and the operation is in the database exactly once.
 */
describe("a lost answer retried with its Idempotency-Key", () => {
  const idempotent = OPERATIONS.filter((op) => /^(POST|PUT|PATCH|DELETE) \/api\/(patients|doctors|mappings)/.test(op.route));
  it.each(idempotent.map((op) => [op.route, op] as const))(
    "%s: drop after COMMIT, then the retry answers as the first would have, written once",
    async (_, op) => {
      const user = await newUser();
      const [firstId, retryId] = [newRequestId(), newRequestId()];
      const key = crypto.randomUUID();
      const marker = `Fault ${crypto.randomUUID()}`;
      const { path, init, effects } = await op.prepare(user, { ...user.auth, "Idempotency-Key": key, "X-Request-Id": firstId }, marker);
      await expectProblem(await withFault("drop-after-commit", (request) => request(path, init)), 503);
      const retry = await call(path, { ...init, headers: { ...(init.headers as Record<string, string>), "X-Request-Id": retryId } });
      const method = op.route.split(" ")[0];
      expect(retry.status, await retry.clone().text()).toBe(method === "POST" ? 201 : method === "DELETE" ? 204 : 200);
      expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
      if (method === "POST") expect(retry.headers.get("Location")).toMatch(/^http:\/\/127\.0\.0\.1:8787\/api\/\w+\/[0-9a-f-]{36}\/$/);
      if (method !== "DELETE") {
        const body = (await retry.json()) as { id: string; name?: string };
        if (op.route.includes("/api/mappings")) expect(retry.headers.get("Location")).toContain(body.id);
        else expect(body.name).toBe(marker);
      }
      // Exactly once: the effects check one row (create), one version bump (update), the row gone (delete).
      const parts = await effects();
      expect(parts).toEqual(parts.map(() => true));
      if (op.audited) {
        expect((await auditRows(firstId)).map((a) => a.outcome)).toEqual(["success"]);
        expect((await auditRows(retryId)).map((a) => a.outcome)).toEqual(["replayed"]);
      }
    },
  );
});

describe.each(FAULTS)("with the database fault %s", (fault) => {
  it("readiness answers 503", async () => {
    const res = await withFault(fault, (request) => request("/api/health/ready/"));
    await expectProblem(res, 503);
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
  });
});

it("covers every write route the API documents", () => {
  const writes = registeredRoutes(resources)
    .filter((r) => r.method !== "GET")
    .map((r) => `${r.method} ${r.path}`);
  expect(new Set(OPERATIONS.map((op) => op.route))).toEqual(new Set(writes));
});
