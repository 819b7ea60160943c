/**
 * Patient SQL: every statement carries the owner condition and writes its
 * audit row in the same round trip (API.md §3, §6).
 */
import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import {
  type Actor,
  auditInsert,
  auditOutcome,
  type ColumnValues,
  columnList,
  isoDate,
  isoTimestamp,
  jsonObject,
  listTotal,
  orderBy,
  outcomeOf,
  setClause,
  valueList,
  versionMatches,
  type WriteOutcome,
} from "../../db/fragments";

const audit = (actor: Actor, action: "create" | "read" | "update" | "delete" | "list", resourceId: SQL, outcome: SQL) =>
  auditInsert(actor, { action, resourceType: "patient", resourceId, outcome });

/** A patient as the API shows it, built by Postgres. */
export type PatientJson = Record<string, unknown> & { id: string; version: number };

const PATIENT_FIELDS = {
  id: "$.id",
  name: "$.name",
  date_of_birth: isoDate("$.date_of_birth"),
  gender: "$.gender",
  phone: "$.phone",
  email: "$.email",
  address: "$.address",
  medical_history: "$.medical_history",
  created_at: isoTimestamp("$.created_at"),
  updated_at: isoTimestamp("$.updated_at"),
};
/** A patient in a list. */
const patientJson = jsonObject(PATIENT_FIELDS);
/** A single patient: `version` rides along for the ETag and is removed before the response. */
const versionedPatientJson = jsonObject({ ...PATIENT_FIELDS, version: "$.version" });

export async function createPatient(db: Db, actor: Actor, values: ColumnValues): Promise<PatientJson> {
  const { rows } = await db.execute<{ body: PatientJson }>(sql`
    WITH ins AS (
      INSERT INTO patients (owner_id, ${columnList(values)}) VALUES (${actor.userId}, ${valueList(values)}) RETURNING *
    ), audit AS (${audit(actor, "create", sql`(SELECT id FROM ins)`, sql`'success'`)})
    SELECT ${versionedPatientJson("ins")} AS body FROM ins`);
  return rows[0].body;
}

export async function readPatient(db: Db, actor: Actor, id: string): Promise<PatientJson | undefined> {
  const { rows } = await db.execute<{ body: PatientJson }>(sql`
    WITH p AS (SELECT * FROM patients WHERE id = ${id} AND owner_id = ${actor.userId}),
    audit AS (${audit(actor, "read", sql`${id}::uuid`, auditOutcome("p"))})
    SELECT ${versionedPatientJson("p")} AS body FROM p`);
  return rows[0]?.body;
}

export async function updatePatient(
  db: Db,
  actor: Actor,
  id: string,
  values: ColumnValues,
  ifMatch: string | undefined,
): Promise<WriteOutcome<PatientJson>> {
  const { rows } = await db.execute<{ found: number; body: PatientJson | null }>(sql`
    WITH cur AS (SELECT id FROM patients WHERE id = ${id} AND owner_id = ${actor.userId} FOR NO KEY UPDATE),
    upd AS (
      UPDATE patients SET ${setClause(values)}
      WHERE id = ${id} AND owner_id = ${actor.userId} AND ${versionMatches("version", ifMatch)}
      RETURNING *
    ), audit AS (${audit(actor, "update", sql`${id}::uuid`, auditOutcome("upd", { found: "cur" }))})
    SELECT (SELECT count(*) FROM cur)::int AS found, (SELECT ${versionedPatientJson("upd")} FROM upd) AS body`);
  return outcomeOf(rows[0]);
}

/** Deletes a patient; its mappings go with it (ON DELETE CASCADE). */
export async function deletePatient(db: Db, actor: Actor, id: string, ifMatch: string | undefined): Promise<WriteOutcome<true>> {
  const { rows } = await db.execute<{ found: number; body: true | null }>(sql`
    WITH cur AS (SELECT id FROM patients WHERE id = ${id} AND owner_id = ${actor.userId} FOR UPDATE),
    del AS (
      DELETE FROM patients WHERE id = ${id} AND owner_id = ${actor.userId} AND ${versionMatches("version", ifMatch)} RETURNING id
    ), audit AS (${audit(actor, "delete", sql`${id}::uuid`, auditOutcome("del", { found: "cur" }))})
    SELECT (SELECT count(*) FROM cur)::int AS found, (SELECT true FROM del) AS body`);
  return outcomeOf(rows[0]);
}

export const PATIENT_ORDERING = ["name", "date_of_birth", "created_at", "updated_at"] as const;

export async function listPatients(
  db: Db,
  actor: Actor,
  q: { limit: number; offset: number; pattern?: string; ordering?: { field: (typeof PATIENT_ORDERING)[number]; descending: boolean } },
): Promise<{ count: number; results: Record<string, unknown>[] }> {
  const matches = sql`owner_id = ${actor.userId}${
    q.pattern === undefined
      ? sql``
      : sql` AND (name ILIKE ${q.pattern} ESCAPE '\\' OR email ILIKE ${q.pattern} ESCAPE '\\' OR phone ILIKE ${q.pattern} ESCAPE '\\')`
  }`;
  const order = orderBy(q.ordering?.field ?? "created_at", q.ordering?.descending ?? false, "p.");
  const { rows } = await db.execute<{ count: number; results: Record<string, unknown>[] }>(sql`
    WITH audit AS (${audit(actor, "list", sql`NULL::uuid`, sql`'success'`)})
    SELECT ${listTotal("patients", actor.userId, q.pattern !== undefined, matches)} AS count,
           (SELECT coalesce(json_agg(${patientJson("p")} ORDER BY ${order}), '[]'::json)
            FROM (SELECT * FROM patients WHERE ${matches} ORDER BY ${orderBy(q.ordering?.field ?? "created_at", q.ordering?.descending ?? false)}
                  LIMIT ${q.limit} OFFSET ${q.offset}) p) AS results`);
  return rows[0];
}
