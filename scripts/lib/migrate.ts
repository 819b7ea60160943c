/**
 * Applies the drizzle-kit migrations in drizzle/ with Drizzle's own
 * migrators, so PGlite, a local PostgreSQL and Neon all record them in the
 * same drizzle.__drizzle_migrations table; then gives every table the schema
 * marks rowCounted() its row_counts triggers, and every table it marks
 * synced() its sync feed triggers (no-ops where they exist).
 */
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import { getTableName } from "drizzle-orm";
import { drizzle as drizzleNodePostgres } from "drizzle-orm/node-postgres";
import { migrate as migrateNodePostgres } from "drizzle-orm/node-postgres/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { ROW_COUNTED_TABLES, SYNCED_TABLES } from "../../src/db/schema.ts";

/** One `row_counts_track` call per counted table (drizzle/0006) and one `sync_track` per synced table (drizzle/0009): each is its own transaction. */
async function trackMarkedTables(query: (text: string, params: string[]) => Promise<unknown>) {
  for (const { table, scope } of ROW_COUNTED_TABLES) {
    await query("SELECT row_counts_track($1::regclass, $2)", [getTableName(table), scope]);
  }
  // The sync feed's stamp and tombstone triggers (drizzle/0009).
  for (const { table, type, scope } of SYNCED_TABLES) {
    await query("SELECT sync_track($1::regclass, $2, $3)", [getTableName(table), type, scope]);
  }
}

export const migrationsFolder = fileURLToPath(new URL("../../drizzle", import.meta.url));

export type MigrationTarget = { kind: "pglite"; db: PGlite } | { kind: "postgres"; connectionString: string };

export async function applyMigrations(target: MigrationTarget): Promise<void> {
  if (target.kind === "pglite") {
    await migratePglite(drizzlePglite(target.db), { migrationsFolder });
    await trackMarkedTables((text, params) => target.db.query(text, params));
    return;
  }
  const client = new pg.Client({ connectionString: target.connectionString, options: "-c TimeZone=UTC" });
  await client.connect();
  try {
    // Migration notices ("schema drizzle already exists, skipping") are noise here.
    client.on("notice", () => {});
    await migrateNodePostgres(drizzleNodePostgres(client), { migrationsFolder });
    await trackMarkedTables((text, params) => client.query(text, params));
  } finally {
    await client.end();
  }
}

/**
 * Creates an empty database with a unique name on the server that
 * `serverUrl` reaches, so a test or benchmark run never touches existing data.
 */
export async function createThrowawayDatabase(serverUrl: string, prefix: string) {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
