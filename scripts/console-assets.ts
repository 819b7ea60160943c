/**
 * Builds the administrator console (console/*.ts) into
 * public/admin/console.js, one minified ES module that Workers static assets
 * serve beside public/admin/index.html: nothing from a CDN, nothing added to
 * the Worker bundle. Run by scripts/docs-assets.ts, so before dev and test and
 * in every `wrangler deploy` and `wrangler dev`.
 */

import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";

export const CONSOLE_SCRIPT = fileURLToPath(new URL("../public/admin/console.js", import.meta.url));

export function buildConsole() {
  buildSync({
    entryPoints: [fileURLToPath(new URL("../console/main.ts", import.meta.url))],
    outfile: CONSOLE_SCRIPT,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) buildConsole();
