/**
 * Bearer authentication for resource routers: verifies the access token
 * (HS256, Web Crypto, no database call) and puts its user id and issue time
 * on `c.var`. Any failure is the same 401 with `WWW-Authenticate: Bearer`.
 * Whether the account is still active and the token not signed out is
 * checked by the route's own statement (actorCheck, src/db/fragments.ts).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { authConfig } from "../lib/config";
import { problem } from "../lib/problem";
import { marked } from "../lib/route-doc";
import { verifyAccessToken } from "../lib/tokens";

export const unauthorized = () => problem(401, "A valid access token is required.", { headers: { "WWW-Authenticate": "Bearer" } });

export const notAdministrator = () => problem(403, "Only administrators may do this.");

export const requireUser = () =>
  marked(
    createMiddleware<AppEnv>(async (c, next) => {
      const config = authConfig(c.env, c.var.requestId);
      const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(c.req.header("Authorization") ?? "");
      const claims = match ? await verifyAccessToken(match[1], config) : undefined;
      if (!claims) throw unauthorized();
      c.set("userId", claims.userId);
      c.set("tokenIssuedAt", claims.issuedAt);
      await next();
    }),
    { auth: true },
  );
