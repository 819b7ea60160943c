/**
 * The app: global middleware in the order API.md §10 checks things, then one
 * sub-router per resource. Routes answer with and without a trailing slash
 * (`strict: false`), never by redirect.
 */
import { Hono } from "hono";
import type { AppEnv } from "./app-env";
import { problemResponse } from "./lib/problem";
import { allowedHosts } from "./middleware/allowed-hosts";
import { limitBody } from "./middleware/body-limit";
import { corsForAllowedOrigins } from "./middleware/cors";
import { errorHandler } from "./middleware/error-handler";
import { requestId } from "./middleware/request-id";
import { jsonSecureHeaders, noStore } from "./middleware/response-headers";
import { routeGuard } from "./middleware/route-guard";
import { auditRoutes } from "./resources/audit/routes";
import { authRoutes } from "./resources/auth/routes";
import { docsRoutes, openApiRoutes } from "./resources/docs/routes";
import { doctorRoutes } from "./resources/doctors/routes";
import { healthRoutes } from "./resources/health/routes";
import { mappingRoutes } from "./resources/mappings/routes";
import { patientRoutes } from "./resources/patients/routes";

const app = new Hono<AppEnv>({ strict: false });

app
  .use(requestId())
  .use(jsonSecureHeaders())
  .use(noStore())
  .use(allowedHosts())
  .use(corsForAllowedOrigins())
  .use(routeGuard(app))
  .use(limitBody());

const routes = app
  .route("/api/health", healthRoutes)
  .route("/api/auth", authRoutes)
  .route("/api/patients", patientRoutes)
  .route("/api/doctors", doctorRoutes)
  .route("/api/mappings", mappingRoutes)
  .route("/api/audit", auditRoutes);

app.route("/api/openapi.json", openApiRoutes).route("/api/docs", docsRoutes);

// The route guard answers unknown paths first; this covers anything that slips past it.
app.notFound(() => problemResponse(404, "There is no resource at this path."));
app.onError(errorHandler);

/** The route types, for `hono/client` (hc). */
export type AppType = typeof routes;
export default app;
