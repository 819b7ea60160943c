/**
 * `npm run dev`: the whole API on http://127.0.0.1:8787 with nothing else
 * installed. Starts the local Neon endpoint on PGlite (kept in .data/pglite,
 * or on DEV_DATABASE_URL=postgres://… when given), applies migrations, makes
 * sure .dev.vars holds a JWT_SECRET, then runs `wrangler dev` pointed at the
 * endpoint. The endpoint's URL carries a token new on every run; it is also
 * written to .data/neon-local-endpoint (owner-only) for `npm run admin:create`.
 * Ctrl-C stops both.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { spawnWranglerDev } from "./lib/wrangler-dev.ts";
import { openBackend } from "./neon-local/backends.ts";
import { startNeonLocalServer } from "./neon-local/server.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const devVarsPath = `${root}.dev.vars`;
const dataDir = `${root}.data/pglite`;
const endpointPort = Number(process.env.NEON_LOCAL_PORT ?? 4444);
const apiPort = Number(process.env.PORT ?? 8787);

/** A JWT_SECRET for this checkout only, written once and kept (tokens survive restarts). */
function ensureJwtSecret() {
  const current = existsSync(devVarsPath) ? readFileSync(devVarsPath, "utf8") : "";
  if (/^JWT_SECRET\s*=/m.test(current)) return;
  const line = `JWT_SECRET="${randomBytes(48).toString("base64url")}"\n`;
  const separator = current === "" || current.endsWith("\n") ? "" : "\n";
  writeFileSync(devVarsPath, `${current}${separator}${line}`, { mode: 0o600 });
  console.log("dev: wrote a random JWT_SECRET to .dev.vars");
}

ensureJwtSecret();
mkdirSync(dataDir, { recursive: true });
const databaseUrl = process.env.DEV_DATABASE_URL;
const backend = await openBackend({ databaseUrl, dataDir: databaseUrl ? undefined : dataDir });
const endpoint = await startNeonLocalServer(backend, { port: endpointPort }).catch((error: NodeJS.ErrnoException) => {
  console.error(
    error.code === "EADDRINUSE" ? `dev: port ${endpointPort} is taken; set NEON_LOCAL_PORT to another port` : `dev: ${error.message}`,
  );
  process.exit(1);
});
const endpointFile = `${root}.data/neon-local-endpoint`;
writeFileSync(endpointFile, `${endpoint.url}\n`, { mode: 0o600 });
console.log(`dev: ${backend.description}, migrations applied, local Neon endpoint on port ${endpoint.port} (URL in ${endpointFile})`);

// The connection string only names the database for the driver; the endpoint decides where it really is.
const wrangler = spawnWranglerDev({
  port: apiPort,
  stdio: "inherit",
  vars: { NEON_LOCAL_ENDPOINT: endpoint.url, DATABASE_URL: `postgres://local:local@127.0.0.1:${endpoint.port}/main` },
  // `npm run dev -- --var NAME:value …`: .dev.vars holds only the required secrets.
  extraArgs: process.argv.slice(2),
});

let stopping = false;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  if (wrangler.exitCode === null) {
    wrangler.kill("SIGINT");
    const killer = setTimeout(() => wrangler.kill("SIGKILL"), 5_000);
    await new Promise((resolve) => wrangler.once("exit", resolve));
    clearTimeout(killer);
  }
  await endpoint.close();
  rmSync(endpointFile, { force: true });
  process.exit(code);
}

process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
wrangler.on("exit", (code) => stop(code ?? 0));
