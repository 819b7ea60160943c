/**
 * The Worker as it would be deployed: the minified bundle of
 * `wrangler deploy --dry-run`, and Miniflare (workerd, no dev proxy) to run
 * it. Used by the benchmark and by tests that need several Worker instances
 * on one database.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { Miniflare } from "miniflare";

const root = fileURLToPath(new URL("../..", import.meta.url));

/** The bundle (and its source map, `<path>.map`); unminified keeps function names readable in a CPU profile. */
export function buildBundle(minify = true): { path: string; gzipBytes: number } {
  const outdir = mkdtempSync(join(tmpdir(), "worker-dist-"));
  execFileSync(
    process.execPath,
    [
      createRequire(import.meta.url).resolve("wrangler/bin/wrangler.js"),
      "deploy",
      "--dry-run",
      minify ? "--minify" : "--no-minify",
      "--outdir",
      outdir,
    ],
    { cwd: root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" }, stdio: "ignore" },
  );
  // Named after wrangler.toml's `main`.
  const script = readdirSync(outdir).find((f) => f.endsWith(".js"));
  if (!script) throw new Error(`wrangler deploy --dry-run wrote no script to ${outdir}`);
  const path = join(outdir, script);
  return { path, gzipBytes: gzipSync(readFileSync(path)).length };
}

/** One workerd instance running `bundlePath` on a free port of 127.0.0.1, with `bindings`. */
export function startBundle(bundlePath: string, bindings: Record<string, string>): Miniflare {
  return new Miniflare({
    modules: true,
    scriptPath: bundlePath,
    modulesRoot: dirname(bundlePath),
    compatibilityDate: "2026-04-01",
    host: "127.0.0.1",
    port: 0,
    bindings,
  });
}

/** `count` workerd instances of a freshly built bundle, all with `bindings` (for tests of several Worker instances on one database). */
export async function startBundleInstances(
  count: number,
  bindings: Record<string, string>,
): Promise<{ instances: Miniflare[]; origins: string[] }> {
  const bundle = buildBundle();
  const instances = Array.from({ length: count }, () => startBundle(bundle.path, bindings));
  const origins = await Promise.all(instances.map(async (mf) => (await mf.ready).origin));
  return { instances, origins };
}
