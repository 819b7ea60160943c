/**
 * Idempotency keys in the write's own statement (docs/BEHAVIOUR.md): one
 * round trip reads the key's earlier record, runs the write only when there
 * is none, and records the key only when the write happened — so a key
 * exists exactly when its write committed. A racing duplicate that missed
 * the record (both statements started before either committed) fails on the
 * key's primary key when it tries to record it: its whole statement, write
 * included, rolls back, and the error handler answers 409.
 *
 * Every idempotent write statement uses these fragments, in this shape:
 *
 *   WITH ${idem.prior}, <its CTEs, the write guarded by ${idem.fresh}>,
 *        ${idem.record(status, type, "<the write's CTE>")}, <its audit, idempotent: true>
 *   SELECT …, ${idem.column}, ${idem.replay(<the resource now, by ${idem.replayId}> AS replay)}
 *
 * Without a key the same fragments are constants (`withoutKey` below), and
 * the statement is a plain write.
 */
import { type SQL, sql } from "drizzle-orm";
import { type IDEMPOTENT_RESOURCE_TYPES, idempotencyKeys } from "./schema";

/** A request's Idempotency-Key, as the middleware validated it: hashes only. */
export interface IdempotencyKey {
  /** SHA-256 of the header: the key itself is never stored (a client may put anything in it). */
  keyHash: string;
  /** SHA-256 of method, path and canonical JSON body. */
  fingerprint: string;
}

/** The 409 of a request that raced its own duplicate (same key, both running at once): its retry gets the replay. */
export const KEY_IN_FLIGHT = "A request with this Idempotency-Key is already being processed; retry it to get its answer.";

/** The statuses a recorded write answered (and a replay answers again). */
export type RecordedStatus = 200 | 201 | 204;

/** What the summary row's `idem` column holds when the key was used before. */
export interface PriorRecord {
  matches: boolean;
  status: RecordedStatus;
  resource_id: string;
}

/** A retry answered from the record, or a key reused for another request. */
export type Replay<T> = { status: "replayed"; code: RecordedStatus; resourceId: string; value: T | null } | { status: "key_mismatch" };

const k = idempotencyKeys;
const col = (c: { name: string }) => sql.identifier(c.name);

/** The CTE names the fragments below share (fixed, so the audit fragment can read them). */
export const PRIOR_CTE = "idem_prior";

export function idempotency(userId: string, key: IdempotencyKey | undefined) {
  if (key === undefined) return withoutKey;
  const { keyHash, fingerprint } = key;
  return {
    /** `idem_prior`: what this user's key recorded before, if anything. */
    prior: sql`${sql.identifier(PRIOR_CTE)} AS (
      SELECT ${col(k.fingerprint)} = ${fingerprint}::text AS matches, ${col(k.status)} AS status, ${col(k.resourceId)} AS resource_id
      FROM ${k} WHERE ${k.userId} = ${userId}::uuid AND ${k.keyHash} = ${keyHash}::text)`,
    /** The write's guard: the key has no earlier record. */
    fresh: sql`NOT EXISTS (SELECT 1 FROM ${sql.identifier(PRIOR_CTE)})`,
    /** `idem_record`: the key, recorded for the row the CTE `done` wrote (its `id`), when there is a row. */
    record: (status: RecordedStatus, resourceType: (typeof IDEMPOTENT_RESOURCE_TYPES)[number], done: string) => sql`idem_record AS (
      INSERT INTO ${k} (${col(k.userId)}, ${col(k.keyHash)}, ${col(k.fingerprint)}, ${col(k.status)}, ${col(k.resourceType)}, ${col(k.resourceId)})
      SELECT ${userId}::uuid, ${keyHash}::text, ${fingerprint}::text, ${status}::int, ${resourceType}::text, id
      FROM ${sql.identifier(done)})`,
    /** The summary column `idem`: the earlier record (null when there is none). */
    column: sql`(SELECT json_build_object('matches', matches, 'status', status, 'resource_id', resource_id) FROM ${sql.identifier(PRIOR_CTE)}) AS idem`,
    /**
     * The summary column `raced`, for a DELETE: the statement's snapshot still
     * shows the row its locked read no longer finds, so a request running at
     * the same moment deleted it — most likely this one's racing duplicate,
     * which must get 409 or the replay, never a 404.
     */
    raced: (table: SQL, condition: SQL) => sql`(SELECT count(*) FROM ${table} WHERE ${condition})::int AS raced`,
    /** The summary column `replay`: `column` (the resource now, read by `replayId`). */
    replay: (column: SQL) => column,
    /** The id the earlier record names, to read the resource as it is now. */
    replayId: sql`(SELECT resource_id FROM ${sql.identifier(PRIOR_CTE)} WHERE matches)`,
  };
}

/**
 * A write without a key (most of them): the same CTE names and summary
 * columns, each a constant, so the statement does no idempotency work and
 * Postgres has about half the text to parse and plan (docs/BENCHMARKS.md).
 * The CTEs are never referenced, so Postgres does not even run them.
 */
const withoutKey = {
  prior: sql`${sql.identifier(PRIOR_CTE)} AS (SELECT)`,
  fresh: sql`true`,
  record: (_status: RecordedStatus, _resourceType: (typeof IDEMPOTENT_RESOURCE_TYPES)[number], _done: string) =>
    sql`idem_record AS (SELECT)`,
  column: sql`NULL::json AS idem`,
  raced: (_table: SQL, _condition: SQL) => sql`0 AS raced`,
  replay: (_column: SQL) => sql`NULL AS replay`,
  replayId: sql`NULL::uuid`,
};

/** An audit row's resource id and outcome when the statement may be a replay: `replayed` (or `key_mismatch`) instead of what the write would have said. */
export const replayAudit = (entry: { resourceId: SQL; outcome: SQL }) => {
  const prior = sql.identifier(PRIOR_CTE);
  return {
    resourceId: sql`coalesce((SELECT resource_id FROM ${prior} WHERE matches), ${entry.resourceId})`,
    outcome: sql`CASE WHEN NOT EXISTS (SELECT 1 FROM ${prior}) THEN ${entry.outcome}
      WHEN (SELECT matches FROM ${prior}) THEN 'replayed' ELSE 'key_mismatch' END`,
  };
};

/** The replay (or 422) a summary row stands for, if its key was used before. */
export function replayOf<T>(row: { idem?: PriorRecord | null; replay?: T | null }): Replay<T> | undefined {
  if (!row.idem) return undefined;
  if (!row.idem.matches) return { status: "key_mismatch" };
  return { status: "replayed", code: row.idem.status, resourceId: row.idem.resource_id, value: row.replay ?? null };
}
