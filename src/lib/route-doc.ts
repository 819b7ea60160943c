/**
 * What a route says about itself for the OpenAPI document, carried by the
 * handlers of its own Hono chain: `describeRoute()` gives the words and the
 * success response, and the validators and middlewares mark what they imply
 * (a JSON body, query parameters, a path id, a bearer token, a database).
 * scripts/openapi.ts reads these marks at build time (src/lib/openapi.ts);
 * the Worker only carries them. See docs/ADDING-A-RESOURCE.md.
 */
import type { MiddlewareHandler } from "hono";
import type * as z from "zod";

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 410 | 412 | 413 | 415 | 422 | 429 | 500 | 503;

export interface RouteDescription {
  /** Unique and readable: `listPatients`, `createPatient`, … (client generators name methods after it). */
  operationId: string;
  summary: string;
  description?: string;
  /** The success status and its body (none for 204). */
  success: { status: 200 | 201 | 204; description: string; schema?: z.ZodType; headers?: ("ETag" | "Location")[] };
  /** Statuses beyond those the chain implies (401, 400, 413, 415, 404, 412, 503). */
  errors?: ErrorStatus[];
  /** A GET of one resource that answers 304 to If-None-Match. */
  conditionalGet?: boolean;
  /** A PUT/PATCH/DELETE that honours If-Match (412). */
  ifMatch?: boolean;
  bodyExample?: unknown;
}

/** What one handler of a chain tells the document. */
export interface RouteMark {
  description?: RouteDescription;
  body?: z.ZodType;
  query?: z.ZodType;
  /** Needs `Authorization: Bearer <access token>`. */
  auth?: boolean;
  /** Calls the database (so it can answer 503). */
  database?: boolean;
  /** Takes an Idempotency-Key (400 when malformed, 409 for a racing duplicate, 422 for a key reused with another request). */
  idempotent?: boolean;
}

const MARK = Symbol.for("edge-health-api.route-mark");

/** Attaches `mark` to a middleware without changing what it does. */
export function marked<M extends MiddlewareHandler>(middleware: M, mark: RouteMark): M {
  return Object.assign(middleware, { [MARK]: mark });
}

export const markOf = (handler: unknown): RouteMark | undefined => (handler as { [MARK]?: RouteMark } | undefined)?.[MARK];

/** The route's own documentation, as the first handler of its chain. */
export const describeRoute = (description: RouteDescription): MiddlewareHandler => marked(async (_c, next) => next(), { description });
