/**
 * The list rules of docs/BEHAVIOUR.md: `limit` 1..100 (default 20), `offset`
 * ≥ 0, one `ordering` field from an allow-list (`-` for descending),
 * `search` matched literally and case-insensitively, and the envelope
 * `{count, next, previous, results}` with absolute links that keep the
 * other query parameters.
 */
import type { Context } from "hono";
import * as z from "zod";
import { codePoints, storable } from "./fields";

/** A whole-number query parameter in [min, max], `fallback` when absent. */
export const integer = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be an integer.`)
    .transform(Number)
    .pipe(z.number().int().min(min, `${name} must be at least ${min}.`).max(max, `${name} must be at most ${max}.`))
    .default(fallback);

export const pageParams = {
  limit: integer("limit", 1, 100, 20),
  offset: integer("offset", 0, 1_000_000_000, 0),
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

/** A list query as the queries take it: the page, the `search` text (matched by matchesSearch), the ordering. */
export interface ListQuery<F extends string> {
  limit: number;
  offset: number;
  search?: string;
  ordering?: { field: F; descending: boolean };
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

export function envelope<T>(c: Context, page: { limit: number; offset: number }, count: number, results: T[]): Page<T> {
  const link = (offset: number) => {
    const url = new URL(c.req.url);
    url.searchParams.set("limit", String(page.limit));
    url.searchParams.set("offset", String(offset));
    return url.toString();
  };
  return {
    count,
    next: page.offset + page.limit < count ? link(page.offset + page.limit) : null,
    previous: page.offset > 0 ? link(Math.max(0, page.offset - page.limit)) : null,
    results,
  };
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
