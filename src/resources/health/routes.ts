/**
 * Liveness and readiness (API.md §8). `/` never touches the database, so it
 * measures the runtime alone; `/ready` makes one real round trip.
 */
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../app-env";
import type { RouteDoc } from "../../lib/openapi";
import { database } from "../../middleware/database";

export const healthRoutes = new Hono<AppEnv>()
  .get("/", (c) => c.json({ status: "ok" as const }))
  .get("/ready", database(), async (c) => {
    await c.var.db.execute(sql`SELECT 1`);
    return c.json({ status: "ready" as const });
  });

export const healthDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/api/health",
    tag: "health",
    summary: "Liveness: the Worker answers (no database call)",
    auth: false,
    database: false,
    success: { status: 200, description: "Up.", schema: z.object({ status: z.literal("ok") }) },
  },
  {
    method: "get",
    path: "/api/health/ready",
    tag: "health",
    summary: "Readiness: the database answers",
    auth: false,
    success: { status: 200, description: "Ready.", schema: z.object({ status: z.literal("ready") }) },
  },
];
