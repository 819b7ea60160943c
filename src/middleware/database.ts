/**
 * Puts a request-scoped Drizzle client on `c.var.db` for data routes, or
 * answers 503 when DATABASE_URL is missing or invalid. Building the client
 * costs no round trip: the first query is the first network call.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { createDb } from "../db/client";
import { databaseConfig } from "../lib/config";
import { marked } from "../lib/route-doc";

export const database = () =>
  marked(
    createMiddleware<AppEnv>(async (c, next) => {
      c.set("db", createDb(databaseConfig(c.env, c.var.requestId)));
      await next();
    }),
    { database: true },
  );
