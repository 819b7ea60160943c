/**
 * The contract as served: `GET /api/openapi.json` and `GET /api/docs/`,
 * Swagger UI on that document with its script and styles from this
 * service's static assets (public/api/docs/assets), so it needs no CDN.
 *
 * The document itself is built before dev, test and deploy from the routes'
 * own descriptions (scripts/openapi.ts → public/api/openapi.json), so no
 * OpenAPI code ships in the Worker. Static assets answer that exact path
 * before the Worker runs; this route answers the rest (the trailing slash).
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { problem } from "../../lib/problem";

export const OPENAPI_ASSET_PATH = "/api/openapi.json";

export const openApiRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const asset = await c.env.ASSETS?.fetch(new URL(OPENAPI_ASSET_PATH, c.req.url));
  if (!asset?.ok) throw problem(500, "The OpenAPI document was not built: run `npm run openapi`.");
  return c.body(await asset.text(), 200, { "Content-Type": "application/json", "Cache-Control": "public, max-age=300" });
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
