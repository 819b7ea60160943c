/**
 * CORS for the origins in CORS_ORIGINS only: other origins get no CORS
 * headers at all, not even on a preflight (Hono's cors would still answer it).
 */
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { parseHttpConfig } from "../lib/config";

const corsForListedOrigin = cors({
  origin: (origin) => origin,
  allowMethods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
  allowHeaders: ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "X-Request-Id"],
  exposeHeaders: ["ETag", "Idempotent-Replayed", "Location", "Retry-After", "X-Request-Id", "WWW-Authenticate"],
  maxAge: 600,
});

export const corsForAllowedOrigins = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const origin = c.req.header("Origin");
    const parsed = parseHttpConfig(c.env);
    const listed = origin !== undefined && parsed.ok && parsed.value.corsOrigins.includes(origin);
    if (!listed) {
      await next();
      // Responses differ by Origin, so shared caches must key on it.
      if (parsed.ok && parsed.value.corsOrigins.length > 0) c.res.headers.append("Vary", "Origin");
      return;
    }
    return corsForListedOrigin(c, next);
  });
