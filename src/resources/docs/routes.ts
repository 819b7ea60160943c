/**
 * The contract as served (API.md §8): `GET /api/openapi.json`, generated
 * from the routers' own zod schemas, and `GET /api/docs/`, Swagger UI on
 * that document with its script and styles from this service's static
 * assets (public/api/docs/assets), so it needs no CDN.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { buildOpenApiDocument, type RouteDoc } from "../../lib/openapi";
import { auditDocs } from "../audit/routes";
import { authDocs } from "../auth/routes";
import { doctorDocs } from "../doctors/routes";
import { healthDocs } from "../health/routes";
import { mappingDocs } from "../mappings/routes";
import { patientDocs } from "../patients/routes";

export const routeDocs: RouteDoc[] = [...authDocs, ...patientDocs, ...doctorDocs, ...mappingDocs, ...auditDocs, ...healthDocs];

// Built once per isolate, on first request.
let documentJson: string | undefined;

export const openApiRoutes = new Hono<AppEnv>().get("/", (c) => {
  documentJson ??= JSON.stringify(buildOpenApiDocument(routeDocs));
  return c.body(documentJson, 200, { "Content-Type": "application/json", "Cache-Control": "public, max-age=300" });
});

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edge Health API — reference</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/docs.js"></script>
</body>
</html>
`;

// Its own scripts and styles only; Swagger UI sets style attributes, and "Try it" calls this origin.
const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const docsRoutes = new Hono<AppEnv>().get("/", (c) => c.html(DOCS_PAGE, 200, { "Content-Security-Policy": DOCS_CSP }));
