/** The audit trail for administrators (docs/BEHAVIOUR.md), newest first; the admin check is part of the statement. */
import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type Actor, actorCheck, listPage } from "../../db/fragments";
import { auditEvents } from "../../db/schema";
import type { ListRequest, ListRows } from "../../lib/list";
import { type AuditEvent, auditEventResponse } from "./schemas";

export interface AuditFilters {
  actor_id?: string;
  resource_type?: string;
  resource_id?: string;
  action?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

const t = auditEvents;
/** The filters that compare a column for equality, by query parameter. */
const EQUALITY_FILTERS = {
  actor_id: t.actorId,
  resource_type: t.resourceType,
  resource_id: t.resourceId,
  action: t.action,
  outcome: t.outcome,
} as const;

/** The page, for an administrator (anyone else: the statement's admin check raises, 403). Reading the trail is not audited. */
export async function listAudit(db: Db, actor: Actor, q: AuditFilters & ListRequest): Promise<ListRows<AuditEvent>> {
  const conditions = [sql`true`];
  for (const [param, column] of Object.entries(EQUALITY_FILTERS)) {
    const value = q[param as keyof typeof EQUALITY_FILTERS];
    if (value !== undefined) conditions.push(sql`${column} = ${value}`);
  }
  if (q.since !== undefined) conditions.push(sql`${t.occurredAt} >= ${q.since}::timestamptz`);
  if (q.until !== undefined) conditions.push(sql`${t.occurredAt} <= ${q.until}::timestamptz`);
  const matches = sql.join(conditions, sql` AND `);
  const page = listPage({ table: t, id: t.id, matches, request: q, alias: "a", json: auditEventResponse.json("a") });
  const { rows } = await db.execute<ListRows<AuditEvent>>(sql`
    WITH ${page.ctes}
    SELECT ${actorCheck(actor, "admin")} AS admin, (SELECT count(*) FROM ${t} WHERE ${matches})::int AS count, ${page.columns}`);
  return rows[0];
}
