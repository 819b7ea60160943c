/**
 * The one place a database client is made: the Neon HTTP driver's query
 * function. Drizzle builds the SQL (its `sql` templates and the schema's
 * table objects), Postgres runs it as sent; no Drizzle session or driver
 * adapter is involved, so each statement takes the same path. Every query is
 * one HTTPS round trip to Neon, or to the local endpoint when
 * NEON_LOCAL_ENDPOINT is set, and gives up after DB_TIMEOUT_MS so a slow
 * database turns into a 503, never a hung request.
 */
import { type NeonQueryFunction, neon, neonConfig } from "@neondatabase/serverless";
import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { DatabaseConfig } from "../lib/config";

/** Sent first, in the same transaction, by an audited read under READ_AUDIT_COMMIT=async. */
const ASYNC_COMMIT_TEXT = "SET LOCAL synchronous_commit = off";
const dialect = new PgDialect();

/**
 * The driver's query function per connection string, made once per isolate:
 * it holds no connection or other I/O (each query is its own fetch), and
 * making it with Drizzle around it on every request was 7–8 % of a request's
 * CPU (docs/BENCHMARKS.md). The per-request timeout goes with each query.
 */
const sharedClients = new Map<string, NeonQueryFunction<false, true>>();
function sharedClient(url: string) {
  let client = sharedClients.get(url);
  if (!client) {
    client = neon(url, { fullResults: true });
    sharedClients.set(url, client);
  }
  return client;
}

export function createDb(config: DatabaseConfig) {
  // The driver's endpoint setting is process-wide; every request of an
  // isolate sees the same env, so setting it here is the same as setting it
  // once. In production it stays unset and the driver goes to Neon.
  if (config.NEON_LOCAL_ENDPOINT) neonConfig.fetchEndpoint = config.NEON_LOCAL_ENDPOINT;
  const timeout = () => ({ signal: AbortSignal.timeout(config.DB_TIMEOUT_MS) });
  const asyncCommit = config.READ_AUDIT_COMMIT === "async";
  /**
   * Runs compiled SQL text (src/db/statement.ts): one round trip. An
   * audited read goes as auditRead below says.
   */
  async function query(
    text: string,
    params: unknown[],
    options: { auditRead?: boolean } = {},
  ): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }> {
    const client = sharedClient(config.DATABASE_URL);
    const fetchOptions = timeout();
    if (options.auditRead && asyncCommit) {
      const [, result] = await client.transaction([client.query(ASYNC_COMMIT_TEXT), client.query(text, params)], {
        fullResults: true,
        fetchOptions,
      });
      return result;
    }
    return await client.query(text, params, { fullResults: true, fetchOptions });
  }
  return {
    /** src/db/statement.ts compares each cached statement shape with a fresh build (tests). */
    checkStatements: config.STATEMENT_CHECK,
    query,
    /**
     * Runs a statement built with Drizzle's `sql` for this request (those not
     * compiled once per shape by src/db/statement.ts): one round trip.
     */
    async execute<T extends Record<string, unknown>>(statement: SQL) {
      const { sql: text, params } = dialect.sqlToQuery(statement);
      return (await query(text, params)) as { rows: T[]; rowCount: number | null };
    },
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
    async auditRead<T extends Record<string, unknown>>(statement: SQL) {
      // The same path as a compiled statement's (query, above): one place decides how an audited read commits.
      const { sql: text, params } = dialect.sqlToQuery(statement);
      return (await query(text, params, { auditRead: true })) as { rows: T[] };
    },
  };
}

export type Db = ReturnType<typeof createDb>;
