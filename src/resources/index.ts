/**
 * The registry: every resource the app serves, one line each — where it is
 * mounted, its router, and its OpenAPI tag. src/index.ts mounts these; the
 * route guard, the OpenAPI document (scripts/openapi.ts), the docs page and
 * the tests read this list too. Adding a resource: docs/ADDING-A-RESOURCE.md.
 */
import type { Resource } from "../lib/registry";
import { adminRoutes } from "./admin/routes";
import { auditRoutes } from "./audit/routes";
import { authRoutes } from "./auth/routes";
import { docsRoutes, openApiRoutes } from "./docs/routes";
import { doctorRoutes } from "./doctors/routes";
import { healthRoutes } from "./health/routes";
import { mappingRoutes } from "./mappings/routes";
import { patientRoutes } from "./patients/routes";
import { syncRoutes } from "./sync/routes";

export const resources = [
  { path: "/api/auth", router: authRoutes, tag: { name: "auth", description: "Accounts and tokens." } },
  {
    path: "/api/patients",
    router: patientRoutes,
    tag: { name: "patients", description: "Patients, private to the user who created them." },
  },
  { path: "/api/doctors", router: doctorRoutes, tag: { name: "doctors", description: "The shared directory of doctors." } },
  {
    path: "/api/mappings",
    router: mappingRoutes,
    tag: { name: "mappings", description: "Assignments of doctors to the caller's patients." },
  },
  {
    path: "/api/sync",
    router: syncRoutes,
    tag: { name: "sync", description: "Changes since a cursor, for offline clients." },
  },
  { path: "/api/audit", router: auditRoutes, tag: { name: "audit", description: "The audit trail, for administrators." } },
  {
    path: "/api/admin",
    router: adminRoutes,
    tag: { name: "admin", description: "Accounts and counts, for administrators: never patients' data." },
  },
  { path: "/api/health", router: healthRoutes, tag: { name: "health", description: "Liveness and readiness." } },
  // The contract itself: served, but not an operation of the API (no tag).
  { path: "/api/openapi.json", router: openApiRoutes },
  { path: "/api/docs", router: docsRoutes },
] as const satisfies readonly Resource[];
