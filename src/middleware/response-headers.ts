/**
 * Security and caching headers of docs/BEHAVIOUR.md: hono's secureHeaders with
 * a JSON-only CSP, and `Cache-Control: no-store` on every /api/ response
 * except those that never carry personal data or tokens.
 */
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "../app-env";

export const jsonSecureHeaders = () =>
  secureHeaders({
    contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    xFrameOptions: "DENY",
    referrerPolicy: "no-referrer",
    // A handler that sets its own header (the docs page's CSP) keeps it.
    overwrite: false,
  });

/** Public, data-free responses that caches may keep. */
const CACHEABLE = /^\/api\/(health(\/ready)?|openapi\.json)\/?$/;

export const noStore = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    await next();
    if (!CACHEABLE.test(c.req.path)) c.res.headers.set("Cache-Control", "no-store");
  });
