/**
 * One declaration per response: API field name → Drizzle column. From it
 * come both the JSON Postgres builds (`json_build_object`, so the Worker
 * only passes rows through) and the zod schema the OpenAPI document and
 * `hono/client` types use. A renamed or retyped column changes both, and a
 * removed one fails the type check.
 */
import { type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import * as z from "zod";

/** A column read from another alias of the statement (e.g. the mapping `m` beside a doctor). */
export interface FromAlias<C extends AnyPgColumn = AnyPgColumn> {
  alias: string;
  column: C;
}
export const fromAlias = <C extends AnyPgColumn>(alias: string, column: C): FromAlias<C> => ({ alias, column });

type Field = AnyPgColumn | FromAlias;
type ColumnOf<F> = F extends FromAlias<infer C> ? C : F;
/** What JSON carries for a column: timestamps and dates as strings, NULL as null. */
type JsonOf<C extends AnyPgColumn> =
  | (C["_"]["data"] extends Date ? string : C["_"]["data"])
  | (C["_"]["notNull"] extends true ? never : null);
type ShapeOf<F extends Record<string, Field>> = { [K in keyof F]: z.ZodType<JsonOf<ColumnOf<F[K]>>> };

const columnOf = (f: Field): AnyPgColumn => ("alias" in f && "column" in f ? f.column : (f as AnyPgColumn));

function zodFor(column: AnyPgColumn): z.ZodType {
  const base = (() => {
    switch (column.columnType) {
      case "PgUUID":
        return z.uuid();
      case "PgTimestamp":
        return z.iso.datetime();
      case "PgDateString":
        return z.iso.date();
      case "PgInteger":
      case "PgBigInt53":
        return z.number().int();
      case "PgBoolean":
        return z.boolean();
      case "PgArray":
        // Only text[] so far (the audit row's changed fields).
        return z.array(z.string());
      default:
        return column.enumValues?.length ? z.enum(column.enumValues as [string, ...string[]]) : z.string();
    }
  })();
  return column.notNull ? base : base.nullable();
}

/** SQL for `alias.column` as the API writes it: timestamps ISO 8601 in UTC with milliseconds and `Z`, dates `YYYY-MM-DD`. */
export function jsonValue(alias: string, column: AnyPgColumn): SQL {
  const ref = sql`${sql.identifier(alias)}.${sql.identifier(column.name)}`;
  if (column.columnType === "PgTimestamp") return sql`to_char(${ref} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  if (column.columnType === "PgDateString") return sql`to_char(${ref}, 'YYYY-MM-DD')`;
  return ref;
}

/** `json_build_object('key', value, …)`; keys are code constants, values SQL. */
export function jsonObject(entries: [string, SQL][]): SQL {
  return sql`json_build_object(${sql.join(
    entries.map(([key, value]) => {
      if (!/^\w+$/.test(key)) throw new Error(`Invalid JSON key ${key}`);
      return sql`${sql.raw(`'${key}'`)}, ${value}`;
    }),
    sql`, `,
  )})`;
}

export function responseOf<const F extends Record<string, Field>>(fields: F) {
  const shape = Object.fromEntries(Object.entries(fields).map(([key, f]) => [key, zodFor(columnOf(f))])) as ShapeOf<F>;
  return {
    fields,
    /** The response as zod: `z.infer` of it is the body type. */
    schema: z.object(shape),
    /**
     * The response built by Postgres from the row `alias`. `extra` rides along
     * (a `version` for the ETag, say) and is removed before the response.
     */
    /**
     * The row `alias` as the Worker answers it without parsing it: `{id,
     * version, raw}` with `raw` the response's JSON text (src/lib/resource.ts
     * RawResource), `version` the column the ETag is made from.
     */
    raw(alias: string, version: AnyPgColumn): SQL {
      const a = sql.identifier(alias);
      return sql`json_build_object('id', ${a}.id, 'version', ${a}.${sql.identifier(version.name)}, 'raw', ${this.json(alias)}::text)`;
    },
    json(alias: string, extra: Record<string, AnyPgColumn | SQL> = {}): SQL {
      return jsonObject([
        ...Object.entries(fields).map(([key, f]): [string, SQL] =>
          "alias" in f && "column" in f ? [key, jsonValue(f.alias, f.column)] : [key, jsonValue(alias, f as AnyPgColumn)],
        ),
        ...Object.entries(extra).map(([key, v]): [string, SQL] => [
          key,
          "columnType" in v ? jsonValue(alias, v as AnyPgColumn) : (v as SQL),
        ]),
      ]);
    },
  };
}
