/**
 * Runs in Node before the suite: starts the local Neon endpoint on a fresh
 * database and hands its URL to the Workers pool. PGlite in memory by
 * default; with TEST_DATABASE_URL=postgres://… (a server, not a database to
 * reuse) a throwaway database is created on that server and dropped after.
 */
import { mkdirSync, writeFileSync } from "node:fs";
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
  const version = String((await backend.query({ query: "SELECT version()", params: [] })).rows[0][0]);
  console.log(`[test database] ${backend.description} via local endpoint on port ${server.port}: ${version}`);
  // Which database this run used, for .ci/run to check that each pass ran where it says.
  mkdirSync("artifacts", { recursive: true });
  writeFileSync("artifacts/test-backend.json", `${JSON.stringify({ kind: backend.kind, version })}\n`);
  project.provide("neonLocalEndpoint", server.url);
  project.provide("neonLocalStats", server.url.replace(/\/sql$/, "/stats"));
  project.provide("databaseBackend", backend.kind);
  return async () => {
    await server.close();
    await throwaway?.drop();
  };
}
