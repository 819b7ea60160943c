/**
 * Starts `wrangler dev` on 127.0.0.1 with extra variables (the local Neon
 * endpoint, mostly): used by `npm run dev` and by tests that need the Worker
 * as a real HTTP server.
 */
import { type ChildProcess, type StdioOptions, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { type AddressInfo, createServer } from "node:net";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));

export function spawnWranglerDev(options: {
  port: number;
  vars: Record<string, string>;
  stdio: StdioOptions;
  extraArgs?: string[];
}): ChildProcess {
  const wranglerBin = createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js");
  const vars = Object.entries(options.vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  return spawn(
    process.execPath,
    [wranglerBin, "dev", "--ip", "127.0.0.1", "--port", String(options.port), ...vars, ...(options.extraArgs ?? [])],
    {
      cwd: root,
      stdio: options.stdio,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    },
  );
}

/** Resolves once `origin` answers /api/health/, or throws after `seconds`. */
export async function waitForHealth(origin: string, wrangler: ChildProcess, seconds = 60): Promise<void> {
  for (let waited = 0; waited < seconds * 1000; waited += 250) {
    if (wrangler.exitCode !== null) throw new Error("wrangler dev exited");
    const ok = await fetch(`${origin}/api/health/`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`wrangler dev did not answer within ${seconds} s`);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

/** `wrangler dev` on free ports with `vars`, answering /api/health/; for tests that need the Worker as an HTTP server. */
export async function startWorker(vars: Record<string, string>): Promise<{ origin: string; stop: () => void }> {
  const port = await freePort();
  const wrangler = spawnWranglerDev({
    port,
    stdio: "ignore",
    vars,
    extraArgs: ["--inspector-port", String(await freePort()), "--show-interactive-dev-session=false"],
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHealth(origin, wrangler);
  return { origin, stop: () => wrangler.kill("SIGINT") };
}
