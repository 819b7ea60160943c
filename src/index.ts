/**
 * The app: global middleware in the order of docs/BEHAVIOUR.md's check
 * order, then every resource of the registry (src/resources/index.ts).
 * Routes answer with and without a trailing slash (`strict: false`), never
 * by redirect.
 */
import { Hono } from "hono";
import type { AppEnv } from "./app-env";
import { problemResponse } from "./lib/problem";
import type { SchemaOf } from "./lib/registry";
import { allowedHosts } from "./middleware/allowed-hosts";
import { limitBody } from "./middleware/body-limit";
import { corsForAllowedOrigins } from "./middleware/cors";
import { errorHandler } from "./middleware/error-handler";
import { requestId } from "./middleware/request-id";
import { jsonSecureHeaders, noStore } from "./middleware/response-headers";
import { routeGuard } from "./middleware/route-guard";
import { resources } from "./resources";

const app = new Hono<AppEnv>({ strict: false });

app
  .use(requestId())
  .use(jsonSecureHeaders())
  .use(noStore())
  .use(allowedHosts())
  .use(corsForAllowedOrigins())
  .use(routeGuard(resources))
  .use(limitBody());

for (const resource of resources) app.route(resource.path, resource.router);

// The route guard answers unknown paths first; this covers anything that slips past it.
app.notFound(() => problemResponse(404, "There is no resource at this path."));
app.onError(errorHandler);

/** The route types, for `hono/client` (hc). */
export type AppType = Hono<AppEnv, SchemaOf<typeof resources>, "/">;
export default app;
