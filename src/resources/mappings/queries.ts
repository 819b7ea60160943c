/**
 * Mapping SQL: a mapping belongs to its patient's owner (the row carries
 * owner_id, kept true by a composite foreign key), every statement carries
 * the owner condition, and each writes its audit row in the same round trip
 * (docs/BEHAVIOUR.md).
 */
import { type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../../db/client";
import {
  type Actor,
  actorCheck,
  auditInsert,
  auditOutcome,
  bare,
  listPage,
  listTotal,
  outcomeOf,
  versionMatches,
  type WriteOutcome,
} from "../../db/fragments";
import { idempotency, type PriorRecord, type Replay, replayOf } from "../../db/idempotency";
import { doctors, mappings, patients } from "../../db/schema";
import type { ListRequest, ListRows } from "../../lib/list";
import { type AssignedDoctor, assignedDoctorResponse, type Mapping, mappingResponse } from "./schemas";

/** Mappings never change: their version (for the ETag) is always 1. */
export type VersionedMapping = Mapping & { version: number };

const t = mappings;
const versioned = (row: string) => mappingResponse.json(row, { version: sql`1` });

/** The caller's mapping as it is now, for a replayed create (src/db/idempotency.ts). */
const replayBody = (actor: Actor, id: SQL) =>
  sql`(SELECT ${versioned("r")} FROM ${t} r WHERE r.id = ${id} AND r.owner_id = ${actor.userId}) AS replay`;

const audit = (actor: Actor, action: "create" | "read" | "delete" | "list", resourceId: SQL, outcome: SQL) =>
  auditInsert(actor, { action, resourceType: "mapping", resourceId, outcome, idempotent: action === "create" || action === "delete" });

export type CreateMappingOutcome =
  | { status: "ok"; value: VersionedMapping }
  | { status: "conflict" }
  | { status: "invalid"; patient: boolean; doctor: boolean }
  | Replay<VersionedMapping>;

/**
 * Assigns a doctor to one of the caller's patients. A pair that exists, or
 * is being created by a racing request, inserts nothing (ON CONFLICT waits
 * for the winner): one 201, every other request a 409. The patient and the
 * doctor are locked FOR KEY SHARE, as the foreign keys would lock them, but
 * before the insert: a concurrent DELETE of either then either finishes first
 * (and this statement sees no row: 400, audited) or waits for this one —
 * never a foreign-key error that would take the audit row down with it.
 */
export async function createMapping(db: Db, actor: Actor, patientId: string, doctorId: string): Promise<CreateMappingOutcome> {
  const idem = idempotency(actor.userId, actor.idempotency);
  const { rows } = await db.execute<{
    patient: number;
    doctor: number;
    body: VersionedMapping | null;
    idem: PriorRecord | null;
    replay: VersionedMapping | null;
  }>(sql`
    WITH ${idem.prior}, p AS (SELECT ${patients.id}, ${patients.ownerId} FROM ${patients} WHERE ${patients.id} = ${patientId} AND ${patients.ownerId} = ${actor.userId} FOR KEY SHARE),
    d AS (SELECT ${doctors.id} FROM ${doctors} WHERE ${doctors.id} = ${doctorId} FOR KEY SHARE),
    ins AS (
      INSERT INTO ${t} (${bare(t.patientId)}, ${bare(t.doctorId)}, ${bare(t.ownerId)})
      SELECT p.${bare(patients.id)}, d.${bare(doctors.id)}, p.${bare(patients.ownerId)} FROM p, d WHERE ${actorCheck(actor)} AND ${idem.fresh}
      ON CONFLICT (${bare(t.patientId)}, ${bare(t.doctorId)}) DO NOTHING
      RETURNING *
    ), both_found AS (SELECT 1 FROM p, d), ${idem.record(201, "mapping", "ins")},
    audit AS (${audit(actor, "create", sql`(SELECT id FROM ins)`, auditOutcome("ins", { conflict: "both_found" }))})
    SELECT ${actorCheck(actor)} AS actor, (SELECT count(*) FROM p)::int AS patient, (SELECT count(*) FROM d)::int AS doctor,
           (SELECT ${versioned("ins")} FROM ins) AS body, ${idem.column}, ${idem.replay(replayBody(actor, idem.replayId))}`);
  const row = rows[0];
  const replay = replayOf(row);
  if (replay) return replay;
  if (row.body) return { status: "ok", value: row.body };
  if (row.patient === 1 && row.doctor === 1) return { status: "conflict" };
  return { status: "invalid", patient: row.patient === 1, doctor: row.doctor === 1 };
}

/** The caller's mapping `id` (the owner condition every statement carries). */
const ownMapping = (actor: Actor, id: string) => sql`${t.id} = ${id} AND ${t.ownerId} = ${actor.userId}`;

export async function readMapping(db: Db, actor: Actor, id: string): Promise<VersionedMapping | undefined> {
  const { rows } = await db.auditRead<{ body: VersionedMapping }>(sql`
    WITH m AS (SELECT * FROM ${t} WHERE ${ownMapping(actor, id)}),
    audit AS (${audit(actor, "read", sql`${id}::uuid`, auditOutcome("m"))})
    SELECT ${actorCheck(actor)} AS actor, (SELECT ${versioned("m")} FROM m) AS body`);
  return rows[0].body ?? undefined;
}

export async function deleteMapping(db: Db, actor: Actor, id: string, ifMatch: string | undefined): Promise<WriteOutcome<true>> {
  const idem = idempotency(actor.userId, actor.idempotency);
  const { rows } = await db.execute<{ found: number; body: true | null }>(sql`
    WITH ${idem.prior}, cur AS (SELECT ${t.id} FROM ${t} WHERE ${ownMapping(actor, id)} FOR UPDATE),
    del AS (
      DELETE FROM ${t} WHERE ${t.id} = (SELECT id FROM cur) AND ${versionMatches(sql`1`, ifMatch)} AND ${idem.fresh} RETURNING ${t.id}
    ), ${idem.record(204, "mapping", "del")},
    audit AS (${audit(actor, "delete", sql`${id}::uuid`, auditOutcome("del", { found: "cur" }))})
    SELECT ${actorCheck(actor)} AS actor, (SELECT count(*) FROM cur)::int AS found, (SELECT true FROM del) AS body, ${idem.column},
           ${idem.raced(sql`${t}`, ownMapping(actor, id))}`);
  return outcomeOf(rows[0]);
}

/** The caller's mappings, newest last, optionally for one patient and/or one doctor. */
export async function listMappings(
  db: Db,
  actor: Actor,
  q: ListRequest & { patient_id?: string; doctor_id?: string },
): Promise<ListRows<Mapping>> {
  const conditions = [sql`${t.ownerId} = ${actor.userId}`];
  if (q.patient_id) conditions.push(sql`${t.patientId} = ${q.patient_id}`);
  if (q.doctor_id) conditions.push(sql`${t.doctorId} = ${q.doctor_id}`);
  const matches = sql.join(conditions, sql` AND `);
  const page = listPage({ table: t, id: t.id, matches, request: q, alias: "m", json: mappingResponse.json("m") });
  const { rows } = await db.auditRead<ListRows<Mapping>>(sql`
    WITH audit AS (${audit(actor, "list", sql`NULL::uuid`, sql`'success'`)}), ${page.ctes}
    SELECT ${actorCheck(actor)} AS actor, ${listTotal(t, actor.userId, conditions.length > 1, matches)} AS count, ${page.columns}`);
  return rows[0];
}

/** The doctors assigned to one of the caller's patients, in assignment order; undefined if the patient is not the caller's. */
export async function listPatientDoctors(
  db: Db,
  actor: Actor,
  patientId: string,
  q: ListRequest,
): Promise<ListRows<AssignedDoctor> | undefined> {
  // The response reads the doctor from `d` and the assignment from `m` (see assignedDoctorResponse).
  const m = alias(t, "m");
  const d = alias(doctors, "d");
  // Equality on patient_id lets mappings_patient_created_idx serve the page in order (`IN (SELECT id FROM p)` made
  // Postgres sort every mapping of the patient); `p` still holds the owner condition, as a one-time filter.
  const matches = sql`${t.patientId} = ${patientId} AND EXISTS (SELECT 1 FROM p)`;
  const join = sql`JOIN ${doctors} ${d} ON ${d.id} = ${m.doctorId}`;
  const page = listPage({ table: t, id: t.id, matches, request: q, alias: "m", json: assignedDoctorResponse.json("d"), join });
  const { rows } = await db.auditRead<ListRows<AssignedDoctor> & { found: number }>(sql`
    WITH p AS (SELECT ${patients.id} FROM ${patients} WHERE ${patients.id} = ${patientId} AND ${patients.ownerId} = ${actor.userId}),
    audit AS (${audit(actor, "list", sql`NULL::uuid`, auditOutcome("p"))}), ${page.ctes}
    SELECT ${actorCheck(actor)} AS actor, (SELECT count(*) FROM p)::int AS found,
           (SELECT count(*) FROM ${t} WHERE ${matches})::int AS count, ${page.columns}`);
  const { found, ...rest } = rows[0];
  return found === 0 ? undefined : rest;
}
