/**
 * SQL fragments shared by the resource queries. Responses are built as JSON
 * by Postgres itself (json_build_object), in the exact shape of the API, so
 * the Worker only passes them through.
 */
import { getTableName, type SQL, type SQLWrapper, sql, type Table } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { containsPattern, type ListOrder, type ListRequest } from "../lib/list";
import { type IdempotencyKey, type PriorRecord, type Replay, replayAudit, replayOf } from "./idempotency";
import { type AUDIT_ACTIONS, type AUDIT_RESOURCE_TYPES, auditEvents, rowCounts } from "./schema";

/** A column by its bare name: for INSERT column lists and SET, and for rows of a CTE. */
export const bare = (column: AnyPgColumn) => sql.identifier(column.name);

/**
 * `col = ANY(versions)` for an If-Match condition, or true when there is none.
 *
 * The write statements read their target as `cur … FOR [NO KEY] UPDATE`:
 * the lock makes `cur` see the row as the write will, so a write that loses
 * a race to a DELETE reports 404, not a stale precondition.
 */
export const versionMatches = (version: AnyPgColumn | SQL, versions: string | undefined) =>
  versions === undefined ? sql`true` : sql`${version} = ANY(${versions}::int[])`;

/** Who makes a request: the verified token's user and the request's ids (all go in the audit row). */
export interface Actor {
  userId: string;
  /** The access token's `iat` (epoch seconds). */
  issuedAt: number;
  requestId: string;
  clientRequestId: string | undefined;
  /** The request's Idempotency-Key (writes only), when it sent one. */
  idempotency?: IdempotencyKey;
}

/** An actor as statement values (src/db/statement.ts): a plain object of its leaves. */
export type ActorValues = {
  userId: string;
  issuedAt: number;
  requestId: string;
  clientRequestId: string | undefined;
  idempotency: { keyHash: string; fingerprint: string } | undefined;
};
export const actorValues = (a: Actor): ActorValues => ({
  userId: a.userId,
  issuedAt: a.issuedAt,
  requestId: a.requestId,
  clientRequestId: a.clientRequestId,
  idempotency: a.idempotency && { keyHash: a.idempotency.keyHash, fingerprint: a.idempotency.fingerprint },
});

/**
 * The account's token check, for the statement every authenticated route
 * already runs (no round trip of its own): the caller's account exists, is
 * active and was not signed out everywhere since the token was issued; with
 * "admin", it is also an administrator. authorised_actor (drizzle/0008)
 * raises when not, which undoes the whole statement — its writes and its
 * audit row — and the error handler answers 401 (or 403). Put it in the
 * target list of a statement's one-row final SELECT, where it is always
 * evaluated; an INSERT also tests it in its WHERE, so nothing is even tried.
 */
export const actorCheck = (actor: Pick<Actor, "userId" | "issuedAt">, role: "user" | "admin" = "user") =>
  sql`authorised_actor(${actor.userId}::uuid, ${actor.issuedAt}::double precision, ${role === "admin"})`;

/**
 * The new tokens_valid_after of an account signed out everywhere
 * (deactivation, sign-out everywhere, password change), from its current
 * value `current`: now — or, if a login since the last such event got a
 * token dated the next whole second (its iat moved up so that it works at
 * once; see auth's notBefore), that second, so that this event ends that
 * token too. Tokens issued after it are then dated the second after.
 */
export const tokensRefusedUntilNow = (current: SQL) => sql`greatest(now(), date_trunc('second', ${current}) + interval '1 second')`;

/** The SQLSTATEs authorised_actor raises: the token no longer counts (401), or the caller is no administrator (403). */
export const ACTOR_SQLSTATE = { refused: "UA401", notAdmin: "UA403" } as const;

export interface AuditEntry {
  action: (typeof AUDIT_ACTIONS)[number];
  resourceType: (typeof AUDIT_RESOURCE_TYPES)[number];
  /** An SQL expression for the resource id (NULL for lists). */
  resourceId: SQL;
  /** An SQL expression choosing the outcome from the statement's own CTEs. */
  outcome: SQL;
  /** An idempotent write's statement (src/db/idempotency.ts): a replay is audited as `replayed`. */
  idempotent?: boolean;
  /** For updates: a text[] expression naming the fields whose value changed (see changedFields). */
  fields?: SQL;
}

/**
 * The audit row as a data-modifying CTE body: it runs in the same statement
 * (and transaction) as the operation, so it exists exactly when the
 * statement commits, and its outcome is read from what the statement did.
 */
const e = auditEvents;
export const auditInsert = (actor: Actor, entry: AuditEntry) => {
  // Without an Idempotency-Key there is no earlier record to replay (src/db/idempotency.ts: `withoutKey`).
  const a = entry.idempotent && actor.idempotency !== undefined ? { ...entry, ...replayAudit(entry) } : entry;
  return sql`
  INSERT INTO ${e} (${bare(e.actorId)}, ${bare(e.action)}, ${bare(e.resourceType)}, ${bare(e.resourceId)}, ${bare(e.requestId)}, ${bare(e.clientRequestId)}, ${bare(e.outcome)}, ${bare(e.fields)})
  SELECT ${actor.userId}::uuid, ${a.action}, ${a.resourceType}, ${a.resourceId}, ${actor.requestId}, ${actor.clientRequestId ?? null}::text, ${a.outcome}, ${a.fields ?? sql`NULL::text[]`}`;
};

/**
 * The API names of the fields whose value an UPDATE changed, as text[]:
 * `before` is the locked row as it was (a CTE), `after` the UPDATE's own
 * table in its RETURNING. A field sent with its current value is not named.
 */
export function changedFields(fields: [string, AnyPgColumn][], before: string, after: string): SQL {
  if (fields.length === 0) return sql`'{}'::text[]`;
  const named = fields.map(([name, column]) => {
    if (!/^\w+$/.test(name)) throw new Error(`Invalid field name ${name}`);
    return sql`CASE WHEN ${sql.identifier(before)}.${bare(column)} IS DISTINCT FROM ${sql.identifier(after)}.${bare(column)} THEN ${sql.raw(`'${name}'`)} END`;
  });
  return sql`array_remove(ARRAY[${sql.join(named, sql`, `)}]::text[], NULL)`;
}

/**
 * `<column> [DESC], <id> [DESC]` (for ORDER BY): always with the id, so pages
 * are stable. With `alias`, the columns of that alias (a subquery or CTE).
 */
export function orderBy(column: AnyPgColumn, id: AnyPgColumn, descending: boolean, alias?: string): SQL {
  const dir = sql.raw(descending ? " DESC" : "");
  const ref = (c: AnyPgColumn) => (alias ? sql`${sql.identifier(alias)}.${bare(c)}` : bare(c));
  return sql`${ref(column)}${dir}, ${ref(id)}${dir}`;
}

/**
 * An ordering value as text, as cursors carry it (keyFits in src/lib/list.ts
 * checks a cursor's value against these formats): timestamps in UTC to the
 * microsecond the database keeps (the API shows milliseconds, too coarse to
 * find the row again), dates as YYYY-MM-DD, text as it is. Read back with a
 * cast to the column's type, it is the exact value.
 */
function keyText(ref: SQLWrapper, column: AnyPgColumn): SQL {
  if (column.columnType === "PgTimestamp") return sql`to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  if (column.columnType === "PgDateString") return sql`to_char(${ref}, 'YYYY-MM-DD')`;
  return sql`${ref}::text`;
}

/**
 * The keyset condition: rows past the cursor's boundary row in the scan's
 * direction — a row comparison `(col, id) > (value, id)` (or `<`) that the
 * list's (owner, col, id) index serves. NULL (a nullable column) counts as
 * above every value, which is where Postgres sorts it (last ascending, first
 * descending), so the condition grows an `IS NULL` branch only for such columns.
 */
function keyset(order: ListOrder, id: AnyPgColumn, op: ">" | "<", from: { key: string | null; id: string }): SQL {
  const { column } = order;
  const boundaryId = sql`${from.id}::uuid`;
  if (from.key === null) {
    return op === ">" ? sql`(${column} IS NULL AND ${id} > ${boundaryId})` : sql`(${column} IS NOT NULL OR ${id} < ${boundaryId})`;
  }
  const row = sql`(${column}, ${id}) ${sql.raw(op)} (${from.key}::${sql.raw(column.getSQLType())}, ${boundaryId})`;
  return op === ">" && !column.notNull ? sql`(${row} OR ${column} IS NULL)` : row;
}

/**
 * A list's page as two pieces of its one statement: CTEs (after \`WITH\`)
 * and select-list columns (`results`, and in cursor mode `more`, `first`,
 * `last`: see ListRows; `results` is the page's JSON text, passed through
 * to the response). `matches` selects the list's rows in `table`;
 * `json` builds one result from the row under `alias` (and from `join`, if
 * given). By offset: LIMIT/OFFSET as ever. By cursor: the keyset condition,
 * scanning backwards for `previous` (reversed comparison and order), one row
 * more than the page to learn whether more follow; the page is read back in
 * the list's order, with its first and last row's ordering value as text.
 */
export function listPage(p: { table: Table; id: AnyPgColumn; matches: SQL; request: ListRequest; alias: string; json: SQL; join?: SQL }): {
  ctes: SQL;
  columns: SQL;
} {
  const { column, descending } = p.request.order;
  const { page } = p.request;
  const listed = orderBy(column, p.id, descending);
  const results = (from: string) =>
    sql`(SELECT coalesce(json_agg(${p.json} ORDER BY ${orderBy(column, p.id, descending, p.alias)}), '[]'::json)::text
         FROM ${sql.identifier(from)} ${sql.identifier(p.alias)} ${p.join ?? sql``}) AS results`;
  if (page.mode === "offset") {
    return {
      ctes: sql`page AS (SELECT * FROM ${p.table} WHERE ${p.matches} ORDER BY ${listed} LIMIT ${page.limit} OFFSET ${page.offset})`,
      columns: results("page"),
    };
  }
  const { direction, from } = page.cursor;
  const backwards = direction === "previous";
  const scan = orderBy(column, p.id, descending !== backwards);
  const past = from ? sql` AND ${keyset(p.request.order, p.id, descending !== backwards ? "<" : ">", from)}` : sql``;
  const boundary = sql`json_build_array(${keyText(bare(column), column)}, ${bare(p.id)})`;
  const bound = (order: SQL) => sql`(SELECT ${boundary} FROM shown ORDER BY ${order} LIMIT 1)`;
  return {
    ctes: sql`page AS (SELECT * FROM ${p.table} WHERE ${p.matches}${past} ORDER BY ${scan} LIMIT (${page.limit}::int + 1)),
      shown AS (SELECT * FROM page ORDER BY ${scan} LIMIT ${page.limit})`,
    columns: sql`${results("shown")}, (SELECT count(*) FROM page) > ${page.limit} AS more,
      ${bound(listed)} AS first, ${bound(orderBy(column, p.id, !descending))} AS last`,
  };
}

/** A list page's values for a compiled statement (src/db/statement.ts): what changes from request to request. */
export type PageValues = { limit: number; offset: number | undefined; key: string | null | undefined; id: string | undefined };

export function pageValues({ page }: ListRequest): PageValues {
  const from = page.mode === "cursor" ? page.cursor.from : undefined;
  return { limit: page.limit, offset: page.mode === "offset" ? page.offset : undefined, key: from?.key, id: from?.id };
}

/** What chooses a list statement's shape: the order, and how the page is asked for. */
export function pageShape({ order, page }: ListRequest): (string | boolean)[] {
  return [
    order.field,
    order.descending,
    page.mode,
    page.mode === "cursor" ? page.cursor.direction : "",
    page.mode === "cursor" && !!page.cursor.from,
  ];
}

/** The request again with its page's values taken from `v` (stand-ins, when the statement is compiled). */
export function withPageValues(q: ListRequest, v: PageValues): ListRequest {
  const { page } = q;
  if (page.mode === "offset") return { ...q, page: { ...page, limit: v.limit, offset: v.offset ?? 0 } };
  const from = page.cursor.from && { key: v.key ?? null, id: v.id ?? "" };
  return { ...q, page: { ...page, limit: v.limit, cursor: { ...page.cursor, from } } };
}

/**
 * Values from a validated body, keyed by API field name (the strict zod
 * schema admits no others). An undefined value is a field the body did not
 * mention.
 */
export type ColumnValues = Record<string, string | null | undefined>;

/** The body's fields as (column, value) pairs, each column taken from the resource's response declaration. */
export function columnValues(values: ColumnValues, columns: Record<string, unknown>): [AnyPgColumn, string | null][] {
  return Object.entries(values).flatMap(([key, value]) => {
    if (value === undefined) return [];
    const column = columns[key];
    if (!column || typeof column !== "object" || !("columnType" in column)) throw new Error(`${key} is not a column of this resource`);
    return [[column as AnyPgColumn, value]];
  });
}

export const columnList = (pairs: [AnyPgColumn, unknown][]) =>
  sql.join(
    pairs.map(([c]) => bare(c)),
    sql`, `,
  );
export const valueList = (pairs: [AnyPgColumn, unknown][]) =>
  sql.join(
    pairs.map(([, v]) => sql`${v}`),
    sql`, `,
  );
/** `col = value, …` followed by the version bump every write makes. */
export const setClause = (pairs: [AnyPgColumn, unknown][], table: { version: AnyPgColumn; updatedAt: AnyPgColumn }) =>
  sql.join(
    [
      ...pairs.map(([c, v]) => sql`${bare(c)} = ${v}`),
      // Qualified: an UPDATE … FROM may join a row with the same columns.
      sql`${bare(table.version)} = ${table.version} + 1, ${bare(table.updatedAt)} = now()`,
    ],
    sql`, `,
  );

/**
 * What a write statement came to, in the check order of docs/BEHAVIOUR.md: the row was not
 * there (404), the caller may not change it (403), it conflicts (409), the
 * If-Match tag was stale (412), or it was written.
 */
export type WriteOutcome<T> =
  | { status: "not_found" }
  | { status: "forbidden" }
  | { status: "conflict" }
  | { status: "precondition_failed" }
  /** A keyed DELETE found its row deleted under its lock by a request running at the same moment (KEY_IN_FLIGHT). */
  | { status: "in_flight" }
  | { status: "ok"; value: T }
  | Replay<T>;

/** Reads the outcome from a statement's summary row: counts of its CTEs and the written body. */
export function outcomeOf<T>(row: {
  found: number;
  allowed?: number;
  conflict?: number;
  body: T | null;
  raced?: number;
  idem?: PriorRecord | null;
  replay?: T | null;
}): WriteOutcome<T> {
  const replay = replayOf(row);
  if (replay) return replay;
  if (row.found === 0) return row.raced ? { status: "in_flight" } : { status: "not_found" };
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

/** A list's `search` text, literally (containsPattern), in any of `columns`, case-insensitively. */
export function matchesSearch(search: string, columns: AnyPgColumn[]): SQL {
  return matchesPattern(containsPattern(search), columns);
}

/** A LIKE `pattern` (containsPattern's) in any of `columns`: for a compiled statement, whose values JS must not transform. */
export function matchesPattern(pattern: string, columns: AnyPgColumn[]): SQL {
  return sql`(${sql.join(
    columns.map((c) => sql`${c} ILIKE ${pattern} ESCAPE '\\'`),
    sql` OR `,
  )})`;
}

/** The owner doctors are counted under in row_counts: they have none. */
const EVERYONE = "00000000-0000-0000-0000-000000000000";

/**
 * A list's `count`: read from row_counts (kept by triggers) when no filter
 * narrows the list, so it costs one index lookup however many rows there
 * are; counted from the matching rows otherwise.
 */
export function listTotal(table: Table, ownerId: string | undefined, filtered: boolean, matches: SQL): SQL {
  const c = rowCounts;
  return filtered
    ? sql`(SELECT count(*) FROM ${table} WHERE ${matches})::int`
    : sql`coalesce((SELECT ${c.total} FROM ${c} WHERE ${c.tableName} = ${getTableName(table)} AND ${c.ownerId} = ${ownerId ?? EVERYONE}::uuid), 0)::int`;
}
