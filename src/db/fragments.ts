/**
 * SQL fragments shared by the resource queries. Responses are built as JSON
 * by Postgres itself (json_build_object), in the exact shape of the API, so
 * the Worker only passes them through.
 */
import { type SQL, sql } from "drizzle-orm";
import type { AUDIT_ACTIONS, AUDIT_RESOURCE_TYPES } from "./schema";

/** SQL text for a timestamptz as the API writes it: ISO 8601, UTC, milliseconds, `Z`. */
export const isoTimestamp = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** SQL text for a date as `YYYY-MM-DD`, whatever the session's DateStyle. */
export const isoDate = (column: string) => `to_char(${column}, 'YYYY-MM-DD')`;

/**
 * `json_build_object(...)` over `alias`, from API field → SQL expression text
 * (`$` stands for the alias): the response shape, defined once per resource.
 */
export const jsonObject = (fields: Record<string, string>) => (alias: string) =>
  sql.raw(
    `json_build_object(${Object.entries(fields)
      .map(([k, v]) => `'${k}', ${v.replaceAll("$", alias)}`)
      .join(", ")})`,
  );

/**
 * `col = ANY(versions)` for an If-Match condition, or true when there is none.
 *
 * The write statements read their target as `cur … FOR [NO KEY] UPDATE`:
 * the lock makes `cur` see the row as the write will, so a write that loses
 * a race to a DELETE reports 404, not a stale precondition.
 */
export const versionMatches = (column: string, versions: string | undefined) =>
  versions === undefined ? sql`true` : sql`${sql.raw(column)} = ANY(${versions}::int[])`;

/** Who makes a request: the verified token's user and the request's ids (all go in the audit row). */
export interface Actor {
  userId: string;
  requestId: string;
  clientRequestId: string | undefined;
}

export interface AuditEntry {
  action: (typeof AUDIT_ACTIONS)[number];
  resourceType: (typeof AUDIT_RESOURCE_TYPES)[number];
  /** An SQL expression for the resource id (NULL for lists). */
  resourceId: SQL;
  /** An SQL expression choosing the outcome from the statement's own CTEs. */
  outcome: SQL;
}

/**
 * The audit row as a data-modifying CTE body: it runs in the same statement
 * (and transaction) as the operation, so it exists exactly when the
 * statement commits, and its outcome is read from what the statement did.
 */
export const auditInsert = (actor: Actor, a: AuditEntry) => sql`
  INSERT INTO audit_events (actor_id, action, resource_type, resource_id, request_id, client_request_id, outcome)
  SELECT ${actor.userId}::uuid, ${a.action}, ${a.resourceType}, ${a.resourceId}, ${actor.requestId}, ${actor.clientRequestId ?? null}::text, ${a.outcome}`;

/** `ORDER BY <column> [DESC], id [DESC]`: always with the id, so pages are stable. */
export function orderBy(column: string, descending: boolean, alias = ""): SQL {
  const dir = descending ? " DESC" : "";
  return sql.raw(`${alias}${column}${dir}, ${alias}id${dir}`);
}

/**
 * Column values from a validated body whose keys are column names (the API
 * uses the same snake_case names; the strict zod schema admits no others).
 * An undefined value is a field the body did not mention.
 */
export type ColumnValues = Record<string, string | null | undefined>;

const present = (values: ColumnValues) => Object.entries(values).filter(([, v]) => v !== undefined);

export const columnList = (values: ColumnValues) =>
  sql.join(
    present(values).map(([k]) => sql.identifier(k)),
    sql`, `,
  );
export const valueList = (values: ColumnValues) =>
  sql.join(
    present(values).map(([, v]) => sql`${v}`),
    sql`, `,
  );
/** `col = value, …` followed by the version bump every write makes. */
export const setClause = (values: ColumnValues) =>
  sql.join([...present(values).map(([k, v]) => sql`${sql.identifier(k)} = ${v}`), sql`version = version + 1, updated_at = now()`], sql`, `);

/**
 * What a write statement came to, in API.md §10's order: the row was not
 * there (404), the caller may not change it (403), it conflicts (409), the
 * If-Match tag was stale (412), or it was written.
 */
export type WriteOutcome<T> =
  | { status: "not_found" }
  | { status: "forbidden" }
  | { status: "conflict" }
  | { status: "precondition_failed" }
  | { status: "ok"; value: T };

/** Reads the outcome from a statement's summary row: counts of its CTEs and the written body. */
export function outcomeOf<T>(row: { found: number; allowed?: number; conflict?: number; body: T | null }): WriteOutcome<T> {
  if (row.found === 0) return { status: "not_found" };
  if (row.allowed === 0) return { status: "forbidden" };
  if ((row.conflict ?? 0) > 0) return { status: "conflict" };
  if (row.body === null) return { status: "precondition_failed" };
  return { status: "ok", value: row.body };
}

/** `CASE` choosing the audit outcome from the statement's CTEs: done → success, else conflict / stale / missing. */
export function auditOutcome(done: string, checks: { found?: string; conflict?: string } = {}): SQL {
  const when = (cte: string | undefined, outcome: string) => (cte ? `WHEN EXISTS (SELECT 1 FROM ${cte}) THEN '${outcome}' ` : "");
  return sql.raw(
    `CASE WHEN EXISTS (SELECT 1 FROM ${done}) THEN 'success' ${when(checks.conflict, "conflict")}${when(checks.found, "precondition_failed")}ELSE 'not_found' END`,
  );
}

/** The owner doctors are counted under in row_counts: they have none. */
const EVERYONE = "00000000-0000-0000-0000-000000000000";

/**
 * A list's `count`: read from row_counts (kept by triggers) when no filter
 * narrows the list, so it costs one index lookup however many rows there
 * are; counted from the matching rows otherwise.
 */
export function listTotal(table: string, ownerId: string | undefined, filtered: boolean, matches: SQL): SQL {
  return filtered
    ? sql`(SELECT count(*) FROM ${sql.identifier(table)} WHERE ${matches})::int`
    : sql`coalesce((SELECT total FROM row_counts WHERE table_name = ${table} AND owner_id = ${ownerId ?? EVERYONE}::uuid), 0)::int`;
}
