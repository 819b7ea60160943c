/**
 * The sync feed's one statement per page (docs/SYNC.md). Changes are handed
 * out in (writing transaction id, type, id) order, and only those of
 * transactions below the statement's snapshot xmin: every transaction below
 * it has ended, so no change that commits later can ever land behind a
 * cursor a client already holds. The owner condition is in every branch.
 */
import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db } from "../../db/client";
import { type Actor, actorCheck, auditInsert, bare } from "../../db/fragments";
import { SYNC_TYPES, SYNCED_TABLES, syncTombstones } from "../../db/schema";
import { NIL_UUID, SYNC_RESPONSES, type SyncPage } from "./schemas";

/** After the change (x, r, i): see SyncCursor. */
export interface FeedPosition {
  x: string;
  r: number;
  i: string;
}

export interface FeedRequest {
  after: FeedPosition;
  /** Deletions below this transaction id are of rows the client never had; "none" leaves them all out (a first page). */
  deletionsFrom: string | "none";
  limit: number;
}

export interface FeedPage {
  changes: SyncPage["changes"];
  hasMore: boolean;
  /** The last change on the page, if any. */
  last: FeedPosition | null;
  /** The statement's snapshot xmin: every change below it is final. */
  horizon: string;
}

/** `(xid, id)` after the position, for a branch of type rank `rank` (a row comparison its feed index serves). */
function after(rank: number, xid: SQL, id: SQL, p: FeedPosition): SQL {
  if (rank < p.r) return sql`${xid} > ${p.x}::xid8`;
  if (rank > p.r) return sql`${xid} >= ${p.x}::xid8`;
  return sql`(${xid}, ${id}) > (${p.x}::xid8, ${p.i}::uuid)`;
}

const below = (xid: SQL) => sql`${xid} < (SELECT xmin FROM horizon)`;

/** Each synced table's rows (upserts) and tombstones (deletions), each branch in its own index order and limited. */
function branches(actor: Actor, q: FeedRequest): SQL[] {
  const s = syncTombstones;
  const take = q.limit + 1;
  return SYNCED_TABLES.flatMap(({ table, type, scope }) => {
    const rank = SYNC_TYPES.indexOf(type);
    const alias = `${type}_row`;
    const a = sql.identifier(alias);
    const columns = getTableColumns(table) as Record<string, AnyPgColumn>;
    const col = (name: string) => sql`${a}.${bare(columns[name])}`;
    const owner = scope === "owner" ? sql`${col("ownerId")} = ${actor.userId}::uuid AND ` : sql``;
    const rows = sql`(SELECT ${sql.raw(String(rank))} AS rank, ${type}::text AS type, ${col("id")} AS id, ${col("syncXid")} AS xid,
        'upsert'::text AS op, ${SYNC_RESPONSES[type].json(alias)} AS data
      FROM ${table} ${a}
      WHERE ${owner}${after(rank, col("syncXid"), col("id"), q.after)} AND ${below(col("syncXid"))}
      ORDER BY ${col("syncXid")}, ${col("id")} LIMIT ${take})`;
    if (q.deletionsFrom === "none") return [rows];
    const tombstones = sql`(SELECT ${sql.raw(String(rank))}, ${type}::text, ${s.id}, ${s.syncXid}, 'delete'::text, NULL::json
      FROM ${s}
      WHERE ${s.ownerId} = ${scope === "owner" ? actor.userId : NIL_UUID}::uuid AND ${s.resourceType} = ${type}
        AND ${after(rank, sql`${s.syncXid}`, sql`${s.id}`, q.after)} AND ${below(sql`${s.syncXid}`)} AND ${s.syncXid} >= ${q.deletionsFrom}::xid8
      ORDER BY ${s.syncXid}, ${s.id} LIMIT ${take})`;
    return [rows, tombstones];
  });
}

/** One page of the caller's feed, audited as `sync`: one statement, one round trip. */
export async function readFeedPage(db: Db, actor: Actor, q: FeedRequest): Promise<FeedPage> {
  const { rows } = await db.auditRead<{ horizon: string; has_more: boolean; changes: FeedPage["changes"]; last: FeedPosition | null }>(sql`
    WITH horizon AS MATERIALIZED (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
    page AS MATERIALIZED (
      SELECT * FROM (${sql.join(branches(actor, q), sql` UNION ALL `)}) feed ORDER BY xid, rank, id LIMIT ${q.limit + 1}
    ),
    shown AS MATERIALIZED (SELECT * FROM page ORDER BY xid, rank, id LIMIT ${q.limit}),
    audit AS (${auditInsert(actor, { action: "sync", resourceType: "patient", resourceId: sql`NULL::uuid`, outcome: sql`'success'` })})
    SELECT ${actorCheck(actor)} AS actor, (SELECT xmin::text FROM horizon) AS horizon,
           (SELECT count(*) FROM page) > ${q.limit} AS has_more,
           (SELECT coalesce(json_agg(json_build_object('type', type, 'id', id, 'op', op, 'data', data) ORDER BY xid, rank, id), '[]'::json)
              FROM shown) AS changes,
           (SELECT json_build_object('x', xid::text, 'r', rank, 'i', id) FROM shown ORDER BY xid DESC, rank DESC, id DESC LIMIT 1) AS last`);
  const row = rows[0];
  return { changes: row.changes, hasMore: row.has_more, last: row.last, horizon: row.horizon };
}
