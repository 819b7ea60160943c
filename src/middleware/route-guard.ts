/**
 * Unknown path → 404, known path with another method → 405 with `Allow`,
 * decided before any other check (docs/BEHAVIOUR.md: 404/405 come before
 * 413, 401, 415 and 400). Hono's methodNotAllowed middleware decides after
 * the handlers have run, too late for that order, so this one looks the
 * path up in the resource registry's routes first.
 */
import { createMiddleware } from "hono/factory";
import { TrieRouter } from "hono/router/trie-router";
import type { AppEnv } from "../app-env";
import { problem } from "../lib/problem";
import { type Resource, registeredRoutes } from "../lib/registry";

function methodsByPath(resources: readonly Resource[]): TrieRouter<string[]> {
  const byPath = new Map<string, Set<string>>();
  for (const route of registeredRoutes(resources)) {
    const methods = byPath.get(route.path) ?? new Set<string>();
    methods.add(route.method);
    if (route.method === "GET") methods.add("HEAD");
    byPath.set(route.path, methods);
  }
  const router = new TrieRouter<string[]>();
  for (const [path, methods] of byPath) router.add("ALL", path, [...methods, "OPTIONS"]);
  return router;
}

export const routeGuard = (resources: readonly Resource[]) => {
  let router: TrieRouter<string[]> | undefined;
  return createMiddleware<AppEnv>(async (c, next) => {
    router ??= methodsByPath(resources);
    const path = c.req.path.length > 1 ? c.req.path.replace(/\/$/, "") : c.req.path;
    const matches = router.match("ALL", path)[0];
    // The common case first: the method is allowed here, and nothing else need be built.
    if (c.req.method !== "OPTIONS" && matches.some(([methods]) => methods.includes(c.req.method))) return next();
    const allowed = new Set(matches.flatMap(([methods]) => methods));
    if (allowed.size === 0) throw problem(404, "There is no resource at this path.");
    const allow = [...allowed].join(", ");
    if (c.req.method === "OPTIONS") return c.body(null, 204, { Allow: allow });
    if (!allowed.has(c.req.method)) {
      throw problem(405, `${c.req.method} is not supported here.`, { headers: { Allow: allow } });
    }
    await next();
  });
};
