/**
 * The sync feed under real concurrency (docs/SYNC.md): the deployable
 * bundle in several workerd instances (Miniflare) on one database. Writer
 * clients create, update and delete one user's patients and mappings (and
 * another user's, who must never show up) through three instances whose
 * database connection commits slowly — each transaction waits 0–50 ms
 * before its COMMIT, so transactions commit in another order than they
 * took their ids — while a fourth instance syncs the user's feed over and
 * over in small pages. At the end the synced copy must equal the database
 * exactly. A feed that hands out whatever is visible, in id or timestamp
 * order, loses changes here (on PostgreSQL; PGlite runs one transaction at
 * a time, so there the test checks the bookkeeping only).
 */
import fc from "fast-check";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildBundle, startBundle } from "../../scripts/lib/bundle";
import { send, setFault } from "../instances";

const WRITER_INSTANCES = 3;
const WRITERS_PER_INSTANCE = 2;
const OPS_PER_WRITER = 40;
const SYNC_LIMIT = 5;
const SEED = 20261202;
const JWT_SECRET = "sync-race-secret-0123456789abcdef0123456789";
/** The writers' connection string: the local endpoint slows its commits. */
const WRITER_DATABASE_URL = `postgres://local:local@127.0.0.1/sync-writers-${crypto.randomUUID()}`;
const READER_DATABASE_URL = "postgres://local:local@127.0.0.1/sync-reader";

type Op = "createPatient" | "updatePatient" | "deletePatient" | "createMapping" | "deleteMapping" | "updateDoctor";
const OPS = fc.constantFrom<Op>(
  "createPatient",
  "createPatient",
  "createPatient",
  "updatePatient",
  "updatePatient",
  "deletePatient",
  "createMapping",
  "createMapping",
  "deleteMapping",
  "updateDoctor",
);

interface Change {
  type: "doctor" | "patient" | "mapping";
  id: string;
  op: "upsert" | "delete";
  data: Record<string, unknown> | null;
}

const endpoint = () => inject("neonLocalEndpoint");

describe("the sync feed while several clients write at once", () => {
  let instances: Miniflare[] = [];
  let writers: string[] = [];
  let reader = "";

  beforeAll(async () => {
    const bundle = buildBundle();
    const bindings = { NEON_LOCAL_ENDPOINT: endpoint(), JWT_SECRET, ALLOWED_HOSTS: "*" };
    instances = [
      ...Array.from({ length: WRITER_INSTANCES }, () => startBundle(bundle.path, { ...bindings, DATABASE_URL: WRITER_DATABASE_URL })),
      startBundle(bundle.path, { ...bindings, DATABASE_URL: READER_DATABASE_URL }),
    ];
    const origins = await Promise.all(instances.map(async (mf) => (await mf.ready).origin));
    writers = origins.slice(0, WRITER_INSTANCES);
    reader = origins[WRITER_INSTANCES];
    expect((await setFault(endpoint(), WRITER_DATABASE_URL, "slow-commit")).status).toBe(204);
  }, 120_000);

  afterAll(async () => {
    await setFault(endpoint(), WRITER_DATABASE_URL, "none");
    await Promise.all(instances.map((mf) => mf.dispose()));
  });

  async function newUser(name: string) {
    const email = `sync-race-${crypto.randomUUID()}@example.com`;
    const password = "a sync race pass phrase";
    expect((await send(reader, "POST", "/api/auth/register/", undefined, { name, email, password })).status).toBe(201);
    const login = await send(reader, "POST", "/api/auth/login/", undefined, { email, password });
    expect(login.status).toBe(200);
    const me = await send(reader, "GET", "/api/auth/me/", login.body.access as string);
    return { id: me.body.id as string, token: login.body.access as string };
  }

  it("leaves the syncing client's copy equal to the database: every id, every state, no deleted row", { timeout: 240_000 }, async () => {
    const owner = await newUser("Sync Owner");
    const other = await newUser("Someone Else");
    const doctors: string[] = [];
    for (let n = 0; n < 3; n++) {
      const res = await send(reader, "POST", "/api/doctors/", owner.token, { name: `Dr Sync ${n}`, specialization: "Syncing" });
      expect(res.status).toBe(201);
      doctors.push(res.body.id as string);
    }
    // Ids the writers know of (and race over: another writer may have deleted one already).
    const known = { patient: [] as string[], mapping: [] as string[] };
    const othersIds = new Set<string>();
    const statuses = new Map<string, number>();
    const tally = (op: string, status: number) => statuses.set(`${op} ${status}`, (statuses.get(`${op} ${status}`) ?? 0) + 1);
    const pick = (list: string[], r: number) => (list.length === 0 ? undefined : list[Math.floor(r * list.length)]);

    const plans = fc.sample(
      fc.array(fc.tuple(OPS, fc.double({ min: 0, max: 1, noNaN: true }), fc.boolean()), {
        minLength: OPS_PER_WRITER,
        maxLength: OPS_PER_WRITER,
      }),
      { seed: SEED, numRuns: WRITER_INSTANCES * WRITERS_PER_INSTANCE },
    );

    let writing = true;
    const othersPatients: string[] = [];
    const forget = (list: string[], id: string) => list.splice(list.indexOf(id), 1);
    /** The other user's writes: patients and mappings of theirs, none of which may show up in the owner's feed. */
    /** Counts what was done (which may not be what was drawn: an update with no patient left creates one). */
    const done = (what: string, status: number) => {
      tally(what, status);
      expect(status, `${what}: ${status}`).toBeLessThan(500);
      return status;
    };
    const otherWrite = async (origin: string, op: Op, r: number) => {
      const patient = pick(othersPatients, r);
      if (op === "deletePatient" && patient) {
        forget(othersPatients, patient);
        return done("other's deletePatient", (await send(origin, "DELETE", `/api/patients/${patient}/`, other.token)).status);
      }
      if (op === "createMapping" && patient) {
        const res = await send(origin, "POST", "/api/mappings/", other.token, { patient_id: patient, doctor_id: pick(doctors, r) });
        if (res.status === 201) othersIds.add(res.body.id as string);
        return done("other's createMapping", res.status);
      }
      const res = await send(origin, "POST", "/api/patients/", other.token, {
        name: `Other ${r}`,
        date_of_birth: "1990-01-01",
        gender: "other",
      });
      if (res.status === 201) {
        othersIds.add(res.body.id as string);
        othersPatients.push(res.body.id as string);
      }
      return done("other's createPatient", res.status);
    };
    const ownWrite = async (origin: string, op: Op, r: number, w: number) => {
      const patient = pick(known.patient, r);
      const mapping = pick(known.mapping, r);
      if (op === "createPatient" || !patient) {
        const res = await send(origin, "POST", "/api/patients/", owner.token, {
          name: `P ${w} ${r}`,
          date_of_birth: "1990-01-01",
          gender: "other",
        });
        if (res.status === 201) known.patient.push(res.body.id as string);
        return done("createPatient", res.status);
      }
      if (op === "updatePatient")
        return done(op, (await send(origin, "PATCH", `/api/patients/${patient}/`, owner.token, { name: `Updated ${w} ${r}` })).status);
      if (op === "deletePatient") {
        // Forgotten before the answer, so that fewer writes aim at a patient already gone (some still will: that is part of the race).
        forget(known.patient, patient);
        return done(op, (await send(origin, "DELETE", `/api/patients/${patient}/`, owner.token)).status);
      }
      if (op === "createMapping") {
        const res = await send(origin, "POST", "/api/mappings/", owner.token, { patient_id: patient, doctor_id: pick(doctors, r) });
        if (res.status === 201) known.mapping.push(res.body.id as string);
        return done(op, res.status);
      }
      if (op === "deleteMapping" && mapping) {
        forget(known.mapping, mapping);
        return done(op, (await send(origin, "DELETE", `/api/mappings/${mapping}/`, owner.token)).status);
      }
      const phone = `+1555${String(Math.floor(r * 1e7)).padStart(7, "0")}`;
      return done("updateDoctor", (await send(origin, "PATCH", `/api/doctors/${pick(doctors, r)}/`, owner.token, { phone })).status);
    };
    const writer = async (w: number) => {
      const origin = writers[w % WRITER_INSTANCES];
      for (const [op, r, asOther] of plans[w]) {
        // About one write in eight is the other user's.
        const mine = !(asOther && r < 0.25);
        await (mine ? ownWrite(origin, op, r, w) : otherWrite(origin, op, r));
      }
    };

    const copy = new Map<string, Change>();
    let cursor: string | undefined;
    let pages = 0;
    const syncOnce = async () => {
      for (;;) {
        const res = await send(reader, "GET", `/api/sync/?limit=${SYNC_LIMIT}${cursor ? `&since=${cursor}` : ""}`, owner.token);
        expect(res.status).toBe(200);
        pages++;
        const page = res.body as unknown as { changes: Change[]; cursor: string; has_more: boolean };
        expect(page.changes.length).toBeLessThanOrEqual(SYNC_LIMIT);
        expect(new Set(page.changes.map((c) => `${c.type}:${c.id}`)).size, "each resource at most once per page").toBe(page.changes.length);
        for (const c of page.changes) {
          expect(othersIds.has(c.id), "another user's patient in the feed").toBe(false);
          if (c.op === "delete") copy.delete(`${c.type}:${c.id}`);
          else copy.set(`${c.type}:${c.id}`, c);
        }
        cursor = page.cursor;
        if (!page.has_more) return page.changes.length;
      }
    };
    const syncer = async () => {
      while (writing) await syncOnce();
    };

    const syncing = syncer();
    await Promise.all(Array.from({ length: WRITER_INSTANCES * WRITERS_PER_INSTANCE }, (_, w) => writer(w)));
    writing = false;
    await syncing;
    // Until a sync finds nothing new: a change still behind a running transaction comes on a later sync, a skipped one never.
    for (let round = 0; round < 20 && (await syncOnce()) > 0; round++);

    // The truth, read through the API: the owner's patients and mappings, and the doctors this test made.
    const listAll = async (path: string) => {
      const rows: Record<string, unknown>[] = [];
      for (let offset = 0; ; offset += 100) {
        const res = await send(reader, "GET", `${path}?limit=100&offset=${offset}`, owner.token);
        rows.push(...(res.body.results as Record<string, unknown>[]));
        if (!res.body.next) return rows;
      }
    };
    const truth = new Map<string, Record<string, unknown>>();
    for (const p of await listAll("/api/patients/")) truth.set(`patient:${p.id}`, p);
    for (const m of await listAll("/api/mappings/")) truth.set(`mapping:${m.id}`, m);
    for (const id of doctors) truth.set(`doctor:${id}`, (await send(reader, "GET", `/api/doctors/${id}/`, owner.token)).body);
    const copied = new Map(
      [...copy]
        .filter(([, c]) => c.type !== "doctor" || doctors.includes(c.id))
        .map(([key, c]) => [key, c.data as Record<string, unknown>]),
    );

    const written = [...statuses].filter(([k]) => /2\d\d$/.test(k)).reduce((n, [, v]) => n + v, 0);
    console.log(
      `sync race (${inject("databaseBackend")}): ${written} writes succeeded of ${WRITER_INSTANCES * WRITERS_PER_INSTANCE * OPS_PER_WRITER} generated; ${pages} pages synced; ${truth.size} rows at the end`,
      Object.fromEntries([...statuses].sort()),
    );
    expect(written, "writes that reached the database and succeeded").toBeGreaterThan(OPS_PER_WRITER * 2);
    const missing = [...truth.keys()].filter((k) => !copied.has(k));
    const extra = [...copied.keys()].filter((k) => !truth.has(k));
    const stale = [...truth.keys()].filter((k) => copied.has(k) && JSON.stringify(copied.get(k)) !== JSON.stringify(truth.get(k)));
    expect({ missing, extra, stale }).toEqual({ missing: [], extra: [], stale: [] });
  });
});
