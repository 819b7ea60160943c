/**
 * The audit trail: administrators only, newest first, with filters. The
 * admin check is in the statement itself: one round trip (docs/BEHAVIOUR.md).
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { envelope } from "../../lib/list";
import { actorOf } from "../../lib/resource";
import { describeRoute } from "../../lib/route-doc";
import { queryParams } from "../../lib/validation";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { listAudit } from "./queries";
import { auditEventPage, auditQuery } from "./schemas";

export const auditRoutes = new Hono<AppEnv>().use(requireUser(), database()).get(
  "/",
  describeRoute({
    operationId: "listAuditEvents",
    summary: "The audit trail, newest first (administrators only)",
    success: { status: 200, description: "A page of audit events.", schema: auditEventPage },
    errors: [403],
  }),
  queryParams(auditQuery),
  async (c) => {
    const q = c.req.valid("query");
    const page = await listAudit(c.var.db, actorOf(c), q);
    return c.json(envelope(c, q, page.count, page.results));
  },
);
