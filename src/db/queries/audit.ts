/** The audit trail for administrators (API.md §7), newest first; the admin check is part of the statement. */
import { sql } from "drizzle-orm";
import type { Db } from "../client";
import { isoTimestamp, jsonObject } from "../fragments";

const auditJson = jsonObject({
  id: "$.id",
  occurred_at: isoTimestamp("$.occurred_at"),
  actor_id: "$.actor_id",
  action: "$.action",
  resource_type: "$.resource_type",
  resource_id: "$.resource_id",
  request_id: "$.request_id",
  client_request_id: "$.client_request_id",
  outcome: "$.outcome",
});

export interface AuditFilters {
  actor_id?: string;
  resource_type?: string;
  resource_id?: string;
  action?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

/** The page for an administrator, or undefined when the caller is not one. */
export async function listAudit(
  db: Db,
  userId: string,
  q: AuditFilters & { limit: number; offset: number },
): Promise<{ count: number; results: Record<string, unknown>[] } | undefined> {
  const conditions = [sql`EXISTS (SELECT 1 FROM admin)`];
  for (const column of ["actor_id", "resource_type", "resource_id", "action", "outcome"] as const) {
    const value = q[column];
    if (value !== undefined) conditions.push(sql`${sql.identifier(column)} = ${value}`);
  }
  if (q.since !== undefined) conditions.push(sql`occurred_at >= ${q.since}::timestamptz`);
  if (q.until !== undefined) conditions.push(sql`occurred_at <= ${q.until}::timestamptz`);
  const matches = sql.join(conditions, sql` AND `);
  const { rows } = await db.execute<{ admin: number; count: number; results: Record<string, unknown>[] }>(sql`
    WITH admin AS (SELECT 1 FROM users WHERE id = ${userId} AND is_admin)
    SELECT (SELECT count(*) FROM admin)::int AS admin,
           (SELECT count(*) FROM audit_events WHERE ${matches})::int AS count,
           (SELECT coalesce(json_agg(${auditJson("a")} ORDER BY a.occurred_at DESC, a.id DESC), '[]'::json)
            FROM (SELECT * FROM audit_events WHERE ${matches} ORDER BY occurred_at DESC, id DESC LIMIT ${q.limit} OFFSET ${q.offset}) a) AS results`);
  const row = rows[0];
  return row.admin === 0 ? undefined : { count: row.count, results: row.results };
}
