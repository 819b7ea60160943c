/**
 * Copies Swagger UI's script and stylesheet from node_modules into
 * public/api/docs/assets/, where Workers static assets serve them: the docs
 * page needs no CDN (it works offline in `wrangler dev`) and adds nothing to
 * the Worker bundle. Also writes the OpenAPI document it shows
 * (scripts/openapi.ts) and builds the administrator console
 * (scripts/console-assets.ts). Runs before dev and test (npm pre-scripts) and
 * in every `wrangler deploy` and `wrangler dev` (wrangler.toml's [build] command).
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildConsole } from "./console-assets.ts";
import { writeOpenApiDocument } from "./openapi.ts";

export const DOCS_ASSETS_DIR = fileURLToPath(new URL("../public/api/docs/assets", import.meta.url));
const FILES = ["swagger-ui-bundle.js", "swagger-ui.css"];

/** Everything the docs page loads from static assets: Swagger UI and the document it shows. */
export function copyDocsAssets() {
  const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  mkdirSync(DOCS_ASSETS_DIR, { recursive: true });
  for (const file of FILES) copyFileSync(join(source, file), join(DOCS_ASSETS_DIR, file));
  writeOpenApiDocument();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  copyDocsAssets();
  buildConsole();
}
