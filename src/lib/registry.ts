/**
 * The shape of the resource registry (src/resources/index.ts) and the one
 * walk over it that the route guard, the OpenAPI document and the tests
 * share: every route of every resource, with the handlers that run for it.
 */
import type { Hono } from "hono";
import type { MergeSchemaPath, Schema } from "hono/types";
import type { AppEnv } from "../app-env";

// biome-ignore lint/suspicious/noExplicitAny: any router's schema will do
type AnyRouter = Hono<AppEnv, any, any>;

export interface Resource<P extends string = string, R extends AnyRouter = AnyRouter> {
  /** Where the router is mounted, e.g. `/api/patients`. */
  path: P;
  router: R;
  /** The OpenAPI tag of its operations; a resource without one (the docs themselves) is not documented. */
  tag?: { name: string; description: string };
}

/** The `hono/client` schema of a list of resources, as `app.route()` would build it. */
export type SchemaOf<R extends readonly Resource[]> = R[number] extends infer X
  ? X extends { path: infer P extends string; router: Hono<AppEnv, infer S extends Schema, string> }
    ? MergeSchemaPath<S, P>
    : never
  : never;

export interface RegisteredRoute {
  method: string;
  /** The Hono path, e.g. `/api/patients/:id`. */
  path: string;
  resource: Resource;
  /** The handlers Hono runs for it, in order: the router's `use()` middlewares, then the route's own chain. */
  handlers: unknown[];
}

/** `/api/patients` + `/:id` → `/api/patients/:id` (and `/` → the mount path itself), as Hono's `route()` joins them. */
export const joinPath = (base: string, sub: string) =>
  sub === "/" || sub === "" ? base : `${base}${sub.startsWith("/") ? "" : "/"}${sub}`;

/** A `use()` path of a sub-router covers a route path (`*`, `/*`, `/prefix/*`, or the path itself). */
const covers = (usePath: string, path: string) =>
  usePath === "*" || usePath === "/*" || usePath === path || (usePath.endsWith("/*") && path.startsWith(usePath.slice(0, -1)));

/** Every route of every resource (method ≠ ALL: `use()` middlewares are folded into the routes they cover). */
export function registeredRoutes(resources: readonly Resource[]): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  for (const resource of resources) {
    const own = resource.router.routes;
    const byKey = new Map<string, RegisteredRoute>();
    for (const r of own) {
      if (r.method === "ALL") continue;
      const key = `${r.method} ${r.path}`;
      let route = byKey.get(key);
      if (!route) {
        const middlewares = own.filter((m) => m.method === "ALL" && covers(m.path, r.path)).map((m) => m.handler);
        route = { method: r.method, path: joinPath(resource.path, r.path), resource, handlers: middlewares };
        byKey.set(key, route);
        routes.push(route);
      }
      route.handlers.push(r.handler);
    }
  }
  return routes;
}
