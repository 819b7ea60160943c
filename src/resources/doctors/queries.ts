/**
 * Doctor SQL: a directory every user reads; only the creator or an
 * administrator changes an entry, which the write statement itself checks
 * (docs/BEHAVIOUR.md). Not audited: the trail covers patients and mappings.
 */
import { type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../../db/client";
import {
  type Actor,
  actorCheck,
  bare,
  type ColumnValues,
  columnList,
  columnValues,
  listPage,
  listTotal,
  matchesSearch,
  outcomeOf,
  setClause,
  valueList,
  versionMatches,
  type WriteOutcome,
} from "../../db/fragments";
import { idempotency, type PriorRecord, replayOf } from "../../db/idempotency";
import { doctors, mappings, users } from "../../db/schema";
import type { ListRequest, ListRows } from "../../lib/list";
import { type Doctor, doctorResponse } from "./schemas";

/** A doctor with the `version` its ETag is made from (removed before the response). */
export type VersionedDoctor = Doctor & { version: number };

const t = doctors;
const versioned = (row: string) => doctorResponse.json(row, { version: t.version });

/** The caller created the doctor, or is an administrator (read in the same statement: never stale). */
/** A doctor as it is now, for a replayed write (src/db/idempotency.ts). */
const replayBody = (id: SQL) => sql`(SELECT ${versioned("r")} FROM ${t} r WHERE r.id = ${id}) AS replay`;

const mayChange = ({ userId }: Actor) =>
  sql`(${t.createdBy} = ${userId} OR EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${userId} AND ${users.isAdmin}))`;

export async function createDoctor(db: Db, actor: Actor, values: ColumnValues): Promise<WriteOutcome<VersionedDoctor>> {
  const pairs = columnValues(values, doctorResponse.fields);
  const idem = idempotency(actor.userId, actor.idempotency);
  const { rows } = await db.execute<{ body: VersionedDoctor | null; idem: PriorRecord | null; replay: VersionedDoctor | null }>(sql`
    WITH ${idem.prior}, ins AS (
      INSERT INTO ${t} (${bare(t.createdBy)}, ${columnList(pairs)}) SELECT ${actor.userId}, ${valueList(pairs)} WHERE ${actorCheck(actor)} AND ${idem.fresh} RETURNING *
    ), ${idem.record(201, "doctor", "ins")}
    SELECT ${actorCheck(actor)} AS actor, (SELECT ${versioned("ins")} FROM ins) AS body, ${idem.column}, ${idem.replay(replayBody(idem.replayId))}`);
  return replayOf(rows[0]) ?? { status: "ok", value: rows[0].body as VersionedDoctor };
}

export async function readDoctor(db: Db, actor: Actor, id: string): Promise<VersionedDoctor | undefined> {
  const d = alias(t, "d");
  const { rows } = await db.execute<{ body: VersionedDoctor | null }>(
    sql`SELECT ${actorCheck(actor)} AS actor, (SELECT ${versioned("d")} FROM ${t} ${d} WHERE ${d.id} = ${id}) AS body`,
  );
  return rows[0].body ?? undefined;
}

/**
 * Updates a doctor if the caller may, the new license number is free and
 * the If-Match tag is current. A license number taken by a concurrent write
 * still fails on the unique index (23505), which the route maps to 409.
 */
export async function updateDoctor(
  db: Db,
  actor: Actor,
  id: string,
  values: ColumnValues,
  ifMatch: string | undefined,
): Promise<WriteOutcome<VersionedDoctor>> {
  const license = values.license_number ?? null;
  const pairs = columnValues(values, doctorResponse.fields);
  const idem = idempotency(actor.userId, actor.idempotency);
  const { rows } = await db.execute<{ found: number; allowed: number; conflict: number; body: VersionedDoctor | null }>(sql`
    WITH ${idem.prior}, cur AS (SELECT ${t.id} FROM ${t} WHERE ${t.id} = ${id} FOR NO KEY UPDATE),
    allowed AS (SELECT 1 FROM ${t} WHERE ${t.id} = ${id} AND ${mayChange(actor)}),
    clash AS (SELECT 1 FROM ${t} WHERE ${license}::text IS NOT NULL AND lower(${t.licenseNumber}) = lower(${license}) AND ${t.id} <> ${id}),
    upd AS (
      UPDATE ${t} SET ${setClause(pairs, t)}
      WHERE ${t.id} = (SELECT id FROM cur) AND EXISTS (SELECT 1 FROM allowed) AND NOT EXISTS (SELECT 1 FROM clash) AND ${versionMatches(t.version, ifMatch)}
        AND ${idem.fresh}
      RETURNING *
    ), ${idem.record(200, "doctor", "upd")}
    SELECT ${actorCheck(actor)} AS actor, (SELECT count(*) FROM cur)::int AS found, (SELECT count(*) FROM allowed)::int AS allowed,
           (SELECT count(*) FROM clash)::int AS conflict, (SELECT ${versioned("upd")} FROM upd) AS body, ${idem.column}, ${idem.replay(replayBody(idem.replayId))}`);
  return outcomeOf(rows[0]);
}

/**
 * Deletes a doctor if the caller may, no patient is assigned to it and the
 * If-Match tag is current. A mapping created concurrently still stops it
 * (the foreign key restricts: 23503, which the route maps to 409).
 */
export async function deleteDoctor(db: Db, actor: Actor, id: string, ifMatch: string | undefined): Promise<WriteOutcome<true>> {
  const idem = idempotency(actor.userId, actor.idempotency);
  const { rows } = await db.execute<{ found: number; allowed: number; conflict: number; body: true | null }>(sql`
    WITH ${idem.prior}, cur AS (SELECT ${t.id} FROM ${t} WHERE ${t.id} = ${id} FOR UPDATE),
    allowed AS (SELECT 1 FROM ${t} WHERE ${t.id} = ${id} AND ${mayChange(actor)}),
    assigned AS (SELECT 1 FROM ${mappings} WHERE ${mappings.doctorId} = ${id} LIMIT 1),
    del AS (
      DELETE FROM ${t}
      WHERE ${t.id} = (SELECT id FROM cur) AND EXISTS (SELECT 1 FROM allowed) AND NOT EXISTS (SELECT 1 FROM assigned) AND ${versionMatches(t.version, ifMatch)}
        AND ${idem.fresh}
      RETURNING ${t.id}
    ), ${idem.record(204, "doctor", "del")}
    SELECT ${actorCheck(actor)} AS actor, (SELECT count(*) FROM cur)::int AS found, (SELECT count(*) FROM allowed)::int AS allowed,
           (SELECT count(*) FROM assigned)::int AS conflict, (SELECT true FROM del) AS body, ${idem.column},
           ${idem.raced(sql`${t}`, sql`${t.id} = ${id}`)}`);
  return outcomeOf(rows[0]);
}

export async function listDoctors(
  db: Db,
  actor: Actor,
  q: ListRequest & { search?: string; specialization?: string },
): Promise<ListRows<Doctor>> {
  const conditions = [sql`true`];
  if (q.search !== undefined) conditions.push(matchesSearch(q.search, [t.name, t.specialization]));
  if (q.specialization !== undefined) conditions.push(sql`lower(${t.specialization}) = lower(${q.specialization})`);
  const matches = sql.join(conditions, sql` AND `);
  const page = listPage({ table: t, id: t.id, matches, request: q, alias: "d", json: doctorResponse.json("d") });
  const { rows } = await db.execute<ListRows<Doctor>>(sql`
    WITH ${page.ctes}
    SELECT ${actorCheck(actor)} AS actor, ${listTotal(t, undefined, conditions.length > 1, matches)} AS count, ${page.columns}`);
  return rows[0];
}
