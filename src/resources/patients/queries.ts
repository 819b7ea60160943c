/**
 * Patient SQL: every statement carries the owner condition and writes its
 * audit row in the same round trip (docs/BEHAVIOUR.md).
 */
import { getTableName, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import {
  type Actor,
  type ActorValues,
  actorCheck,
  actorValues,
  auditInsert,
  auditOutcome,
  bare,
  type ColumnValues,
  changedFields,
  columnList,
  columnValues,
  listPage,
  listTotal,
  matchesPattern,
  outcomeOf,
  type PageValues,
  pageShape,
  pageValues,
  setClause,
  valueList,
  versionMatches,
  type WriteOutcome,
  withPageValues,
} from "../../db/fragments";
import { idempotency, type PriorRecord, replayOf } from "../../db/idempotency";
import { patients } from "../../db/schema";
import { runStatement } from "../../db/statement";
import { containsPattern, type ListRequest, type ListRows } from "../../lib/list";
import type { RawResource } from "../../lib/resource";
import { type Patient, patientResponse } from "./schemas";

const audit = (actor: Actor, action: "create" | "read" | "update" | "delete" | "list", resourceId: SQL, outcome: SQL, fields?: SQL) =>
  auditInsert(actor, { action, resourceType: "patient", resourceId, outcome, fields, idempotent: action !== "read" && action !== "list" });

const t = patients;
/** A written patient as the response passes it through: its JSON text, with its id and version beside it. */
const raw = (row: string) => patientResponse.raw(row, t.version);
/** The caller's patient `id` (the owner condition every statement carries). */
const ownPatient = (actor: Pick<Actor, "userId">, id: string) => sql`${t.id} = ${id} AND ${t.ownerId} = ${actor.userId}`;
/** The caller's patient as it is now, for a replayed write (src/db/idempotency.ts). */
const replayBody = (actor: Pick<Actor, "userId">, id: SQL) =>
  sql`(SELECT ${raw("r")} FROM ${t} r WHERE r.id = ${id} AND r.owner_id = ${actor.userId}) AS replay`;
/** The fields a write sent, in order: they choose the statement's shape (src/db/statement.ts). */
const sentFields = (values: ColumnValues) => Object.keys(values).filter((k) => values[k] !== undefined);

type Written = RawResource<Patient>;

export async function createPatient(db: Db, actor: Actor, values: ColumnValues): Promise<WriteOutcome<Written>> {
  const { rows } = await runStatement<
    { body: Written | null; idem: PriorRecord | null; replay: Written | null },
    { actor: ActorValues; values: ColumnValues },
    string[]
  >(
    db,
    "createPatient",
    { actor: actorValues(actor), values },
    (v) => {
      const pairs = columnValues(v.values, patientResponse.fields);
      const idem = idempotency(v.actor.userId, v.actor.idempotency);
      return sql`
    WITH ${idem.prior}, ins AS (
      INSERT INTO ${t} (${bare(t.ownerId)}, ${columnList(pairs)}) SELECT ${v.actor.userId}, ${valueList(pairs)} WHERE ${actorCheck(v.actor)} AND ${idem.fresh} RETURNING *
    ), ${idem.record(201, "patient", "ins")},
    audit AS (${audit(v.actor, "create", sql`(SELECT id FROM ins)`, sql`'success'`)})
    SELECT ${actorCheck(v.actor)} AS actor, (SELECT ${raw("ins")} FROM ins) AS body, ${idem.column}, ${idem.replay(replayBody(v.actor, idem.replayId))}`;
    },
    sentFields(values),
  );
  return replayOf(rows[0]) ?? { status: "ok", value: rows[0].body as Written };
}

/** The caller's patient as its JSON text (passed through to the response) and version, or undefined. */
export async function readPatient(db: Db, actor: Actor, id: string): Promise<Written | undefined> {
  const { rows } = await runStatement<{ body: Written | null }, { actor: ActorValues; id: string }>(
    db,
    "readPatient",
    { actor: actorValues(actor), id },
    (v) => sql`
    WITH p AS (SELECT * FROM ${t} WHERE ${ownPatient(v.actor, v.id)}),
    audit AS (${audit(v.actor, "read", sql`${v.id}::uuid`, auditOutcome("p"))})
    SELECT ${actorCheck(v.actor)} AS actor, (SELECT ${raw("p")} FROM p) AS body`,
    undefined,
    { auditRead: true },
  );
  return rows[0].body ?? undefined;
}

export async function updatePatient(
  db: Db,
  actor: Actor,
  id: string,
  values: ColumnValues,
  ifMatch: string | undefined,
): Promise<WriteOutcome<Written>> {
  const { rows } = await runStatement<
    { found: number; body: Written | null; idem: PriorRecord | null; replay: Written | null },
    { actor: ActorValues; id: string; values: ColumnValues; ifMatch: string | undefined },
    string[]
  >(
    db,
    "updatePatient",
    { actor: actorValues(actor), id, values, ifMatch },
    (v) => {
      const pairs = columnValues(v.values, patientResponse.fields);
      const idem = idempotency(v.actor.userId, v.actor.idempotency);
      const sent = Object.entries(patientResponse.fields).filter(([name]) => v.values[name] !== undefined);
      return sql`
    WITH ${idem.prior}, cur AS (SELECT * FROM ${t} WHERE ${ownPatient(v.actor, v.id)} FOR NO KEY UPDATE),
    upd AS (
      UPDATE ${t} SET ${setClause(pairs, t)}
      FROM cur WHERE ${t.id} = cur.id AND ${versionMatches(t.version, v.ifMatch)} AND ${idem.fresh}
      RETURNING ${t}.*, ${changedFields(sent, "cur", getTableName(t))} AS changed_fields
    ), ${idem.record(200, "patient", "upd")},
    audit AS (${audit(v.actor, "update", sql`${v.id}::uuid`, auditOutcome("upd", { found: "cur" }), sql`(SELECT changed_fields FROM upd)`)})
    SELECT ${actorCheck(v.actor)} AS actor, (SELECT count(*) FROM cur)::int AS found, (SELECT ${raw("upd")} FROM upd) AS body, ${idem.column}, ${idem.replay(replayBody(v.actor, idem.replayId))}`;
    },
    sentFields(values),
  );
  return outcomeOf(rows[0]);
}

/** Deletes a patient; its mappings go with it (ON DELETE CASCADE). */
export async function deletePatient(db: Db, actor: Actor, id: string, ifMatch: string | undefined): Promise<WriteOutcome<true>> {
  const { rows } = await runStatement<
    { found: number; body: true | null; idem: PriorRecord | null; raced: number },
    { actor: ActorValues; id: string; ifMatch: string | undefined }
  >(db, "deletePatient", { actor: actorValues(actor), id, ifMatch }, (v) => {
    const idem = idempotency(v.actor.userId, v.actor.idempotency);
    return sql`
    WITH ${idem.prior}, cur AS (SELECT ${t.id} FROM ${t} WHERE ${ownPatient(v.actor, v.id)} FOR UPDATE),
    del AS (
      DELETE FROM ${t} WHERE ${t.id} = (SELECT id FROM cur) AND ${versionMatches(t.version, v.ifMatch)} AND ${idem.fresh} RETURNING ${t.id}
    ), ${idem.record(204, "patient", "del")},
    audit AS (${audit(v.actor, "delete", sql`${v.id}::uuid`, auditOutcome("del", { found: "cur" }))})
    SELECT ${actorCheck(v.actor)} AS actor, (SELECT count(*) FROM cur)::int AS found, (SELECT true FROM del) AS body, ${idem.column},
           ${idem.raced(sql`${t}`, ownPatient(v.actor, v.id))}`;
  });
  return outcomeOf(rows[0]);
}

export async function listPatients(db: Db, actor: Actor, q: ListRequest & { search?: string }): Promise<ListRows<Patient>> {
  const { rows } = await runStatement<ListRows<Patient>, { actor: ActorValues; page: PageValues; pattern: string | undefined }, unknown[]>(
    db,
    "listPatients",
    { actor: actorValues(actor), page: pageValues(q), pattern: q.search === undefined ? undefined : containsPattern(q.search) },
    (v) => {
      const search = v.pattern === undefined ? sql`` : sql` AND ${matchesPattern(v.pattern, [t.name, t.email, t.phone])}`;
      const matches = sql`${t.ownerId} = ${v.actor.userId}${search}`;
      const page = listPage({
        table: t,
        id: t.id,
        matches,
        request: withPageValues(q, v.page),
        alias: "p",
        json: patientResponse.json("p"),
      });
      return sql`
    WITH audit AS (${audit(v.actor, "list", sql`NULL::uuid`, sql`'success'`)}), ${page.ctes}
    SELECT ${actorCheck(v.actor)} AS actor, ${listTotal(t, v.actor.userId, v.pattern !== undefined, matches)} AS count, ${page.columns}`;
    },
    pageShape(q),
    { auditRead: true },
  );
  return rows[0];
}
