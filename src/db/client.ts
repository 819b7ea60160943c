/**
 * The one place a database client is made: Drizzle over the Neon HTTP
 * driver, built per request from `c.env` (a client kept across requests
 * fails on Workers). Every query is one HTTPS round trip to Neon, or to the
 * local endpoint when NEON_LOCAL_ENDPOINT is set, and gives up after
 * DB_TIMEOUT_MS so a slow database turns into a 503, never a hung request.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { type SQL, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/neon-http";
import type { DatabaseConfig } from "../lib/config";

/** Sent first, in the same transaction, by an audited read under READ_AUDIT_COMMIT=async. */
const ASYNC_COMMIT = sql.raw("SET LOCAL synchronous_commit = off");

export function createDb(config: DatabaseConfig) {
  // The driver's endpoint setting is process-wide; every request of an
  // isolate sees the same env, so setting it here is the same as setting it
  // once. In production it stays unset and the driver goes to Neon.
  if (config.NEON_LOCAL_ENDPOINT) neonConfig.fetchEndpoint = config.NEON_LOCAL_ENDPOINT;
  const client = neon(config.DATABASE_URL, {
    fetchOptions: { signal: AbortSignal.timeout(config.DB_TIMEOUT_MS) },
  });
  // No `schema`: nothing uses Drizzle's relational queries, and building their
  // config from the schema was a fifth of a read's CPU (docs/BENCHMARKS.md).
  const db = drizzle({ client });
  const asyncCommit = config.READ_AUDIT_COMMIT === "async";
  return Object.assign(db, {
    /**
     * Runs the statement of an audited read (patient and mapping reads and
     * lists, sync pages, administrator reads): its audit row makes it a
     * write transaction, which by default waits at commit for its WAL to be
     * flushed (on Neon: acknowledged by a quorum of safekeepers). With
     * READ_AUDIT_COMMIT=async it runs instead in a transaction that first
     * sets `synchronous_commit = off` for itself only — the driver's
     * transaction, still one HTTP request — and answers without that wait
     * (README, "Read-audit durability"). Writes always use `execute`: they
     * commit durably whatever this setting says.
     */
    async auditRead<T extends Record<string, unknown>>(query: SQL) {
      if (!asyncCommit) return await db.execute<T>(query);
      const [, result] = await db.batch([db.execute(ASYNC_COMMIT), db.execute<T>(query)]);
      return result;
    },
  });
}

export type Db = ReturnType<typeof createDb>;
