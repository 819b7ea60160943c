/**
 * The OpenAPI 3.1 document, built from the registry's routes themselves: the
 * path and method come from the Hono chain, the words and success response
 * from its `describeRoute()`, the body and query schemas from its validators
 * (the same zod schemas that validate requests), and security and error
 * statuses from the middlewares that run (src/lib/route-doc.ts). A route of
 * a documented resource without a description fails the build.
 *
 * Build-time only (scripts/openapi.ts writes public/api/openapi.json): the
 * Worker never imports this file, so none of it is in the bundle.
 */
import * as z from "zod";
import { type RegisteredRoute, type Resource, registeredRoutes } from "./registry";
import { markOf, type RouteDescription, type RouteMark } from "./route-doc";

const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.record(z.string(), z.array(z.string())).optional().meta({ description: "Validation problems, keyed by field or parameter." }),
  })
  .meta({ description: "RFC 9457 problem details." });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid body or query parameters (`errors` names each field), malformed JSON, or a Host not in ALLOWED_HOSTS.",
  401: "Missing, malformed, expired or wrongly signed access token.",
  403: "Not allowed to change this resource.",
  404: "No such resource, or not the caller's.",
  405: "Method not allowed here (see `Allow`).",
  409: "Conflicts with the current state, or (with an Idempotency-Key) a request with the same key is still being processed: retry it.",
  410: "The sync cursor is older than deletions are remembered (SYNC_TOMBSTONE_DAYS): sync again from the start, without `since`.",
  412: "The If-Match ETag is stale; nothing changed.",
  413: "Body over 64 KiB.",
  415: "Body not sent as application/json.",
  422: "The Idempotency-Key was already used with a different request (method, path or body); nothing was done.",
  429: "Too many failed logins for this email (see `Retry-After`).",
  500: "Unexpected error, or the server is misconfigured; quote the X-Request-Id.",
  503: "Database unavailable (see `Retry-After`); nothing was written.",
};

const HEADERS: Record<string, { description: string; schema: object }> = {
  ETag: { description: "Strong entity tag of the returned representation.", schema: { type: "string" } },
  Location: { description: "Absolute URL of the created resource.", schema: { type: "string", format: "uri" } },
  "Idempotent-Replayed": {
    description: "`true` when this answer replays an earlier request with the same Idempotency-Key (nothing was done again).",
    schema: { type: "string", enum: ["true"] },
  },
};

const IDEMPOTENCY_KEY_PARAMETER = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  schema: { type: "string", minLength: 1, maxLength: 255, pattern: "^[\\x21-\\x7E]+$" },
  description:
    "A key of your choosing (1–255 visible ASCII characters; a UUID is ideal), one per user action, sent again on every retry of that action. " +
    "A retry with the same key and request runs nothing again: it answers the original status with the resource as it is now and `Idempotent-Replayed: true`. " +
    "Keys are per user and kept at least 24 hours.",
};

type Json = Record<string, unknown>;

/**
 * `anyOf: [{type: T, …}, {type: "null"}]` (zod's form of a nullable) →
 * `{type: [T, "null"], …}`: the form Swift and Kotlin generators turn into an
 * optional property instead of a one-of wrapper type. `$ref`s to the shared
 * schemas move from `#/$defs/` to `#/components/schemas/`.
 */
function generatorFriendly(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(generatorFriendly);
  if (typeof node !== "object" || node === null) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === "$ref" && typeof v === "string" ? v.replace("#/$defs/", "#/components/schemas/") : generatorFriendly(v);
  }
  const anyOf = out.anyOf as Json[] | undefined;
  if (anyOf?.length === 2) {
    const nullIndex = anyOf.findIndex((s) => s.type === "null" && Object.keys(s).length === 1);
    const other = anyOf[1 - nullIndex];
    if (nullIndex >= 0 && typeof other.type === "string") {
      const { anyOf: _, ...rest } = out;
      return { ...rest, ...other, type: [other.type, "null"] };
    }
  }
  return out;
}

/** The shared, named schemas (those with a zod `id`), collected while converting. */
type Components = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output", components: Components): Json {
  const {
    $defs,
    $schema: _,
    ...rest
  } = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Json & {
    $defs?: Record<string, unknown>;
  };
  for (const [name, def] of Object.entries($defs ?? {})) components[name] = generatorFriendly(def);
  // A named schema at the top comes back inline (with its id) or as a $ref to its $def: refer to it either way.
  const id = z.globalRegistry.get(schema)?.id;
  if (id && !("$ref" in rest)) {
    const { id: _id, ...inline } = rest;
    components[id] = generatorFriendly(inline);
  }
  return (id ? { $ref: `#/components/schemas/${id}` } : generatorFriendly(rest)) as Json;
}

/** `/api/patients/:id` → `/api/patients/{id}/` (every route also answers without the slash). */
export const openApiPath = (honoPath: string) => `${honoPath.replace(/:(\w+)/g, "{$1}").replace(/\/$/, "")}/`;

/** What the route's chain says about it, merged in chain order. */
function routeMarks(route: RegisteredRoute): RouteMark & { description: RouteDescription } {
  const merged: RouteMark = {};
  for (const handler of route.handlers) Object.assign(merged, markOf(handler));
  if (!merged.description) throw new Error(`${route.method} ${route.path} has no describeRoute(): every documented route needs one.`);
  return merged as RouteMark & { description: RouteDescription };
}

function operation(route: RegisteredRoute, components: Components) {
  const mark = routeMarks(route);
  const doc = mark.description;
  const pathParams = [...route.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
  const statuses = new Set<number>(doc.errors ?? []);
  if (mark.auth) statuses.add(401);
  if (mark.body) for (const s of [400, 413, 415]) statuses.add(s);
  if (mark.query) statuses.add(400);
  if (pathParams.length > 0) statuses.add(404);
  if (doc.ifMatch) statuses.add(412);
  if (mark.database) statuses.add(503);
  if (mark.idempotent) for (const s of [400, 409, 422]) statuses.add(s);

  const query = mark.query as z.ZodObject | undefined;
  const parameters = [
    ...pathParams.map((name) => ({ name, in: "path", required: true, schema: { type: "string", format: "uuid" } })),
    ...Object.entries(query?.shape ?? {}).flatMap(([name, schema]) => {
      const s = jsonSchema(schema as z.ZodType, "input", components);
      // A parameter the API refuses (z.undefined) has nothing to document.
      if (Object.keys(s).length <= 1 && !("type" in s)) return [];
      return [{ name, in: "query", required: false, schema: s }];
    }),
    ...(mark.idempotent ? [IDEMPOTENCY_KEY_PARAMETER] : []),
    ...(doc.conditionalGet ? [{ name: "If-None-Match", in: "header", required: false, schema: { type: "string" } }] : []),
    ...(doc.ifMatch
      ? [
          {
            name: "If-Match",
            in: "header",
            required: false,
            schema: { type: "string" },
            description: "Write only if the ETag still matches (or `*`).",
          },
        ]
      : []),
  ];

  const success: Json = { description: doc.success.description };
  if (doc.success.schema) success.content = { "application/json": { schema: jsonSchema(doc.success.schema, "output", components) } };
  const headers = [...(doc.success.headers ?? []), ...(mark.idempotent ? ["Idempotent-Replayed"] : [])];
  if (headers.length > 0) success.headers = Object.fromEntries(headers.map((h) => [h, HEADERS[h]]));

  const responses: Json = { [doc.success.status]: success };
  if (doc.conditionalGet)
    responses[304] = { description: "Not modified: the If-None-Match ETag is current.", headers: { ETag: HEADERS.ETag } };
  for (const status of [...statuses].sort()) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status],
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    };
  }

  return {
    tags: [route.resource.tag?.name],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    operationId: doc.operationId,
    ...(mark.auth ? {} : { security: [] }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(mark.body
      ? {
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: jsonSchema(mark.body, "input", components),
                ...(doc.bodyExample === undefined ? {} : { example: doc.bodyExample }),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

export function buildOpenApiDocument(resources: readonly Resource[]) {
  const components: Components = { Problem: jsonSchema(problemSchema, "output", {}) };
  const paths: Record<string, Record<string, unknown>> = {};
  const operationIds = new Set<string>();
  for (const route of registeredRoutes(resources.filter((r) => r.tag))) {
    const op = operation(route, components);
    if (operationIds.has(op.operationId)) throw new Error(`operationId ${op.operationId} is used twice.`);
    operationIds.add(op.operationId);
    const path = openApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Edge Health API",
      version: "1.0.0",
      description:
        "Patients (private to their owner), a shared directory of doctors, and assignments between them. " +
        "Every route answers with and without a trailing slash. Errors are RFC 9457 problems. " +
        "Lists take `limit` (1–100, default 20) and `offset`, or instead an opaque `cursor` (`cursor=` for the first page; the links then carry cursors); unknown query parameters are ignored.",
    },
    servers: [{ url: "/" }],
    tags: resources.flatMap((r) => (r.tag ? [r.tag] : [])),
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
    },
    paths,
  };
}
