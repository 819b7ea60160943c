/**
 * Patient SQL: every statement carries the owner condition and writes its
 * audit row in the same round trip (docs/BEHAVIOUR.md).
 */
import { getTableName, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../../db/client";
import {
  type Actor,
  actorCheck,
  auditInsert,
  auditOutcome,
  bare,
  type ColumnValues,
  changedFields,
  columnList,
  columnValues,
  listTotal,
  matchesSearch,
  orderBy,
  outcomeOf,
  setClause,
  valueList,
  versionMatches,
  type WriteOutcome,
} from "../../db/fragments";
import { idempotency, type PriorRecord, replayOf } from "../../db/idempotency";
import { patients } from "../../db/schema";
import type { ListQuery } from "../../lib/list";
import { type PATIENT_ORDERING, type Patient, patientResponse } from "./schemas";

const audit = (actor: Actor, action: "create" | "read" | "update" | "delete" | "list", resourceId: SQL, outcome: SQL, fields?: SQL) =>
  auditInsert(actor, { action, resourceType: "patient", resourceId, outcome, fields, idempotent: action !== "read" && action !== "list" });

/** A patient with the `version` its ETag is made from (removed before the response). */
export type VersionedPatient = Patient & { version: number };

const t = patients;
/** A single patient: `version` rides along for the ETag. */
const versioned = (row: string) => patientResponse.json(row, { version: t.version });
/** The caller's patient `id` (the owner condition every statement carries). */
const ownPatient = (actor: Actor, id: string) => sql`${t.id} = ${id} AND ${t.ownerId} = ${actor.userId}`;
/** The caller's patient as it is now, for a replayed write (src/db/idempotency.ts). */
const replayBody = (actor: Actor, id: SQL) =>
  sql`(SELECT ${versioned("r")} FROM ${t} r WHERE r.id = ${id} AND r.owner_id = ${actor.userId}) AS replay`;

export async function createPatient(db: Db, actor: Actor, values: ColumnValues): Promise<WriteOutcome<VersionedPatient>> {
  const pairs = columnValues(values, patientResponse.fields);
  const idem = idempotency(actor.userId, actor.idempotency);
  const { rows } = await db.execute<{ body: VersionedPatient | null; idem: PriorRecord | null; replay: VersionedPatient | null }>(sql`
    WITH ${idem.prior}, ins AS (
      INSERT INTO ${t} (${bare(t.ownerId)}, ${columnList(pairs)}) SELECT ${actor.userId}, ${valueList(pairs)} WHERE ${actorCheck(actor)} AND ${idem.fresh} RETURNING *
    ), ${idem.record(201, "patient", "ins")},
    audit AS (${audit(actor, "create", sql`(SELECT id FROM ins)`, sql`'success'`)})
    SELECT ${actorCheck(actor)} AS actor, (SELECT ${versioned("ins")} FROM ins) AS body, ${idem.column}, ${replayBody(actor, idem.replayId)}`);
  return replayOf(rows[0]) ?? { status: "ok", value: rows[0].body as VersionedPatient };
}

export async function readPatient(db: Db, actor: Actor, id: string): Promise<VersionedPatient | undefined> {
  const { rows } = await db.auditRead<{ body: VersionedPatient }>(sql`
    WITH p AS (SELECT * FROM ${t} WHERE ${ownPatient(actor, id)}),
    audit AS (${audit(actor, "read", sql`${id}::uuid`, auditOutcome("p"))})
    SELECT ${actorCheck(actor)} AS actor, (SELECT ${versioned("p")} FROM p) AS body`);
  return rows[0].body ?? undefined;
}

export async function updatePatient(
  db: Db,
  actor: Actor,
  id: string,
  values: ColumnValues,
  ifMatch: string | undefined,
): Promise<WriteOutcome<VersionedPatient>> {
  const pairs = columnValues(values, patientResponse.fields);
  const idem = idempotency(actor.userId, actor.idempotency);
  const sent = Object.entries(patientResponse.fields).filter(([name]) => values[name] !== undefined);
  const { rows } = await db.execute<{ found: number; body: VersionedPatient | null }>(sql`
    WITH ${idem.prior}, cur AS (SELECT * FROM ${t} WHERE ${ownPatient(actor, id)} FOR NO KEY UPDATE),
    upd AS (
      UPDATE ${t} SET ${setClause(pairs, t)}
      FROM cur WHERE ${t.id} = cur.id AND ${versionMatches(t.version, ifMatch)} AND ${idem.fresh}
      RETURNING ${t}.*, ${changedFields(sent, "cur", getTableName(t))} AS changed_fields
    ), ${idem.record(200, "patient", "upd")},
    audit AS (${audit(actor, "update", sql`${id}::uuid`, auditOutcome("upd", { found: "cur" }), sql`(SELECT changed_fields FROM upd)`)})
    SELECT ${actorCheck(actor)} AS actor, (SELECT count(*) FROM cur)::int AS found, (SELECT ${versioned("upd")} FROM upd) AS body, ${idem.column}, ${replayBody(actor, idem.replayId)}`);
  return outcomeOf(rows[0]);
}

/** Deletes a patient; its mappings go with it (ON DELETE CASCADE). */
export async function deletePatient(db: Db, actor: Actor, id: string, ifMatch: string | undefined): Promise<WriteOutcome<true>> {
  const idem = idempotency(actor.userId, actor.idempotency);
  const { rows } = await db.execute<{ found: number; body: true | null }>(sql`
    WITH ${idem.prior}, cur AS (SELECT ${t.id} FROM ${t} WHERE ${ownPatient(actor, id)} FOR UPDATE),
    del AS (
      DELETE FROM ${t} WHERE ${ownPatient(actor, id)} AND ${versionMatches(t.version, ifMatch)} AND ${idem.fresh} RETURNING ${t.id}
    ), ${idem.record(204, "patient", "del")},
    audit AS (${audit(actor, "delete", sql`${id}::uuid`, auditOutcome("del", { found: "cur" }))})
    SELECT ${actorCheck(actor)} AS actor, (SELECT count(*) FROM cur)::int AS found, (SELECT true FROM del) AS body, ${idem.column},
           ${idem.raced(sql`${t}`, ownPatient(actor, id))}`);
  return outcomeOf(rows[0]);
}

export async function listPatients(
  db: Db,
  actor: Actor,
  q: ListQuery<(typeof PATIENT_ORDERING)[number]>,
): Promise<{ count: number; results: Patient[] }> {
  const matches = sql`${t.ownerId} = ${actor.userId}${q.search === undefined ? sql`` : sql` AND ${matchesSearch(q.search, [t.name, t.email, t.phone])}`}`;
  const column = patientResponse.fields[q.ordering?.field ?? "created_at"];
  const descending = q.ordering?.descending ?? false;
  const p = alias(t, "p");
  const { rows } = await db.auditRead<{ count: number; results: Patient[] }>(sql`
    WITH audit AS (${audit(actor, "list", sql`NULL::uuid`, sql`'success'`)})
    SELECT ${actorCheck(actor)} AS actor, ${listTotal(t, actor.userId, q.search !== undefined, matches)} AS count,
           (SELECT coalesce(json_agg(${patientResponse.json("p")} ORDER BY ${orderBy(column, t.id, descending, "p")}), '[]'::json)
            FROM (SELECT * FROM ${t} WHERE ${matches} ORDER BY ${orderBy(column, t.id, descending)}
                  LIMIT ${q.limit} OFFSET ${q.offset}) ${p}) AS results`);
  return rows[0];
}
