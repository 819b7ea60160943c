/**
 * Liveness and readiness. `/` never touches the database, so it measures
 * the runtime alone; `/ready` makes one real round trip.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../app-env";
import { describeRoute } from "../../lib/route-doc";
import { database } from "../../middleware/database";

export const healthRoutes = new Hono<AppEnv>()
  .get(
    "/",
    describeRoute({
      operationId: "getLiveness",
      summary: "Liveness: the Worker answers (no database call)",
      success: { status: 200, description: "Up.", schema: z.object({ status: z.literal("ok") }) },
    }),
    (c) => c.json({ status: "ok" as const }),
  )
  .get(
    "/ready",
    describeRoute({
      operationId: "getReadiness",
      summary: "Readiness: the database answers",
      success: { status: 200, description: "Ready.", schema: z.object({ status: z.literal("ready") }) },
    }),
    database(),
    async (c) => {
      // Straight to the driver, as every compiled statement goes: the benchmark's baseline of one round trip.
      await c.var.db.query("SELECT 1", []);
      return c.json({ status: "ready" as const });
    },
  );
