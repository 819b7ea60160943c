/**
 * `npm run db:migrate`: applies drizzle/ to the PostgreSQL database that
 * DATABASE_URL names (Neon in production: use its direct, non-pooled
 * connection string). Safe to run again: applied migrations are skipped.
 */
import { applyMigrations } from "./lib/migrate.ts";

const connectionString = process.env.DATABASE_URL;
if (!connectionString || !/^postgres(ql)?:\/\//.test(connectionString)) {
  console.error("db:migrate: set DATABASE_URL to a postgres:// connection string");
  process.exit(1);
}
const { hostname, pathname } = new URL(connectionString);
await applyMigrations({ kind: "postgres", connectionString });
console.log(`db:migrate: ${hostname}${pathname} is up to date with drizzle/`);
