/**
 * Administrator SQL: every statement checks in itself that the caller is an
 * active administrator whose token still counts (actorCheck "admin": 403 or
 * 401 otherwise) and writes its audit row (resource type `user`) in the
 * same round trip. Nothing here reads a patient's data: only counts.
 */
import { getTableName, type SQL, sql, type Table } from "drizzle-orm";
import type { Db } from "../../db/client";
import {
  type Actor,
  actorCheck,
  auditInsert,
  auditOutcome,
  changedFields,
  listPage,
  matchesSearch,
  outcomeOf,
  tokensRefusedUntilNow,
  versionMatches,
  type WriteOutcome,
} from "../../db/fragments";
import { auditEvents, doctors, loginAttempts, mappings, patients, rowCounts, users } from "../../db/schema";
import type { ListRequest, ListRows } from "../../lib/list";
import { type AdminStats, type AdminUser, type AdminUserChanges, type AdminUserRow, adminUserResponse } from "./schemas";

const audit = (actor: Actor, action: "read" | "update" | "list" | "revoke", resourceId: SQL, outcome: SQL, fields?: SQL) =>
  auditInsert(actor, { action, resourceType: "user", resourceId, outcome, fields });

/** An account with the `version` its ETag is made from (removed before the response). */
export type VersionedAdminUser = AdminUser & { version: number };

const t = users;
const versioned = (row: string) => adminUserResponse.json(row, { version: t.version });

/** A table's row total from row_counts (kept by triggers): one index range, not a scan of the table. */
const total = (table: Table) =>
  sql`coalesce((SELECT sum(${rowCounts.total}) FROM ${rowCounts} WHERE ${rowCounts.tableName} = ${getTableName(table)}), 0)::int`;

/** Only the admin check, for a request refused before its own statement (400, 404): a non-administrator gets 403 first. */
export async function assertAdministrator(db: Db, actor: Actor): Promise<void> {
  await db.execute(sql`SELECT ${actorCheck(actor, "admin")} AS actor`);
}

export async function readStats(db: Db, actor: Actor): Promise<AdminStats> {
  const { rows } = await db.auditRead<{ body: AdminStats }>(sql`
    WITH audit AS (${audit(actor, "list", sql`NULL::uuid`, sql`'success'`)})
    SELECT ${actorCheck(actor, "admin")} AS actor, json_build_object(
      'users', (SELECT json_build_object('total', count(*), 'active', count(*) FILTER (WHERE ${t.isActive}), 'admins', count(*) FILTER (WHERE ${t.isAdmin})) FROM ${t}),
      'patients', ${total(patients)},
      'doctors', ${total(doctors)},
      'mappings', ${total(mappings)},
      'audit_events_24h', (SELECT count(*) FROM ${auditEvents} WHERE ${auditEvents.occurredAt} > now() - interval '24 hours')::int,
      'failed_logins_24h', coalesce((SELECT sum(${loginAttempts.failures}) FROM ${loginAttempts} WHERE ${loginAttempts.windowStartedAt} > now() - interval '24 hours'), 0)::int
    ) AS body`);
  return rows[0].body;
}

/** How many patients the account of row `alias` has: a count from row_counts, never the patients. */
const patientCount = (alias: string) =>
  sql`coalesce((SELECT ${rowCounts.total} FROM ${rowCounts} WHERE ${rowCounts.tableName} = ${getTableName(patients)} AND ${rowCounts.ownerId} = ${sql.identifier(alias)}.id), 0)::int`;

export async function listUsers(
  db: Db,
  actor: Actor,
  q: ListRequest & { search?: string; is_active?: boolean; is_admin?: boolean },
): Promise<ListRows<AdminUserRow>> {
  const conditions = [sql`true`];
  if (q.search !== undefined) conditions.push(matchesSearch(q.search, [t.name, t.email]));
  if (q.is_active !== undefined) conditions.push(sql`${t.isActive} = ${q.is_active}`);
  if (q.is_admin !== undefined) conditions.push(sql`${t.isAdmin} = ${q.is_admin}`);
  const matches = sql.join(conditions, sql` AND `);
  const json = adminUserResponse.json("u", { patient_count: patientCount("u") });
  const page = listPage({ table: t, id: t.id, matches, request: q, alias: "u", json });
  const { rows } = await db.auditRead<ListRows<AdminUserRow>>(sql`
    WITH audit AS (${audit(actor, "list", sql`NULL::uuid`, sql`'success'`)}), ${page.ctes}
    SELECT ${actorCheck(actor, "admin")} AS actor, (SELECT count(*) FROM ${t} WHERE ${matches})::int AS count, ${page.columns}`);
  return rows[0];
}

export async function readUser(db: Db, actor: Actor, id: string): Promise<VersionedAdminUser | undefined> {
  const { rows } = await db.auditRead<{ body: VersionedAdminUser | null }>(sql`
    WITH u AS (SELECT * FROM ${t} WHERE ${t.id} = ${id}),
    audit AS (${audit(actor, "read", sql`${id}::uuid`, auditOutcome("u"))})
    SELECT ${actorCheck(actor, "admin")} AS actor, (SELECT ${versioned("u")} FROM u) AS body`);
  return rows[0].body ?? undefined;
}

/** The fields PATCH may change, by API name. */
const CHANGEABLE = { name: t.name, is_active: t.isActive, is_admin: t.isAdmin } as const;

/**
 * Changes an account. Deactivating it also refuses its access tokens
 * (tokens_valid_after) and revokes every refresh family, in this statement.
 * An administrator changing their own is_active or is_admin is a conflict
 * (so the last administrator can never be removed); sending the current
 * value is no change.
 */
export async function updateUser(
  db: Db,
  actor: Actor,
  id: string,
  changes: AdminUserChanges,
  ifMatch: string | undefined,
): Promise<WriteOutcome<VersionedAdminUser>> {
  const name = changes.name ?? null;
  const active = changes.is_active ?? null;
  const admin = changes.is_admin ?? null;
  const sent = Object.entries(CHANGEABLE).filter(([field]) => changes[field as keyof AdminUserChanges] !== undefined);
  const { rows } = await db.execute<{ found: number; conflict: number; body: VersionedAdminUser | null }>(sql`
    WITH cur AS (SELECT * FROM ${t} WHERE ${t.id} = ${id} FOR NO KEY UPDATE),
    own_flags AS (
      SELECT 1 FROM cur WHERE cur.id = ${actor.userId}
        AND (cur.is_active IS DISTINCT FROM coalesce(${active}::boolean, cur.is_active)
             OR cur.is_admin IS DISTINCT FROM coalesce(${admin}::boolean, cur.is_admin))
    ), upd AS (
      UPDATE ${t} SET
        name = coalesce(${name}::text, cur.name),
        is_active = coalesce(${active}::boolean, cur.is_active),
        is_admin = coalesce(${admin}::boolean, cur.is_admin),
        tokens_valid_after = CASE WHEN cur.is_active AND ${active}::boolean = false THEN ${tokensRefusedUntilNow(sql`cur.tokens_valid_after`)} ELSE cur.tokens_valid_after END,
        version = cur.version + 1,
        updated_at = now()
      FROM cur
      WHERE ${t.id} = cur.id AND NOT EXISTS (SELECT 1 FROM own_flags) AND ${versionMatches(sql`cur.version`, ifMatch)}
      RETURNING ${t}.*, ${changedFields(sent, "cur", "users")} AS changed_fields, cur.is_active AND NOT ${t.isActive} AS deactivated
    ), revoked AS (
      UPDATE refresh_tokens SET revoked_at = now()
      WHERE user_id = ${id} AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM upd WHERE deactivated)
    ), audit AS (${audit(actor, "update", sql`${id}::uuid`, auditOutcome("upd", { found: "cur", conflict: "own_flags" }), sql`(SELECT changed_fields FROM upd)`)})
    SELECT ${actorCheck(actor, "admin")} AS actor, (SELECT count(*) FROM cur)::int AS found,
           (SELECT count(*) FROM own_flags)::int AS conflict, (SELECT ${versioned("upd")} FROM upd) AS body`);
  return outcomeOf(rows[0]);
}

/** Signs an account out everywhere: every refresh family revoked, every access token issued until now refused. */
export async function revokeSessions(db: Db, actor: Actor, id: string): Promise<boolean> {
  const { rows } = await db.execute<{ found: number }>(sql`
    WITH target AS (UPDATE ${t} SET tokens_valid_after = ${tokensRefusedUntilNow(sql`${t.tokensValidAfter}`)} WHERE ${t.id} = ${id} RETURNING ${t.id}),
    revoked AS (
      UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = ${id} AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM target)
    ), audit AS (${audit(actor, "revoke", sql`${id}::uuid`, auditOutcome("target"))})
    SELECT ${actorCheck(actor, "admin")} AS actor, (SELECT count(*) FROM target)::int AS found`);
  return rows[0].found === 1;
}
