/**
 * Runs the local Neon endpoint on its own:
 *   tsx scripts/neon-local/cli.ts [--port 4444] [--database-url postgres://…] [--data-dir .data/pglite]
 * Without --database-url it uses PGlite (in memory unless --data-dir is given).
 */
import { parseArgs } from "node:util";
import { openBackend } from "./backends.ts";
import { startNeonLocalServer } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "4444" },
    "database-url": { type: "string" },
    "data-dir": { type: "string" },
  },
});

const backend = await openBackend({ databaseUrl: values["database-url"], dataDir: values["data-dir"] });
const server = await startNeonLocalServer(backend, { port: Number(values.port) });
console.log(`neon-local: ${backend.description}, migrations applied, listening on ${server.url}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close().then(() => process.exit(0));
  });
}
