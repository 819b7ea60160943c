/**
 * The list rules of docs/BEHAVIOUR.md: `limit` 1..100 (default 20), `offset`
 * ≥ 0 or an opaque `cursor`, one `ordering` field from an allow-list (`-`
 * for descending), `search` matched literally and case-insensitively, and
 * the envelope `{count, next, previous, results}` with absolute links that
 * keep the other query parameters.
 *
 * Cursors: base64url of a small JSON (version, the scope they were made for,
 * direction, and the boundary row's ordering value and id). They are not
 * secrets and carry no signature: every statement is scoped to the caller
 * (their own patients, say), so a tampered cursor only moves the page within
 * a list the caller may read anyway; its value is checked against the
 * ordering column's type before any SQL runs, so it is a 400, never a 500.
 */
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Context, Env, MiddlewareHandler } from "hono";
import * as z from "zod";
import { decodeOpaque, encodeOpaque } from "./cursor";
import { codePoints, storable } from "./fields";
import { marked } from "./route-doc";
import { invalidQuery, queryParams } from "./validation";

/** A whole-number query parameter in [min, max], `fallback` when absent. */
export const integer = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be an integer.`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be at least ${min}.`).max(max, `${name} must be at most ${max}.`))
    .default(fallback);

const CURSOR_VERSION = 1;
const MALFORMED_CURSOR = "cursor is not a cursor this list gave out.";
const FOREIGN_CURSOR = "cursor was made for another list, ordering or filter.";
const MIXED_CURSOR = "offset cannot be combined with cursor: follow the cursor links, or page by offset alone.";

/** A cursor as it arrived: for a scope, to be compared with the request's own. */
export type DecodedCursor = Cursor & { scope: string };

/** A cursor's JSON, in short keys (it travels in URLs): v version, s scope, d n|p, and the boundary row's k value and i id, or neither. */
const CURSOR_KEYS = new Set(["v", "s", "d", "k", "i"]);
const SCOPE = /^[0-9a-z]{1,16}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Checked by hand, not by a zod schema: this runs on every cursor page, and a hand check costs a fraction. */
function cursorOf(j: unknown): DecodedCursor | undefined {
  if (typeof j !== "object" || j === null || Array.isArray(j) || !Object.keys(j).every((key) => CURSOR_KEYS.has(key))) return undefined;
  const { v, s, d, k, i } = j as Record<string, unknown>;
  if (v !== CURSOR_VERSION || typeof s !== "string" || !SCOPE.test(s) || (d !== "n" && d !== "p")) return undefined;
  const direction = d === "n" ? "next" : "previous";
  if (k === undefined && i === undefined) return { scope: s, direction };
  if (typeof i !== "string" || !UUID.test(i)) return undefined;
  if (k !== null && (typeof k !== "string" || k.length > 4000 || !storable(k))) return undefined;
  return { scope: s, direction, from: { key: k, id: i.toLowerCase() } };
}

const decodeCursor = (text: string): DecodedCursor | undefined => cursorOf(decodeOpaque(text));

export function encodeCursor(scope: string, cursor: Cursor): string {
  return encodeOpaque({
    v: CURSOR_VERSION,
    s: scope,
    d: cursor.direction === "next" ? "n" : "p",
    ...(cursor.from ? { k: cursor.from.key, i: cursor.from.id } : {}),
  });
}

/** `cursor=` (empty) asks for the first page in cursor mode; anything else must be a cursor this API made. */
const cursorParam = z
  .string()
  .max(2048, MALFORMED_CURSOR)
  .transform((text, ctx): DecodedCursor | { first: true } => {
    if (text === "") return { first: true };
    const cursor = decodeCursor(text);
    if (cursor) return cursor;
    ctx.addIssue({ code: "custom", message: MALFORMED_CURSOR });
    return z.NEVER;
  })
  .optional()
  .meta({
    description:
      "Instead of `offset`: an opaque cursor from a previous page's `next` or `previous`; empty for the first page. The links then carry cursors.",
  });

export const pageParams = {
  limit: integer("limit", 1, 100, 20),
  offset: integer("offset", 0, 1_000_000_000, 0),
  cursor: cursorParam,
};

/** `ordering=field` or `-field`, from `fields` only. */
export function orderingParam<const F extends readonly [string, ...string[]]>(fields: F) {
  const allowed = [...fields, ...fields.map((f) => `-${f}`)];
  return z
    .string()
    .refine((v) => allowed.includes(v), `ordering must be one of: ${allowed.join(", ")}.`)
    .transform((v) => ({ field: v.replace(/^-/, "") as F[number], descending: v.startsWith("-") }))
    .optional();
}

/**
 * A text query parameter: no U+0000, at most `max` characters, trimmed like
 * every string (docs/BEHAVIOUR.md, general rules); blank means absent.
 */
export const textParam = (name: string, max: number) =>
  z
    .string()
    .refine((s) => codePoints(s) <= max, `${name} must be at most ${max} characters.`)
    .refine(storable, `${name} must not contain U+0000 or unpaired surrogates.`)
    .transform((s) => s.trim() || undefined)
    .optional();

/** Free-text search: `%`, `_` and `\` match only themselves (see containsPattern), case-insensitively. */
export const searchParam = textParam("search", 200);

/** A LIKE pattern that matches `text` literally anywhere (with ESCAPE '\'). */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * A list's orderings: the column behind each `ordering` field, and the order
 * without one. Every order ends with `id` in the same direction (docs/BEHAVIOUR.md).
 */
export interface Orderings<F extends string = string> {
  columns: Record<F, AnyPgColumn>;
  fallback: { field: F; descending: boolean };
}
export const orderings = <F extends string>(columns: Record<F, AnyPgColumn>, fallback: NoInfer<F> | `-${NoInfer<F>}`): Orderings<F> => ({
  columns,
  fallback: { field: fallback.replace(/^-/, "") as F, descending: fallback.startsWith("-") },
});

/** The order a request gets: its `ordering`, or the list's fallback. */
export interface ListOrder {
  field: string;
  column: AnyPgColumn;
  descending: boolean;
}

/**
 * Where a cursor page starts: after (`next`) or before (`previous`) the row
 * `from`, in the list's order; without `from`, at the start (`next`: the
 * first page, what `cursor=` asks for) or at the end (`previous`: the last page).
 */
export interface Cursor {
  direction: "next" | "previous";
  /** The boundary row: its ordering value as Postgres printed it (keyText), and its id. */
  from?: { key: string | null; id: string };
}

/** The page a request asks for: by offset (no `cursor`), or from a cursor made for this list, order and filters (`scope`). */
export type PageRequest =
  | { mode: "offset"; limit: number; offset: number }
  | { mode: "cursor"; limit: number; cursor: Cursor; scope: string };

/** What listParams() adds to the validated query, for the list's statement (listPage) and its envelope. */
export interface ListRequest {
  order: ListOrder;
  page: PageRequest;
}

/** A list statement's answer (src/db/fragments.ts, listPage): the page, and in cursor mode its boundaries. */
export type ListRows<T> = {
  count: number;
  /** The results' JSON array as Postgres wrote it: answered as it is, never parsed in the Worker. */
  results: string;
  /** Type only: what `results` holds. */
  shape?: T;
  /** Cursor mode: whether rows follow the page in the direction it was read. */
  more?: boolean;
  /** Cursor mode: [ordering value as text, id] of the first and last row shown (null when none). */
  first?: [string | null, string] | null;
  last?: [string | null, string] | null;
};

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/** `{count, next, previous}`: links by offset, or by cursor when the request came with one; `empty`: the page has no row. */
function links(c: Context, q: ListRequest, rows: Omit<ListRows<unknown>, "results">, empty: boolean) {
  const { page } = q;
  const url = new URL(c.req.url);
  url.searchParams.set("limit", String(page.limit));
  const link = (name: "offset" | "cursor", value: string) => {
    url.searchParams.set(name, value);
    return url.toString();
  };
  const { count } = rows;
  if (page.mode === "offset") {
    return {
      count,
      next: page.offset + page.limit < count ? link("offset", String(page.offset + page.limit)) : null,
      previous: page.offset > 0 ? link("offset", String(Math.max(0, page.offset - page.limit))) : null,
    };
  }
  const at = (direction: Cursor["direction"], row?: [string | null, string] | null) =>
    link("cursor", encodeCursor(page.scope, { direction, from: row ? { key: row[0], id: row[1] } : undefined }));
  const { direction, from } = page.cursor;
  const more = rows.more === true;
  // An empty page after (before) a boundary: what lies before (after) it is the last (first) page.
  const back = from === undefined ? null : empty ? at("previous") : at("previous", rows.first);
  const forward = from === undefined ? null : empty ? link("cursor", "") : at("next", rows.last);
  return direction === "next"
    ? { count, next: more ? at("next", rows.last) : null, previous: back }
    : { count, next: forward, previous: more ? at("previous", rows.first) : null };
}

/**
 * The list's answer, `{count, next, previous, results}`, with the results'
 * JSON text from Postgres spliced in as it is; typed as c.json's answer of
 * a Page<T>, so hono/client still knows the body's shape.
 */
export function listAnswer<T>(c: Context, q: ListRequest, rows: ListRows<T>) {
  const head = JSON.stringify(links(c, q, rows, rows.results === "[]"));
  return c.body(`${head.slice(0, -1)},"results":${rows.results}}`, 200, { "Content-Type": "application/json" }) as unknown as ReturnType<
    typeof c.json<Page<T>>
  >;
}

/** The list envelope's schema around `item`; `id` names it in the OpenAPI document. */
export const pageOf = <T extends z.ZodType>(item: T, id?: string) => {
  const page = z.object({
    count: z.number().int().meta({ description: "Total matching the filters, not the page size." }),
    next: z.url().nullable(),
    previous: z.url().nullable(),
    results: z.array(item),
  });
  return id ? page.meta({ id }) : page;
};

/** A short, stable hash (cyrb53, base 36): tells scopes apart; it guards against mistakes, not tampering. */
function shortHash(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

/** The parameters that choose the page rather than the list. */
const PAGING = new Set(["limit", "offset", "cursor", "ordering"]);

/** What a cursor is good for: this path (with its id), this order, these filter and search values. */
function scopeOf(c: Context, query: Record<string, unknown>, order: ListOrder): string {
  const path = c.req.path.toLowerCase().replace(/\/+$/, "");
  const filters = Object.entries(query)
    .filter(([name, value]) => !PAGING.has(name) && value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return shortHash(JSON.stringify([path, order.field, order.descending, filters]));
}

/** The ordering values keyText (src/db/fragments.ts) prints: timestamps in UTC to the microsecond, dates. */
const TIMESTAMP_KEY = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const DATE_KEY = /^\d{4}-\d\d-\d\d$/;
const realInstant = (iso: string) => {
  const date = new Date(iso);
  return !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && date.toISOString() === iso;
};

/** Whether `key` can stand for a value of `column`: Postgres must be able to read it back (a 400 here, never its 500). */
function keyFits(column: AnyPgColumn, key: string | null): boolean {
  if (key === null) return !column.notNull;
  switch (column.columnType) {
    case "PgTimestamp":
      return TIMESTAMP_KEY.test(key) && realInstant(`${key.slice(0, 23)}Z`);
    case "PgDateString":
      return DATE_KEY.test(key) && realInstant(`${key}T00:00:00.000Z`);
    case "PgText":
      return codePoints(key) <= 1000;
    default:
      throw new Error(`No cursor keys for a ${column.columnType} column (${column.name})`);
  }
}

type PagingQuery = {
  limit: number;
  offset: number;
  cursor?: DecodedCursor | { first: true };
  ordering?: { field: string; descending: boolean };
};

/** The order and page a validated list query asks for; a cursor of another scope, or whose value cannot be one, is a 400. */
function listRequest(c: Context, query: PagingQuery, lists: Orderings): ListRequest {
  const { field, descending } = query.ordering ?? lists.fallback;
  const order = { field, descending, column: lists.columns[field] };
  const { limit, cursor } = query;
  if (cursor === undefined) return { order, page: { mode: "offset", limit, offset: query.offset } };
  const scope = scopeOf(c, query, order);
  if ("first" in cursor) return { order, page: { mode: "cursor", limit, cursor: { direction: "next" }, scope } };
  if (cursor.scope !== scope) throw invalidQuery({ cursor: [FOREIGN_CURSOR] });
  if (cursor.from && !keyFits(order.column, cursor.from.key)) throw invalidQuery({ cursor: [MALFORMED_CURSOR] });
  return { order, page: { mode: "cursor", limit, cursor: { direction: cursor.direction, from: cursor.from }, scope } };
}

type IoOf<M> = M extends MiddlewareHandler<infer _E, infer _P, infer I> ? I : never;
type Planned<I> = I extends { in: infer In; out: { query: infer Out } } ? { in: In; out: { query: Out & ListRequest } } : never;

/**
 * A list's query validator: queryParams(schema), then `order` and `page`
 * (ListRequest) added to the validated query. `cursor` with `offset` is a
 * 400 naming offset; a cursor made for another list, order or filter is a
 * 400 naming cursor — all before the database.
 */
export function listParams<T extends z.ZodType>(schema: T, lists: Orderings) {
  const validate = queryParams(schema, (c) =>
    c.req.query("cursor") !== undefined && c.req.query("offset") !== undefined ? { offset: [MIXED_CURSOR] } : undefined,
  );
  const planned: MiddlewareHandler = (c, next) =>
    validate(c, async () => {
      const query = (c.req.valid as (target: "query") => PagingQuery)("query");
      c.req.addValidatedData("query", { ...query, ...listRequest(c, query, lists) });
      await next();
    });
  return marked(planned, { query: schema }) as unknown as MiddlewareHandler<Env, string, Planned<IoOf<typeof validate>>>;
}
