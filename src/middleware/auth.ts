/**
 * Bearer authentication for resource routers: verifies the access token
 * (HS256, Web Crypto, no database call) and puts its user id on
 * `c.var.userId`. Any failure is the same 401 with `WWW-Authenticate: Bearer`.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { authConfig } from "../lib/config";
import { problem } from "../lib/problem";
import { marked } from "../lib/route-doc";
import { verifyAccessToken } from "../lib/tokens";

export const unauthorized = () => problem(401, "A valid access token is required.", { headers: { "WWW-Authenticate": "Bearer" } });

export const requireUser = () =>
  marked(
    createMiddleware<AppEnv>(async (c, next) => {
      const config = authConfig(c.env, c.var.requestId);
      const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(c.req.header("Authorization") ?? "");
      const userId = match ? await verifyAccessToken(match[1], config) : undefined;
      if (!userId) throw unauthorized();
      c.set("userId", userId);
      await next();
    }),
    { auth: true },
  );
