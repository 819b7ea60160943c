/**
 * `npm run openapi`: writes the OpenAPI document of every resource in the
 * registry to public/api/openapi.json, where Workers static assets serve it
 * (src/resources/docs/routes.ts). Runs before dev, test and deploy with the
 * docs assets (scripts/docs-assets.ts), so the document is never older than
 * the routes and the Worker carries no OpenAPI code.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { buildOpenApiDocument } from "../src/lib/openapi.ts";
import { resources } from "../src/resources/index.ts";

export const OPENAPI_FILE = fileURLToPath(new URL("../public/api/openapi.json", import.meta.url));

export function writeOpenApiDocument(file = OPENAPI_FILE) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(buildOpenApiDocument(resources), null, 2)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) writeOpenApiDocument();
