/**
 * Request validation with zod through @hono/zod-validator, in the order and
 * shape docs/BEHAVIOUR.md asks: a body that is not application/json → 415, then
 * malformed JSON → 400 (Hono's parser), then schema failures → 400 with
 * `errors` keyed by field. Unknown and read-only fields are reported under
 * their own names (mass-assignment protection).
 */
import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import * as z from "zod";
import { type FieldErrors, problem } from "./problem";
import { marked } from "./route-doc";

/** Fields the server owns; naming them in a body is a 400 that says so. */
const READ_ONLY_FIELDS = new Set(["id", "owner_id", "created_by", "created_at", "updated_at", "is_admin"]);

export function isJsonMediaType(contentType: string | undefined): boolean {
  return contentType?.split(";")[0].trim().toLowerCase() === "application/json";
}

export function fieldErrors(error: z.core.$ZodError, rootKey: string): FieldErrors {
  // No prototype: a field literally named "__proto__" must be an ordinary key here.
  const errors: FieldErrors = Object.create(null);
  const add = (key: string, message: string) => {
    errors[key] ??= [];
    errors[key].push(message);
  };
  for (const issue of error.issues) {
    const path = issue.path.map(String).join(".");
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        const name = path ? `${path}.${key}` : key;
        add(name, READ_ONLY_FIELDS.has(key) ? "This field is read-only." : "Unknown field.");
      }
    } else {
      add(path || rootKey, issue.message);
    }
  }
  return errors;
}

/** Validates a JSON body against `schema` (use strict objects: unknown keys are errors). */
export const jsonBody = <T extends z.ZodType>(schema: T) => {
  const validate = zValidator("json", schema, (result) => {
    if (!result.success) {
      throw problem(400, "The request body is invalid.", { errors: fieldErrors(result.error, "body") });
    }
  });
  // 415 before anything reads the body: Hono's validator would parse `application/*+json` too.
  const guarded: typeof validate = async (c, next) => {
    if (!isJsonMediaType(c.req.header("Content-Type"))) throw problem(415, "The request body must be sent as application/json.");
    return validate(c, next);
  };
  return marked(guarded, { body: schema });
};

/** The 400 of a query that breaks its rules, with `errors` keyed by parameter. */
export const invalidQuery = (errors: FieldErrors) => problem(400, "The query parameters are invalid.", { errors });

/**
 * Validates query parameters; failures are 400 with `errors` keyed by
 * parameter. `alsoWrong` adds errors that no single parameter's schema can
 * see (parameters that exclude each other), reported with the others.
 */
export const queryParams = <T extends z.ZodType>(schema: T, alsoWrong?: (c: Context) => FieldErrors | undefined) =>
  marked(
    zValidator("query", schema, (result, c) => {
      const errors: FieldErrors = result.success ? Object.create(null) : fieldErrors(result.error, "query");
      for (const [name, messages] of Object.entries(alsoWrong?.(c) ?? {})) errors[name] = [...(errors[name] ?? []), ...messages];
      if (Object.keys(errors).length > 0) throw invalidQuery(errors);
    }),
    { query: schema },
  );

/** Any UUID Postgres accepts, in its canonical 8-4-4-4-12 form. */
export const uuidString = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "Must be a UUID.");

/**
 * The `:id` path parameter. An id that is not a UUID names nothing, so it is
 * the same 404 as an unknown id (docs/BEHAVIOUR.md), never a 400 or a 500.
 */
export const idParam = (notFoundDetail: string) =>
  zValidator("param", z.object({ id: uuidString }), (result) => {
    if (!result.success) throw problem(404, notFoundDetail);
  });
