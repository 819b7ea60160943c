/**
 * The audit trail: administrators only, newest first, with filters. The
 * admin check is in the statement itself: one round trip (docs/BEHAVIOUR.md).
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { listAnswer, listParams } from "../../lib/list";
import { actorOf } from "../../lib/resource";
import { describeRoute } from "../../lib/route-doc";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { listAudit } from "./queries";
import { auditEventPage, auditOrderings, auditQuery } from "./schemas";

export const auditRoutes = new Hono<AppEnv>().use(requireUser(), database()).get(
  "/",
  describeRoute({
    operationId: "listAuditEvents",
    summary: "The audit trail, newest first (administrators only)",
    success: { status: 200, description: "A page of audit events.", schema: auditEventPage },
    errors: [403],
  }),
  listParams(auditQuery, auditOrderings),
  async (c) => {
    const q = c.req.valid("query");
    return listAnswer(c, q, await listAudit(c.var.db, actorOf(c), q));
  },
);
