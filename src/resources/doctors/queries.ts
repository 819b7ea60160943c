/**
 * Doctor SQL: a directory every user reads; only the creator or an
 * administrator changes an entry, which the write statement itself checks
 * (API.md §4). Not audited: the trail covers patients and mappings.
 */
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import {
  type ColumnValues,
  columnList,
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

export type DoctorJson = Record<string, unknown> & { id: string; version: number };

const DOCTOR_FIELDS = {
  id: "$.id",
  name: "$.name",
  specialization: "$.specialization",
  email: "$.email",
  phone: "$.phone",
  license_number: "$.license_number",
  created_by: "$.created_by",
  created_at: isoTimestamp("$.created_at"),
  updated_at: isoTimestamp("$.updated_at"),
};
/** A doctor in a list. */
const doctorJson = jsonObject(DOCTOR_FIELDS);
/** A single doctor: `version` rides along for the ETag and is removed before the response. */
const versionedDoctorJson = jsonObject({ ...DOCTOR_FIELDS, version: "$.version" });
/** A doctor as listed for a patient: the doctor plus the assignment's id and time (`m` is the mapping). */
export const assignedDoctorJson = jsonObject({ ...DOCTOR_FIELDS, mapping_id: "m.id", assigned_at: isoTimestamp("m.created_at") });

/** The caller created the doctor, or is an administrator (read in the same statement: never stale). */
const mayChange = (userId: string) => sql`(created_by = ${userId} OR EXISTS (SELECT 1 FROM users WHERE id = ${userId} AND is_admin))`;

export async function createDoctor(db: Db, userId: string, values: ColumnValues): Promise<DoctorJson> {
  const { rows } = await db.execute<{ body: DoctorJson }>(sql`
    WITH ins AS (INSERT INTO doctors (created_by, ${columnList(values)}) VALUES (${userId}, ${valueList(values)}) RETURNING *)
    SELECT ${versionedDoctorJson("ins")} AS body FROM ins`);
  return rows[0].body;
}

export async function readDoctor(db: Db, id: string): Promise<DoctorJson | undefined> {
  const { rows } = await db.execute<{ body: DoctorJson }>(
    sql`SELECT ${versionedDoctorJson("d")} AS body FROM doctors d WHERE d.id = ${id}`,
  );
  return rows[0]?.body;
}

/**
 * Updates a doctor if the caller may, the new license number is free and
 * the If-Match tag is current. A license number taken by a concurrent write
 * still fails on the unique index (23505), which the route maps to 409.
 */
export async function updateDoctor(
  db: Db,
  userId: string,
  id: string,
  values: ColumnValues,
  ifMatch: string | undefined,
): Promise<WriteOutcome<DoctorJson>> {
  const license = values.license_number ?? null;
  const { rows } = await db.execute<{ found: number; allowed: number; conflict: number; body: DoctorJson | null }>(sql`
    WITH cur AS (SELECT id FROM doctors WHERE id = ${id} FOR NO KEY UPDATE),
    allowed AS (SELECT 1 FROM doctors WHERE id = ${id} AND ${mayChange(userId)}),
    clash AS (SELECT 1 FROM doctors WHERE ${license}::text IS NOT NULL AND lower(license_number) = lower(${license}) AND id <> ${id}),
    upd AS (
      UPDATE doctors SET ${setClause(values)}
      WHERE id = ${id} AND EXISTS (SELECT 1 FROM allowed) AND NOT EXISTS (SELECT 1 FROM clash) AND ${versionMatches("version", ifMatch)}
      RETURNING *
    )
    SELECT (SELECT count(*) FROM cur)::int AS found, (SELECT count(*) FROM allowed)::int AS allowed,
           (SELECT count(*) FROM clash)::int AS conflict, (SELECT ${versionedDoctorJson("upd")} FROM upd) AS body`);
  return outcomeOf(rows[0]);
}

/**
 * Deletes a doctor if the caller may, no patient is assigned to it and the
 * If-Match tag is current. A mapping created concurrently still stops it
 * (the foreign key restricts: 23503, which the route maps to 409).
 */
export async function deleteDoctor(db: Db, userId: string, id: string, ifMatch: string | undefined): Promise<WriteOutcome<true>> {
  const { rows } = await db.execute<{ found: number; allowed: number; conflict: number; body: true | null }>(sql`
    WITH cur AS (SELECT id FROM doctors WHERE id = ${id} FOR UPDATE),
    allowed AS (SELECT 1 FROM doctors WHERE id = ${id} AND ${mayChange(userId)}),
    assigned AS (SELECT 1 FROM patient_doctor_mappings WHERE doctor_id = ${id} LIMIT 1),
    del AS (
      DELETE FROM doctors
      WHERE id = ${id} AND EXISTS (SELECT 1 FROM allowed) AND NOT EXISTS (SELECT 1 FROM assigned) AND ${versionMatches("version", ifMatch)}
      RETURNING id
    )
    SELECT (SELECT count(*) FROM cur)::int AS found, (SELECT count(*) FROM allowed)::int AS allowed,
           (SELECT count(*) FROM assigned)::int AS conflict, (SELECT true FROM del) AS body`);
  return outcomeOf(rows[0]);
}

export const DOCTOR_ORDERING = ["name", "specialization", "created_at"] as const;

export async function listDoctors(
  db: Db,
  q: {
    limit: number;
    offset: number;
    pattern?: string;
    specialization?: string;
    ordering?: { field: (typeof DOCTOR_ORDERING)[number]; descending: boolean };
  },
): Promise<{ count: number; results: Record<string, unknown>[] }> {
  const conditions = [sql`true`];
  if (q.pattern !== undefined) conditions.push(sql`(name ILIKE ${q.pattern} ESCAPE '\\' OR specialization ILIKE ${q.pattern} ESCAPE '\\')`);
  if (q.specialization !== undefined) conditions.push(sql`lower(specialization) = lower(${q.specialization})`);
  const matches = sql.join(conditions, sql` AND `);
  const field = q.ordering?.field ?? "created_at";
  const descending = q.ordering?.descending ?? false;
  const { rows } = await db.execute<{ count: number; results: Record<string, unknown>[] }>(sql`
    SELECT ${listTotal("doctors", undefined, conditions.length > 1, matches)} AS count,
           (SELECT coalesce(json_agg(${doctorJson("d")} ORDER BY ${orderBy(field, descending, "d.")}), '[]'::json)
            FROM (SELECT * FROM doctors WHERE ${matches} ORDER BY ${orderBy(field, descending)} LIMIT ${q.limit} OFFSET ${q.offset}) d) AS results`);
  return rows[0];
}
