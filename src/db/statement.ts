/**
 * Statements compiled once per shape and isolate, not per request
 * (docs/BENCHMARKS.md: building a statement with Drizzle's `sql` was a
 * fifth of a single-patient read's Worker CPU).
 *
 * A query function hands `runStatement` its values and a builder. The first
 * request of a shape calls the builder with stand-ins (a marker string per
 * value) and compiles it; every later request of that shape only puts its
 * own values in the compiled parameter list and sends the SQL text as it is.
 * The shape is the statement's name, its `fixed` inputs (those that choose
 * columns or clauses: an ordering, which fields a PATCH sent) and which
 * values are undefined or null. A value the builder transforms in JS (a
 * pattern built from a search text, arithmetic) cannot be a stand-in: the
 * compiler refuses it, so it must be computed in SQL or be `fixed`.
 *
 * With `STATEMENT_CHECK` set (the test suite sets it), every request also
 * builds its statement the ordinary way and fails loudly if the text or the
 * parameters differ from the cached shape's: every test then checks that
 * the shapes are keyed right.
 */
import type { SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { Db } from "./client";

/** A value a statement takes as a parameter: leaves are strings, numbers, booleans, null or undefined. */
type Leaf = string | number | boolean | null | undefined;
export type StatementValues = { [key: string]: Leaf | StatementValues };

interface Compiled {
  text: string;
  /** Per parameter: the path (keys) of the value that fills it, or the constant the builder wrote. */
  params: ({ path: string[] } | { constant: unknown })[];
}

const dialect = new PgDialect();
const compiled = new Map<string, Compiled>();
const MARK = "\u0001stmt:";
const END = "\u0001";

/** `values` with every defined, non-null leaf replaced by a marker naming its path. */
function standIns(values: StatementValues, prefix = ""): StatementValues {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => {
      const path = `${prefix}${key}`;
      if (value !== null && typeof value === "object") return [key, standIns(value, `${path}.`)];
      return [key, value === undefined || value === null ? value : `${MARK}${path}${END}`];
    }),
  );
}

/** Which leaves are undefined or null: part of the shape. */
function absences(values: StatementValues, prefix = ""): string {
  return Object.entries(values)
    .map(([key, value]) =>
      value !== null && typeof value === "object"
        ? absences(value, `${prefix}${key}.`)
        : value === undefined
          ? `${prefix}${key}=u`
          : value === null
            ? `${prefix}${key}=n`
            : "",
    )
    .filter(Boolean)
    .join(",");
}

function valueAt(values: StatementValues, path: string[]): unknown {
  let at: unknown = values;
  for (const key of path) at = (at as StatementValues)[key];
  return at;
}

function compile<V extends StatementValues>(name: string, values: V, build: (values: V) => SQL): Compiled {
  const query = dialect.sqlToQuery(build(standIns(values) as V));
  return {
    text: query.sql,
    params: query.params.map((param) => {
      if (typeof param === "string" && param.includes(MARK)) {
        const path = param.startsWith(MARK) && param.endsWith(END) ? param.slice(MARK.length, -END.length) : undefined;
        if (path === undefined || path.includes(END)) {
          throw new Error(`Statement ${name}: a value is transformed in JS (${JSON.stringify(param)}); compute it in SQL or make it fixed`);
        }
        return { path: path.split(".") };
      }
      return { constant: param };
    }),
  };
}

/**
 * Runs the statement `name` with `values`; `fixed` (JSON-serialisable)
 * chooses among its shapes and is passed to the builder as is. An audited
 * read says so (`auditRead`): READ_AUDIT_COMMIT applies to it (src/db/client.ts).
 */
export async function runStatement<R extends Record<string, unknown>, V extends StatementValues, F = undefined>(
  db: Db,
  name: string,
  values: V,
  build: (values: V, fixed: F) => SQL,
  fixed?: F,
  options: { auditRead?: boolean } = {},
): Promise<{ rows: R[] }> {
  const key = `${name}|${fixed === undefined ? "" : JSON.stringify(fixed)}|${absences(values)}`;
  let statement = compiled.get(key);
  if (!statement) {
    statement = compile(name, values, (v) => build(v, fixed as F));
    compiled.set(key, statement);
  }
  const params = statement.params.map((p) => ("path" in p ? valueAt(values, p.path) : p.constant));
  if (db.checkStatements) {
    const fresh = dialect.sqlToQuery(build(values, fixed as F));
    if (fresh.sql !== statement.text || JSON.stringify(fresh.params) !== JSON.stringify(params)) {
      throw new Error(`Statement ${name}: the cached shape ${key} does not match this request's statement`);
    }
  }
  return (await db.query(statement.text, params, options)) as { rows: R[] };
}

/** How many shapes this isolate has compiled (for tests of the cache itself). */
export const compiledShapes = () => compiled.size;
