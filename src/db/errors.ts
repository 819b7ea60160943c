/**
 * What a failed database call means for the client. Drizzle wraps the
 * driver's NeonDbError (SQLSTATE in `code`, constraint name in `constraint`);
 * an error with no SQLSTATE never reached Postgres (network, timeout, Neon
 * itself) and is the database being unavailable.
 */
import { is } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import * as schema from "./schema";

/**
 * Every foreign key to `users`, by the name Drizzle gave it: no route deletes
 * users, so violating one means a valid token's user no longer exists (the
 * error handler answers 401). Derived from the tables, so a new table that
 * references users is covered without naming its constraint anywhere.
 */
export const USER_FOREIGN_KEYS: ReadonlySet<string> = new Set(
  Object.values(schema as Record<string, unknown>)
    .filter((t): t is PgTable => is(t, PgTable))
    .flatMap((t) => getTableConfig(t).foreignKeys)
    .filter((fk) => fk.reference().foreignTable === schema.users)
    .map((fk) => fk.getName()),
);

export interface DbErrorInfo {
  /** SQLSTATE, when Postgres answered. */
  code?: string;
  constraint?: string;
  unavailable: boolean;
}

// Postgres-side conditions a retry can cure: connection failures (08), a
// transaction rolled back as a deadlock victim or serialization failure (40:
// nothing of it was written), too many connections / out of resources (53),
// shutdown and cancellation (57).
const TRANSIENT_SQLSTATE = /^(08|40|53|57)/;

function neonError(error: unknown): { code?: unknown; constraint?: unknown } | undefined {
  for (let e = error as { name?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.name === "NeonDbError") return e as { code?: unknown; constraint?: unknown };
  }
  return undefined;
}

export function classifyDbError(error: unknown): DbErrorInfo | undefined {
  const e = neonError(error);
  if (!e) return undefined;
  const code = typeof e.code === "string" ? e.code : undefined;
  const constraint = typeof e.constraint === "string" ? e.constraint : undefined;
  return { code, constraint, unavailable: code === undefined || TRANSIENT_SQLSTATE.test(code) };
}
