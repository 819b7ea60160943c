/**
 * The scheduled clean-up (a Cron Trigger, wrangler.toml): deletes rows that
 * have outlived their use, in bounded batches — at most CLEANUP_BATCH_ROWS
 * rows per DELETE and CLEANUP_MAX_BATCHES DELETEs per table per run — so a
 * backlog is worked off over several runs, never in one long statement that
 * holds locks or hits the statement timeout.
 */
import { type SQL, sql } from "drizzle-orm";
import { createDb, type Db } from "../db/client";
import { type Bindings, type CleanupConfig, databaseConfig, parseCleanupConfig } from "../lib/config";
import { logError, logInfo } from "../lib/log";

interface ExpiringRows {
  table: string;
  /** Columns that together are unique, to delete by. */
  key: string[];
  /** When a row (alias `t`) has outlived its use. */
  stale: (config: CleanupConfig) => SQL;
}

/** One entry per table; another table is one more line. */
export const EXPIRING_ROWS: ExpiringRows[] = [
  // Kept while any token of the family is unexpired: the used and revoked marks are what detect reuse and keep a revoked family dead.
  {
    table: "refresh_tokens",
    key: ["id"],
    stale: () =>
      sql`t.expires_at <= now() AND NOT EXISTS (SELECT 1 FROM refresh_tokens f WHERE f.family_id = t.family_id AND f.expires_at > now())`,
  },
  {
    table: "login_attempts",
    key: ["email_hash"],
    stale: (c) => sql`t.window_started_at <= now() - make_interval(mins => ${c.LOGIN_WINDOW_MINUTES})`,
  },
  // Kept 24 hours (docs/BEHAVIOUR.md): long enough for any client's retries of one action.
  { table: "idempotency_keys", key: ["user_id", "key_hash"], stale: () => sql`t.created_at <= now() - interval '24 hours'` },
  // A sync cursor older than SYNC_TOMBSTONE_DAYS is refused (410), so no client still needs these. The hour's margin covers a
  // deleting transaction that committed a little after its now() (docs/SYNC.md).
  {
    table: "sync_tombstones",
    key: ["resource_type", "id"],
    stale: (c) => sql`t.deleted_at <= now() - make_interval(days => ${c.SYNC_TOMBSTONE_DAYS}) - interval '1 hour'`,
  },
];

async function deleteBatch(db: Db, rows: ExpiringRows, config: CleanupConfig): Promise<number> {
  const table = sql.identifier(rows.table);
  const key = (prefix: string) =>
    sql.join(
      rows.key.map((k) => sql`${sql.raw(prefix)}${sql.identifier(k)}`),
      sql`, `,
    );
  const result = await db.execute(sql`
    DELETE FROM ${table} WHERE (${key("")}) IN (
      SELECT ${key("t.")} FROM ${table} t WHERE ${rows.stale(config)} LIMIT ${config.CLEANUP_BATCH_ROWS})`);
  return result.rowCount ?? 0;
}

/** Deletes expired rows table by table; returns how many went from each. */
export async function deleteExpiredRows(env: Bindings): Promise<Record<string, number>> {
  const parsed = parseCleanupConfig(env);
  if (!parsed.ok) {
    logError("config.cleanup_invalid", { reason: parsed.reason });
    throw new Error("The clean-up is not configured.");
  }
  const config = parsed.value;
  const db = createDb(databaseConfig(env));
  const deleted: Record<string, number> = {};
  for (const rows of EXPIRING_ROWS) {
    deleted[rows.table] = 0;
    for (let batch = 0; batch < config.CLEANUP_MAX_BATCHES; batch++) {
      const count = await deleteBatch(db, rows, config);
      deleted[rows.table] += count;
      if (count < config.CLEANUP_BATCH_ROWS) break;
    }
  }
  logInfo("cleanup.done", deleted);
  return deleted;
}
