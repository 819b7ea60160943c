/**
 * Runs in Node before the suite: starts the local Neon endpoint on a fresh
 * database and hands its URL to the Workers pool. PGlite in memory by
 * default; with TEST_DATABASE_URL=postgres://… (a server, not a database to
 * reuse) a throwaway database is created on that server and dropped after.
 */
import type { TestProject } from "vitest/node";
import { createThrowawayDatabase } from "../scripts/lib/migrate.ts";
import { openBackend } from "../scripts/neon-local/backends.ts";
import { startNeonLocalServer } from "../scripts/neon-local/server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    neonLocalEndpoint: string;
    neonLocalStats: string;
    databaseBackend: "pglite" | "postgres";
  }
}

export default async function setup(project: TestProject) {
  const serverUrl = process.env.TEST_DATABASE_URL;
  const throwaway = serverUrl ? await createThrowawayDatabase(serverUrl, "api_test") : undefined;
  const backend = await openBackend({ databaseUrl: throwaway?.url });
  const server = await startNeonLocalServer(backend, { faults: true });
  console.log(`[test database] ${backend.description} via local endpoint on port ${server.port}`);
  project.provide("neonLocalEndpoint", server.url);
  project.provide("neonLocalStats", server.url.replace(/\/sql$/, "/stats"));
  project.provide("databaseBackend", backend.kind);
  return async () => {
    await server.close();
    await throwaway?.drop();
  };
}
