/**
 * The audit trail (API.md §7): administrators only, newest first, with
 * filters. The admin check is in the statement itself: one round trip.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app-env";
import { listAudit } from "../db/queries/audit";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, AUDIT_RESOURCE_TYPES } from "../db/schema";
import { envelope, pageParams } from "../lib/list";
import { pageOf, type RouteDoc } from "../lib/openapi";
import { problem } from "../lib/problem";
import { queryParams, uuidString } from "../lib/validation";
import { requireUser } from "../middleware/auth";
import { database } from "../middleware/database";

const choice = <const T extends readonly [string, ...string[]]>(name: string, values: T) =>
  z.enum(values, { error: `${name} must be one of: ${values.join(", ")}.` }).optional();
/** An ISO 8601 timestamp with an offset, within what Postgres stores (no year 0), passed on in UTC. */
const timestamp = (name: string) =>
  z.iso
    .datetime({ offset: true, error: `${name} must be an ISO 8601 timestamp.` })
    .refine((v) => new Date(v).getUTCFullYear() >= 1, `${name} must be an ISO 8601 timestamp from year 1 on.`)
    .transform((v) => new Date(v).toISOString())
    .optional();

const auditQuery = z.object({
  ...pageParams,
  actor_id: uuidString.optional(),
  resource_type: choice("resource_type", AUDIT_RESOURCE_TYPES),
  resource_id: uuidString.optional(),
  action: choice("action", AUDIT_ACTIONS),
  outcome: choice("outcome", AUDIT_OUTCOMES),
  since: timestamp("since"),
  until: timestamp("until"),
  // The trail is always newest first.
  ordering: z.undefined({ error: "ordering is not supported: the audit trail is always newest first." }).optional(),
});

export const auditEventSchema = z.object({
  id: z.uuid(),
  occurred_at: z.iso.datetime(),
  actor_id: z.uuid(),
  action: z.enum(AUDIT_ACTIONS),
  resource_type: z.enum(AUDIT_RESOURCE_TYPES),
  resource_id: z.uuid().nullable(),
  request_id: z.string().meta({ description: "The service's own id for the request." }),
  client_request_id: z.string().nullable().meta({ description: "The X-Request-Id the client sent, if any." }),
  outcome: z.enum(AUDIT_OUTCOMES),
});

export const auditDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/api/audit",
    tag: "audit",
    summary: "The audit trail, newest first (administrators only)",
    query: auditQuery,
    success: { status: 200, description: "A page of audit events.", schema: pageOf(auditEventSchema) },
    errors: [403],
  },
];

export const auditRoutes = new Hono<AppEnv>().use(requireUser(), database()).get("/", queryParams(auditQuery), async (c) => {
  const q = c.req.valid("query");
  const page = await listAudit(c.var.db, c.var.userId, q);
  if (!page) throw problem(403, "Only administrators may read the audit trail.");
  return c.json(envelope(c, q, page.count, page.results));
});
