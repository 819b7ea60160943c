/**
 * The one place a database client is made: Drizzle over the Neon HTTP
 * driver, built per request from `c.env` (a client kept across requests
 * fails on Workers). Every query is one HTTPS round trip to Neon, or to the
 * local endpoint when NEON_LOCAL_ENDPOINT is set, and gives up after
 * DB_TIMEOUT_MS so a slow database turns into a 503, never a hung request.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { DatabaseConfig } from "../lib/config";

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
  // checkStatements: src/db/statement.ts compares each cached statement shape with a fresh build (tests).
  return Object.assign(drizzle({ client }), { checkStatements: config.STATEMENT_CHECK });
}

export type Db = ReturnType<typeof createDb>;
