/**
 * Liveness and readiness (API.md §8). `/` never touches the database, so it
 * measures the runtime alone; `/ready` makes one real round trip.
 */
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { database } from "../middleware/database";

export const healthRoutes = new Hono<AppEnv>()
  .get("/", (c) => c.json({ status: "ok" as const }))
  .get("/ready", database(), async (c) => {
    await c.var.db.execute(sql`SELECT 1`);
    return c.json({ status: "ready" as const });
  });
