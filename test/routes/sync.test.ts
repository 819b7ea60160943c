/**
 * The sync feed (docs/SYNC.md) through the Worker's entrypoint on the real
 * database: first sync, changes since a cursor, tombstones, isolation
 * between users, the cursor's checks and the audit row. The concurrent
 * writers' property is test/routes/sync-race.node.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeOpaque } from "../../src/lib/cursor";
import {
  auditRows,
  call,
  callWithEnv,
  countRoundTrips,
  createDoctor,
  createMapping,
  createPatient,
  directSql,
  expectProblem,
  jsonRequest,
  newRequestId,
  newUser,
  type TestUser,
} from "../helpers";

interface Change {
  type: "doctor" | "patient" | "mapping";
  id: string;
  op: "upsert" | "delete";
  data: Record<string, unknown> | null;
}
interface SyncPage {
  changes: Change[];
  cursor: string;
  has_more: boolean;
}

const syncPath = (since?: string, limit?: number) => {
  const params = new URLSearchParams();
  if (since !== undefined) params.set("since", since);
  if (limit !== undefined) params.set("limit", String(limit));
  return `/api/sync/?${params}`;
};

async function page(user: TestUser, since?: string, limit?: number, headers: Record<string, string> = {}): Promise<SyncPage> {
  const res = await call(syncPath(since, limit), { headers: { ...user.auth, ...headers } });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as SyncPage;
}

/** Syncs until has_more is false; returns every page's changes in order and the last cursor. */
async function syncAll(user: TestUser, since?: string, limit = 50) {
  const pages: Change[][] = [];
  let cursor = since;
  for (;;) {
    const p = await page(user, cursor, limit);
    pages.push(p.changes);
    cursor = p.cursor;
    if (!p.has_more) return { pages, changes: pages.flat(), cursor };
  }
}

/** A client's copy: the changes applied in order. */
function apply(copy: Map<string, Change>, changes: Change[]) {
  for (const c of changes) {
    const key = `${c.type}:${c.id}`;
    if (c.op === "delete") copy.delete(key);
    else copy.set(key, c);
  }
  return copy;
}

const mine = (changes: Change[], ids: Set<string>) => changes.filter((c) => ids.has(c.id));
const json = async (path: string, user: TestUser) => (await (await call(path, { headers: user.auth })).json()) as Record<string, unknown>;

describe("GET /api/sync/", () => {
  it("without since hands out the caller's patients and mappings and every doctor, each as its own GET shows it, in pages", async () => {
    const user = await newUser();
    const patients = await Promise.all([1, 2, 3].map((n) => createPatient(user, { name: `Sync ${n}` })));
    const doctor = await createDoctor(user);
    const mapping = await createMapping(user, patients[0].body.id, doctor.body.id);
    const ids = new Set([...patients.map((p) => p.body.id), doctor.body.id, mapping.body.id]);

    const { pages, changes } = await syncAll(user, undefined, 2);
    expect(pages.every((p) => p.length <= 2)).toBe(true);
    // Each change once, in pages of at most `limit`.
    expect(new Set(changes.map((c) => `${c.type}:${c.id}`)).size).toBe(changes.length);
    const own = mine(changes, ids);
    expect(own.map((c) => c.op)).toEqual(["upsert", "upsert", "upsert", "upsert", "upsert"]);
    expect(own.find((c) => c.id === doctor.body.id)?.data).toEqual(await json(`/api/doctors/${doctor.body.id}/`, user));
    expect(own.find((c) => c.id === mapping.body.id)?.data).toEqual(await json(`/api/mappings/${mapping.body.id}/`, user));
    for (const p of patients) {
      expect(own.find((c) => c.id === p.body.id)).toEqual({
        type: "patient",
        id: p.body.id,
        op: "upsert",
        data: await json(`/api/patients/${p.body.id}/`, user),
      });
    }
    // The doctor, then the patient, then the mapping: in the order they were written.
    expect(own.map((c) => c.type)).toEqual(["patient", "patient", "patient", "doctor", "mapping"]);
    // Everything else is doctors (other tests' directory entries): never another user's patient or mapping.
    expect(changes.filter((c) => !ids.has(c.id)).every((c) => c.type === "doctor" && c.op === "upsert")).toBe(true);
  });

  it("with since hands out only what changed, once per page in its newest state, and deletions as tombstones", async () => {
    const user = await newUser();
    const kept = await createPatient(user, { name: "Kept" });
    const changed = await createPatient(user, { name: "Changed" });
    const deleted = await createPatient(user, { name: "Deleted" });
    const doctor = await createDoctor(user);
    const gone = await createDoctor(user, { name: "Dr Gone" });
    const mapping = await createMapping(user, deleted.body.id, doctor.body.id);
    const ids = new Set([kept, changed, deleted, doctor, gone, mapping].map((r) => r.body.id));
    const first = await syncAll(user);
    expect(mine(first.changes, ids)).toHaveLength(6);

    for (const name of ["Changed once", "Changed twice", "Changed thrice"]) {
      expect((await call(`/api/patients/${changed.body.id}/`, jsonRequest("PATCH", { name }, user.auth))).status).toBe(200);
    }
    expect((await call(`/api/patients/${deleted.body.id}/`, { method: "DELETE", headers: user.auth })).status).toBe(204);
    expect((await call(`/api/doctors/${gone.body.id}/`, { method: "DELETE", headers: user.auth })).status).toBe(204);

    const next = await syncAll(user, first.cursor);
    const own = mine(next.changes, ids);
    expect(own).toEqual([
      { type: "patient", id: changed.body.id, op: "upsert", data: await json(`/api/patients/${changed.body.id}/`, user) },
      // The patient's deletion takes its mapping with it, in the same transaction: patient first, then mapping.
      { type: "patient", id: deleted.body.id, op: "delete", data: null },
      { type: "mapping", id: mapping.body.id, op: "delete", data: null },
      { type: "doctor", id: gone.body.id, op: "delete", data: null },
    ]);
    expect((own[0].data as { name: string }).name).toBe("Changed thrice");

    // Nothing since: an empty page, and a cursor that still works.
    const again = await syncAll(user, next.cursor);
    expect(mine(again.changes, ids)).toEqual([]);
  });

  it("never shows one user another user's patients or mappings, not even their deletions", async () => {
    const [alice, bob] = await Promise.all([newUser("Alice"), newUser("Bob")]);
    const doctor = await createDoctor(alice);
    const alicePatient = await createPatient(alice);
    const bobPatient = await createPatient(bob);
    const bobMapping = await createMapping(bob, bobPatient.body.id, doctor.body.id);
    const aliceStart = await syncAll(alice);
    const bobStart = await syncAll(bob);
    expect(aliceStart.changes.some((c) => c.id === bobPatient.body.id || c.id === bobMapping.body.id)).toBe(false);
    expect(bobStart.changes.some((c) => c.id === alicePatient.body.id)).toBe(false);

    expect((await call(`/api/patients/${bobPatient.body.id}/`, jsonRequest("PATCH", { name: "Changed" }, bob.auth))).status).toBe(200);
    expect((await call(`/api/patients/${bobPatient.body.id}/`, { method: "DELETE", headers: bob.auth })).status).toBe(204);
    const aliceNext = await syncAll(alice, aliceStart.cursor);
    expect(aliceNext.changes.some((c) => c.id === bobPatient.body.id || c.id === bobMapping.body.id)).toBe(false);
    const bobNext = await syncAll(bob, bobStart.cursor);
    expect(mine(bobNext.changes, new Set([bobPatient.body.id, bobMapping.body.id])).map((c) => `${c.type} ${c.op}`)).toEqual([
      "patient delete",
      "mapping delete",
    ]);
  });

  it("pages through changes of one transaction one at a time: a patient's deletion and its three mappings' tombstones", async () => {
    const user = await newUser();
    const patient = await createPatient(user);
    const doctors = await Promise.all([1, 2, 3].map(() => createDoctor(user)));
    const mappings = await Promise.all(doctors.map((d) => createMapping(user, patient.body.id, d.body.id)));
    const start = await syncAll(user);
    expect((await call(`/api/patients/${patient.body.id}/`, { method: "DELETE", headers: user.auth })).status).toBe(204);
    // Four changes with the same transaction id, three of them of one type: ties broken by id, never skipped.
    const next = await syncAll(user, start.cursor, 1);
    const ids = new Set([patient.body.id, ...mappings.map((m) => m.body.id)]);
    const own = mine(next.changes, ids);
    expect(own.map((c) => `${c.type} ${c.op}`)).toEqual(["patient delete", "mapping delete", "mapping delete", "mapping delete"]);
    expect(own.slice(1).map((c) => c.id)).toEqual(mappings.map((m) => m.body.id).sort());
  });

  it("leaves out, on a first sync, deletions of rows the client never had", async () => {
    const user = await newUser();
    const patient = await createPatient(user);
    expect((await call(`/api/patients/${patient.body.id}/`, { method: "DELETE", headers: user.auth })).status).toBe(204);
    const first = await syncAll(user, undefined, 1);
    expect(first.changes.some((c) => c.id === patient.body.id)).toBe(false);
  });

  it("a copy built from pages equals what the API shows, however small the pages", async () => {
    const user = await newUser();
    const doctor = await createDoctor(user);
    const patients = await Promise.all([1, 2, 3, 4].map((n) => createPatient(user, { name: `Copy ${n}` })));
    await createMapping(user, patients[0].body.id, doctor.body.id);
    const start = await syncAll(user, undefined, 1);
    const copy = apply(new Map(), start.changes);
    await call(`/api/patients/${patients[1].body.id}/`, jsonRequest("PATCH", { phone: "+15551234567" }, user.auth));
    await call(`/api/patients/${patients[0].body.id}/`, { method: "DELETE", headers: user.auth });
    const newer = await createPatient(user, { name: "Copy 5" });
    apply(copy, (await syncAll(user, start.cursor, 1)).changes);
    const patientsNow = (await (await call("/api/patients/?limit=100", { headers: user.auth })).json()) as { results: { id: string }[] };
    const mappingsNow = (await (await call("/api/mappings/?limit=100", { headers: user.auth })).json()) as { results: { id: string }[] };
    const copied = (type: string) => [...copy.values()].filter((c) => c.type === type).map((c) => c.data);
    expect(copied("patient")).toEqual(expect.arrayContaining(patientsNow.results));
    expect(copied("patient")).toHaveLength(patientsNow.results.length);
    expect(copied("patient").some((p) => (p as { id: string }).id === newer.body.id)).toBe(true);
    expect(copied("mapping")).toEqual(mappingsNow.results);
  });

  it("refuses a malformed since or limit with 400 and a cursor older than SYNC_TOMBSTONE_DAYS with 410, before the database", async () => {
    const user = await newUser();
    const { cursor } = await page(user);
    for (const [since, limit] of [
      ["not-a-cursor", undefined],
      ["eyJ2IjoxfQ", undefined],
      // A transaction id past xid8's range (2^64 − 1): a 400, never the database's cast error.
      [
        encodeOpaque({
          v: 1,
          x: "99999999999999999999",
          r: -1,
          i: "00000000-0000-0000-0000-000000000000",
          t: Math.floor(Date.now() / 1000),
        }),
        undefined,
      ],
      [
        encodeOpaque({
          v: 1,
          x: "1",
          r: -1,
          i: "00000000-0000-0000-0000-000000000000",
          f: "18446744073709551616",
          t: Math.floor(Date.now() / 1000),
        }),
        undefined,
      ],
      [`${cursor}x`, undefined],
      ["!!!", undefined],
      [cursor, 0],
      [cursor, 501],
    ] as const) {
      const res = await call(syncPath(since, limit), { headers: user.auth });
      const problem = await expectProblem(res, 400);
      expect(Object.keys(problem.errors ?? {})).toEqual([limit === undefined ? "since" : "limit"]);
    }
    // An old cursor: the same position, issued two days ago, with deletions kept one day.
    const content = JSON.parse(atob(cursor.replace(/-/g, "+").replace(/_/g, "/"))) as { t: number };
    const aged = btoa(JSON.stringify({ ...content, t: content.t - 2 * 86_400 }))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    const trips = await countRoundTrips(
      async (request) => {
        await expectProblem(await request(syncPath(aged), { headers: user.auth }), 410);
      },
      { SYNC_TOMBSTONE_DAYS: "1" },
    );
    expect(trips).toBe(0);
    expect((await callWithEnv({ SYNC_TOMBSTONE_DAYS: "3" }, syncPath(aged), { headers: user.auth })).status).toBe(200);
  });

  it("costs one round trip per page and writes one audit row, action sync", async () => {
    const user = await newUser();
    await createPatient(user);
    const requestId = newRequestId();
    const trips = await countRoundTrips(async (request) => {
      const res = await request(syncPath(undefined, 1), { headers: { ...user.auth, "X-Request-Id": requestId } });
      expect(res.status).toBe(200);
    });
    expect(trips).toBe(1);
    expect(await auditRows(requestId)).toEqual([
      { actor_id: user.id, action: "sync", resource_type: "patient", resource_id: null, client_request_id: requestId, outcome: "success" },
    ]);
  });

  it("keeps a tombstone's type, id and owner only", async () => {
    const user = await newUser();
    const patient = await createPatient(user, { name: "Private Name", medical_history: "private history" });
    await call(`/api/patients/${patient.body.id}/`, { method: "DELETE", headers: user.auth });
    const rows = await directSql()`SELECT * FROM sync_tombstones WHERE id = ${patient.body.id}`;
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]).sort()).toEqual(["deleted_at", "id", "owner_id", "resource_type", "sync_xid"]);
    expect(rows[0]).toMatchObject({ resource_type: "patient", owner_id: user.id });
  });

  it("answers any since and limit with 200, 400 or 410, never a 500, and never another user's rows", async () => {
    const [user, other] = await Promise.all([newUser(), newUser()]);
    const theirs = (await createPatient(other)).body.id;
    const now = Math.floor(Date.now() / 1000);
    // Strings of any kind, cursors with one field wrong or extreme, and real positions.
    // Mostly valid, each field now and then wrong or extreme: so that most requests reach the database.
    const mostly = <T, U>(valid: fc.Arbitrary<T>, wrong: fc.Arbitrary<U>) =>
      fc.oneof({ arbitrary: valid, weight: 8 }, { arbitrary: wrong, weight: 1 });
    const cursorLike = fc
      .record({
        v: mostly(fc.constant(1), fc.integer()),
        x: mostly(
          fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String),
          fc.oneof(fc.bigInt({ min: 2n ** 64n, max: 2n ** 66n }).map(String), fc.string()),
        ),
        r: mostly(fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1000, max: 1000 })),
        i: mostly(fc.uuid(), fc.string()),
        t: mostly(fc.integer({ min: now - 86_400, max: now }), fc.integer({ min: 0, max: 2 ** 40 })),
      })
      .map((c) => encodeOpaque(c));
    const since = fc.oneof({ arbitrary: cursorLike, weight: 4 }, fc.string(), fc.string({ unit: "binary" }));
    const limit = mostly(
      fc.option(fc.integer({ min: 1, max: 500 }).map(String), { nil: undefined }),
      fc.oneof(fc.integer().map(String), fc.string()),
    );
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(since, limit, async (s, l) => {
        const params = new URLSearchParams({ since: s, ...(l === undefined ? {} : { limit: l }) });
        const res = await call(`/api/sync/?${params}`, { headers: user.auth });
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        expect([200, 400, 410]).toContain(res.status);
        const text = await res.text();
        expect(text).not.toContain(theirs);
      }),
      { numRuns: 300, seed: 20261202 },
    );
    console.log("sync since/limit property: statuses", statuses);
    // Enough of them reached the database to mean something.
    expect(statuses[200] ?? 0).toBeGreaterThan(100);
  });
});
