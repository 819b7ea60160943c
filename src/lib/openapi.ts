/**
 * The OpenAPI 3.1 document, built from the same zod schemas that validate
 * requests (zod's own JSON Schema output): each router lists its operations
 * as `RouteDoc`s beside its handlers, and a test fails when a route of the
 * app has none.
 */
import * as z from "zod";

type Method = "get" | "post" | "put" | "patch" | "delete";

export interface RouteDoc {
  method: Method;
  /** The Hono path, e.g. `/api/patients/:id` (documented as `/api/patients/{id}/`). */
  path: string;
  tag: "auth" | "patients" | "doctors" | "mappings" | "audit" | "health";
  summary: string;
  description?: string;
  /** Needs a bearer access token (default true). */
  auth?: boolean;
  query?: z.ZodObject;
  body?: z.ZodType;
  bodyExample?: unknown;
  /** The success status and its body (none for 204). */
  success: { status: 200 | 201 | 204 | 304; description: string; schema?: z.ZodType; headers?: string[] };
  /** Statuses beyond those implied by auth, body, query, path id and database (401, 400, 413, 415, 404, 503). */
  errors?: number[];
  /** Touches the database (so 503 when it is down; default true). */
  database?: boolean;
  /** GET of one resource: answers 304 to If-None-Match. */
  conditionalGet?: boolean;
  /** PUT/PATCH/DELETE that honours If-Match (412). */
  ifMatch?: boolean;
}

const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    errors: z.record(z.string(), z.array(z.string())).optional().meta({ description: "Validation problems, keyed by field or parameter." }),
  })
  .meta({ description: "RFC 9457 problem details." });

export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.number().int().meta({ description: "Total matching the filters, not the page size." }),
    next: z.url().nullable(),
    previous: z.url().nullable(),
    results: z.array(item),
  });

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid body or query parameters (`errors` names each field), malformed JSON, or a Host not in ALLOWED_HOSTS.",
  401: "Missing, malformed, expired or wrongly signed access token.",
  403: "Not allowed to change this resource.",
  404: "No such resource, or not the caller's.",
  405: "Method not allowed here (see `Allow`).",
  409: "Conflicts with the current state.",
  412: "The If-Match ETag is stale; nothing changed.",
  413: "Body over 64 KiB.",
  415: "Body not sent as application/json.",
  429: "Too many failed logins for this email (see `Retry-After`).",
  500: "Unexpected error, or the server is misconfigured; quote the X-Request-Id.",
  503: "Database unavailable (see `Retry-After`); nothing was written.",
};

const HEADERS: Record<string, { description: string; schema: object }> = {
  ETag: { description: "Strong entity tag of the returned representation.", schema: { type: "string" } },
  Location: { description: "Absolute URL of the created resource.", schema: { type: "string", format: "uri" } },
};

const jsonSchema = (schema: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;

/** `/api/patients/:id` → `/api/patients/{id}/` (every route also answers without the slash). */
export const openApiPath = (honoPath: string) => `${honoPath.replace(/:(\w+)/g, "{$1}").replace(/\/$/, "")}/`;

function operation(doc: RouteDoc) {
  const auth = doc.auth ?? true;
  const pathParams = [...doc.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
  const statuses = new Set(doc.errors ?? []);
  if (auth) statuses.add(401);
  if (doc.body) for (const s of [400, 413, 415]) statuses.add(s);
  if (doc.query) statuses.add(400);
  if (pathParams.length > 0) statuses.add(404);
  if (doc.ifMatch) statuses.add(412);
  if (doc.database ?? true) statuses.add(503);

  const parameters = [
    ...pathParams.map((name) => ({ name, in: "path", required: true, schema: { type: "string", format: "uuid" } })),
    ...Object.entries(doc.query?.shape ?? {}).flatMap(([name, schema]) => {
      const s = jsonSchema(schema as z.ZodType, "input");
      // A parameter the API refuses (z.undefined) has nothing to document.
      if (Object.keys(s).length <= 1 && !("type" in s)) return [];
      return [{ name, in: "query", required: false, schema: s }];
    }),
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

  const success: Record<string, unknown> = { description: doc.success.description };
  if (doc.success.schema) success.content = { "application/json": { schema: jsonSchema(doc.success.schema, "output") } };
  if (doc.success.headers) success.headers = Object.fromEntries(doc.success.headers.map((h) => [h, HEADERS[h]]));

  const responses: Record<string, unknown> = { [doc.success.status]: success };
  if (doc.conditionalGet)
    responses[304] = { description: "Not modified: the If-None-Match ETag is current.", headers: { ETag: HEADERS.ETag } };
  for (const status of [...statuses].sort()) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status],
      content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
    };
  }

  return {
    tags: [doc.tag],
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    operationId: `${doc.method}${doc.path.replace(/\/:?(\w)/g, (_, c: string) => c.toUpperCase()).replace(/\W/g, "")}`,
    ...(auth ? {} : { security: [] }),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: true,
            content: {
              "application/json": {
                schema: jsonSchema(doc.body, "input"),
                ...(doc.bodyExample === undefined ? {} : { example: doc.bodyExample }),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

export function buildOpenApiDocument(docs: readonly RouteDoc[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const doc of docs) {
    const path = openApiPath(doc.path);
    paths[path] ??= {};
    paths[path][doc.method] = operation(doc);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Edge Health API",
      version: "1.0.0",
      description:
        "Patients (private to their owner), a shared directory of doctors, and assignments between them. " +
        "Every route answers with and without a trailing slash. Errors are RFC 9457 problems. " +
        "Lists take `limit` (1–100, default 20) and `offset`; unknown query parameters are ignored.",
    },
    servers: [{ url: "/" }],
    tags: [
      { name: "auth", description: "Accounts and tokens." },
      { name: "patients", description: "Patients, private to the user who created them." },
      { name: "doctors", description: "The shared directory of doctors." },
      { name: "mappings", description: "Assignments of doctors to the caller's patients." },
      { name: "audit", description: "The audit trail, for administrators." },
      { name: "health", description: "Liveness and readiness." },
    ],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
      schemas: { Problem: jsonSchema(problemSchema, "output") },
    },
    paths,
  };
}
