/**
 * Mapping SQL: a mapping belongs to its patient's owner (the row carries
 * owner_id, kept true by a composite foreign key), every statement carries
 * the owner condition, and each writes its audit row in the same round trip
 * (API.md §5, §6).
 */
import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import {
  type Actor,
  auditInsert,
  auditOutcome,
  isoTimestamp,
  jsonObject,
  listTotal,
  outcomeOf,
  versionMatches,
  type WriteOutcome,
} from "../../db/fragments";
import { assignedDoctorJson } from "../doctors/queries";

export type MappingJson = Record<string, unknown> & { id: string; version: number };

const MAPPING_FIELDS = {
  id: "$.id",
  patient_id: "$.patient_id",
  doctor_id: "$.doctor_id",
  created_at: isoTimestamp("$.created_at"),
};
/** A mapping in a list. */
const mappingJson = jsonObject(MAPPING_FIELDS);
/** A single mapping. Mappings never change: their version (for the ETag) is always 1. */
const versionedMappingJson = jsonObject({ ...MAPPING_FIELDS, version: "1" });

const audit = (actor: Actor, action: "create" | "read" | "delete" | "list", resourceId: SQL, outcome: SQL) =>
  auditInsert(actor, { action, resourceType: "mapping", resourceId, outcome });

export type CreateMappingOutcome =
  | { status: "ok"; value: MappingJson }
  | { status: "conflict" }
  | { status: "invalid"; patient: boolean; doctor: boolean };

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
  const { rows } = await db.execute<{ patient: number; doctor: number; body: MappingJson | null }>(sql`
    WITH p AS (SELECT id, owner_id FROM patients WHERE id = ${patientId} AND owner_id = ${actor.userId} FOR KEY SHARE),
    d AS (SELECT id FROM doctors WHERE id = ${doctorId} FOR KEY SHARE),
    ins AS (
      INSERT INTO patient_doctor_mappings (patient_id, doctor_id, owner_id)
      SELECT p.id, d.id, p.owner_id FROM p, d
      ON CONFLICT (patient_id, doctor_id) DO NOTHING
      RETURNING *
    ), both_found AS (SELECT 1 FROM p, d),
    audit AS (${audit(actor, "create", sql`(SELECT id FROM ins)`, auditOutcome("ins", { conflict: "both_found" }))})
    SELECT (SELECT count(*) FROM p)::int AS patient, (SELECT count(*) FROM d)::int AS doctor, (SELECT ${versionedMappingJson("ins")} FROM ins) AS body`);
  const row = rows[0];
  if (row.body) return { status: "ok", value: row.body };
  if (row.patient === 1 && row.doctor === 1) return { status: "conflict" };
  return { status: "invalid", patient: row.patient === 1, doctor: row.doctor === 1 };
}

export async function readMapping(db: Db, actor: Actor, id: string): Promise<MappingJson | undefined> {
  const { rows } = await db.execute<{ body: MappingJson }>(sql`
    WITH m AS (SELECT * FROM patient_doctor_mappings WHERE id = ${id} AND owner_id = ${actor.userId}),
    audit AS (${audit(actor, "read", sql`${id}::uuid`, auditOutcome("m"))})
    SELECT ${versionedMappingJson("m")} AS body FROM m`);
  return rows[0]?.body;
}

export async function deleteMapping(db: Db, actor: Actor, id: string, ifMatch: string | undefined): Promise<WriteOutcome<true>> {
  const { rows } = await db.execute<{ found: number; body: true | null }>(sql`
    WITH cur AS (SELECT id FROM patient_doctor_mappings WHERE id = ${id} AND owner_id = ${actor.userId} FOR UPDATE),
    del AS (
      DELETE FROM patient_doctor_mappings WHERE id = ${id} AND owner_id = ${actor.userId} AND ${versionMatches("1", ifMatch)} RETURNING id
    ), audit AS (${audit(actor, "delete", sql`${id}::uuid`, auditOutcome("del", { found: "cur" }))})
    SELECT (SELECT count(*) FROM cur)::int AS found, (SELECT true FROM del) AS body`);
  return outcomeOf(rows[0]);
}

/** The caller's mappings, newest last, optionally for one patient and/or one doctor. */
export async function listMappings(
  db: Db,
  actor: Actor,
  q: { limit: number; offset: number; patientId?: string; doctorId?: string; descending: boolean },
): Promise<{ count: number; results: Record<string, unknown>[] }> {
  const conditions = [sql`owner_id = ${actor.userId}`];
  if (q.patientId) conditions.push(sql`patient_id = ${q.patientId}`);
  if (q.doctorId) conditions.push(sql`doctor_id = ${q.doctorId}`);
  const matches = sql.join(conditions, sql` AND `);
  const dir = sql.raw(q.descending ? "DESC" : "ASC");
  const { rows } = await db.execute<{ count: number; results: Record<string, unknown>[] }>(sql`
    WITH audit AS (${audit(actor, "list", sql`NULL::uuid`, sql`'success'`)})
    SELECT ${listTotal("patient_doctor_mappings", actor.userId, conditions.length > 1, matches)} AS count,
           (SELECT coalesce(json_agg(${mappingJson("m")} ORDER BY m.created_at ${dir}, m.id ${dir}), '[]'::json)
            FROM (SELECT * FROM patient_doctor_mappings WHERE ${matches} ORDER BY created_at ${dir}, id ${dir}
                  LIMIT ${q.limit} OFFSET ${q.offset}) m) AS results`);
  return rows[0];
}

/** The doctors assigned to one of the caller's patients, in assignment order; undefined if the patient is not the caller's. */
export async function listPatientDoctors(
  db: Db,
  actor: Actor,
  patientId: string,
  q: { limit: number; offset: number },
): Promise<{ count: number; results: Record<string, unknown>[] } | undefined> {
  const { rows } = await db.execute<{ found: number; count: number; results: Record<string, unknown>[] }>(sql`
    WITH p AS (SELECT id FROM patients WHERE id = ${patientId} AND owner_id = ${actor.userId}),
    audit AS (${audit(actor, "list", sql`NULL::uuid`, auditOutcome("p"))})
    SELECT (SELECT count(*) FROM p)::int AS found,
           (SELECT count(*) FROM patient_doctor_mappings WHERE patient_id IN (SELECT id FROM p))::int AS count,
           (SELECT coalesce(json_agg(${assignedDoctorJson("d")} ORDER BY m.created_at, m.id), '[]'::json)
            FROM (SELECT * FROM patient_doctor_mappings WHERE patient_id IN (SELECT id FROM p)
                  ORDER BY created_at, id LIMIT ${q.limit} OFFSET ${q.offset}) m
            JOIN doctors d ON d.id = m.doctor_id) AS results`);
  const row = rows[0];
  return row.found === 0 ? undefined : { count: row.count, results: row.results };
}
