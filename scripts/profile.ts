/**
 * `npm run profile [-- --duration 5 --connections 10 --interval 100 --top 10]`
 *
 * Where the Worker's CPU goes, per route: the benchmark's database, seed and
 * deployable bundle (scripts/bench.ts), run by Miniflare with workerd's
 * inspector open; V8's sampling profiler (DevTools protocol) records while
 * autocannon loads one route at a time, after a warm-up. Done twice: on the
 * unminified bundle, whose function names are readable, and on the minified
 * one that is deployed, to check that the shares agree. Every sample is
 * traced back to its source file through wrangler's source map.
 *
 * Writes the "CPU profile" section of docs/BENCHMARKS.md (between its
 * markers; the rest of the file is left alone) and the raw profiles to
 * artifacts/profile/*.cpuprofile, which DevTools' Performance panel opens.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import { fmt, log, openDatabase, PASSWORD, root, seed, versions, WORKER_DATABASE_URL } from "./bench.ts";
import { buildBundle } from "./lib/bundle.ts";
import {
  type CpuProfile,
  connectInspector,
  type FunctionCost,
  type ProfileSummary,
  sourceMapLookup,
  summarize,
} from "./lib/cpu-profile.ts";
import { startNeonLocalServer } from "./neon-local/server.ts";

const { values: opts } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "10" },
    /** Microseconds between samples. */
    interval: { type: "string", default: "100" },
    warmup: { type: "string", default: "1" },
    top: { type: "string", default: "10" },
  },
});
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);
const INTERVAL_US = Number(opts.interval);
const WARMUP = Number(opts.warmup);
const TOP = Number(opts.top);
const ARTIFACTS = join(root, "artifacts/profile");
const BENCHMARKS = join(root, "docs/BENCHMARKS.md");
const BEGIN = "<!-- cpu-profile:begin (written by npm run profile) -->";
const END = "<!-- cpu-profile:end -->";

interface ProfiledRoute {
  name: string;
  method: "GET" | "POST" | "PATCH";
  path: string;
  auth: boolean;
  body?: () => unknown;
}

interface Variant {
  name: "unminified" | "minified";
  summaries: Map<string, { summary: ProfileSummary; requests: number }>;
}

async function profileVariant(variant: Variant, routes: ProfiledRoute[], endpointUrl: string, email: string) {
  const bundle = buildBundle(variant.name === "minified");
  const lookup = sourceMapLookup(`${bundle.path}.map`);
  log(`\n${variant.name} bundle: ${bundle.path}`);
  const mf = new Miniflare({
    modules: true,
    scriptPath: bundle.path,
    modulesRoot: dirname(bundle.path),
    compatibilityDate: "2026-04-01",
    host: "127.0.0.1",
    port: 0,
    // 0: any free port. No worker asks for Miniflare's inspector proxy, so this is workerd's own inspector.
    inspectorPort: 0,
    bindings: {
      DATABASE_URL: WORKER_DATABASE_URL,
      NEON_LOCAL_ENDPOINT: endpointUrl,
      JWT_SECRET: "profile-secret-".padEnd(48, "x"),
      ALLOWED_HOSTS: "*",
    },
  });
  try {
    const origin = (await mf.ready).origin;
    const login = await fetch(`${origin}/api/auth/login/`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    if (!login.ok) throw new Error(`login answered ${login.status}: ${await login.text()}`);
    const { access } = (await login.json()) as { access: string };
    const inspector = await connectInspector(await mf.getInspectorURL());
    await inspector.send("Profiler.enable");
    await inspector.send("Profiler.setSamplingInterval", { interval: INTERVAL_US });
    for (const route of routes) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (route.auth) headers.authorization = `Bearer ${access}`;
      const run = (seconds: number) =>
        autocannon({
          url: origin,
          connections: CONNECTIONS,
          duration: seconds,
          requests: [
            {
              method: route.method,
              path: route.path,
              headers,
              setupRequest: (req) => (route.body ? { ...req, body: JSON.stringify(route.body()) } : req),
            },
          ],
        });
      await run(WARMUP); // the isolate's first requests compile code; that is not the steady state we bill
      await inspector.send("Profiler.start");
      const result = await run(DURATION);
      const { profile } = await inspector.send<{ profile: CpuProfile }>("Profiler.stop");
      // A profile of error answers would describe the wrong code path.
      if (result.non2xx || result.errors || result.timeouts)
        throw new Error(`${route.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
      const file = join(ARTIFACTS, `${variant.name}-${slug(route.name)}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const summary = summarize(profile, lookup);
      variant.summaries.set(route.name, { summary, requests: result.requests.total });
      const top = [...summary.functions].sort((a, b) => b.self - a.self)[0];
      log(
        `  ${route.name.padEnd(28)} ${fmt(result.requests.average).padStart(6)} req/s  ${summary.busy} busy samples, top: ${top?.name} ${percent(top?.self ?? 0, summary.busy)}  → ${file.slice(root.length)}`,
      );
    }
    inspector.close();
  } finally {
    await mf.dispose();
  }
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/\{id\}/g, "id")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
const percent = (part: number, whole: number) => `${fmt(whole ? (part / whole) * 100 : 0, 1)} %`;

/** Functions the issue names, and where to find them in a profile. */
const FOCUS: { label: string; match: (f: FunctionCost) => boolean }[] = [
  { label: "`createDb`: the database client, made per request", match: (f) => f.name === "createDb" },
  { label: "… of which Drizzle `extractTablesRelationalConfig`", match: (f) => f.name === "extractTablesRelationalConfig" },
  { label: "`verifyAccessToken`: the token check", match: (f) => f.name === "verifyAccessToken" },
  { label: "… of which hono `importPublicKey` (HMAC key import, per request)", match: (f) => f.name === "importPublicKey" },
  {
    label: "Neon `resolveConnectionParams` (connection string parsed per query)",
    match: (f) => f.name.startsWith("resolveConnectionParams"),
  },
  {
    label: "Neon `processQueryResult` (type parsers over the rows, JSON parsed again)",
    match: (f) => f.name.startsWith("processQueryResult"),
  },
  { label: "`Response.json` (native: the driver parsing the HTTP answer)", match: (f) => f.name === "json" && f.owner === "(native)" },
  {
    label: "hono `c.json` (serialising a response body)",
    match: (f) => f.name === "json" && f.location.includes("hono/dist/context"),
  },
  {
    label: "hono `c.req.json()` (reading a request body)",
    match: (f) => f.name === "json" && f.location.includes("hono/dist/request"),
  },
  { label: "`fetch` (native) itself", match: (f) => f.name === "fetch" && f.owner === "(native)" },
];
/** Owners whose share anywhere on the stack the issue asks about. */
const FOCUS_OWNERS = ["@neondatabase/serverless", "drizzle-orm", "zod", "@hono/zod-validator", "hono"];

function report(variants: Variant[], routes: ProfiledRoute[], database: string, seconds: number): string {
  const [readable, deployed] = variants;
  const cell = (variant: Variant, route: string, pick: (s: ProfileSummary) => number) => {
    const entry = variant.summaries.get(route);
    return entry ? percent(pick(entry.summary), entry.summary.busy) : "—";
  };
  const perRoute = routes.map((route) => {
    const entry = readable.summaries.get(route.name);
    if (!entry) return "";
    const { summary, requests } = entry;
    const top = [...summary.functions].sort((a, b) => b.self - a.self).slice(0, TOP);
    return [
      `### ${route.name}`,
      "",
      `${fmt(summary.busy)} busy samples (${percent(summary.idle, summary.idle + summary.busy)} of all samples idle), ${fmt(requests)} requests in ${DURATION} s under the profiler.`,
      "",
      "| # | function | source | self % | total % |",
      "| ---: | --- | --- | ---: | ---: |",
      ...top.map(
        (f, i) =>
          `| ${i + 1} | \`${f.name}\` | ${f.location ? `\`${f.location}\`` : "V8"} | ${percent(f.self, summary.busy)} | ${percent(f.total, summary.busy)} |`,
      ),
      "",
    ].join("\n");
  });
  const header = `| | ${routes.map((r) => r.name).join(" | ")} |\n| --- |${routes.map(() => " ---: |").join("")}`;
  const focusRows = FOCUS.map(
    ({ label, match }) =>
      `| ${label} | ${routes
        .map((r) =>
          cell(readable, r.name, (s) =>
            s.functions.filter(match).reduce((sum, f) => sum + (label.includes("(self)") ? f.self : f.total), 0),
          ),
        )
        .join(" | ")} |`,
  );
  const ownerRows = FOCUS_OWNERS.map(
    (owner) =>
      `| \`${owner}\`: self / anywhere on the stack | ${routes.map((r) => `${cell(readable, r.name, (s) => s.owners.get(owner) ?? 0)} / ${cell(readable, r.name, (s) => s.ownerTotals.get(owner) ?? 0)}`).join(" | ")} |`,
  );
  const ourCode = (s: ProfileSummary) => [...s.owners].filter(([owner]) => owner.startsWith("src/")).reduce((sum, [, n]) => sum + n, 0);
  const owners = new Map<string, number>();
  for (const { summary } of readable.summaries.values())
    for (const [owner, n] of summary.owners) owners.set(owner, (owners.get(owner) ?? 0) + n / summary.busy);
  const topOwners = [...owners]
    .sort((a, b) => b[1] - a[1])
    .map(([owner]) => owner)
    .filter((o) => !o.startsWith("src/"))
    .slice(0, 9);
  const ownerTable = [
    ...topOwners.map(
      (owner) =>
        `| ${owner.startsWith("(") ? owner : `\`${owner}\``} | ${routes.map((r) => `${cell(readable, r.name, (s) => s.owners.get(owner) ?? 0)} / ${cell(deployed, r.name, (s) => s.owners.get(owner) ?? 0)}`).join(" | ")} |`,
    ),
    `| our code (\`src/\`) | ${routes.map((r) => `${cell(readable, r.name, ourCode)} / ${cell(deployed, r.name, ourCode)}`).join(" | ")} |`,
  ];
  return `${BEGIN}
## CPU profile

Produced by \`npm run profile -- --duration ${DURATION} --connections ${CONNECTIONS} --interval ${INTERVAL_US}\` on ${new Date().toISOString().slice(0, 10)} in ${fmt(seconds)} s: V8's sampling profiler in workerd, through its inspector (DevTools protocol), one sample every ${INTERVAL_US} µs while autocannon (${CONNECTIONS} connections, ${DURATION} s after a ${WARMUP} s warm-up) loads one route at a time. Database: ${database}, seeded as for \`npm run bench\`. ${versions()}.

**The machine was shared and busy** (${cpus().length} cores, load average ${loadavg()
    .map((n) => fmt(n, 1))
    .join(
      " / ",
    )} at the end, other work running): absolute times here are not the Worker's cost. Shares of the Worker's busy samples are: they compare parts of the same requests with each other.

- *busy samples*: every sample except \`(idle)\`; percentages are of these. V8 takes a sample only when the Worker's thread gets the CPU, so on a busy machine the mean interval is longer than asked for; the shares do not depend on it.
- *self*: the function itself was running; *total*: it was anywhere on the stack (its callees included).
- *source*: where the function is written, through wrangler's source map (a minified package's names read back from its esbuild keepNames calls: \`readable (minified)\`); \`(native)\` is a runtime built-in such as \`fetch\` or \`Response\`. Most built-ins (\`JSON.parse\`, \`JSON.stringify\`, \`crypto.subtle.*\`) get no frame of their own: their time is the self time of the function that called them; \`(program)\` is workerd's own C++ on the Worker's thread (HTTP, I/O, the event loop); \`(garbage collector)\` is V8's GC.
- Raw profiles: \`artifacts/profile/<bundle>-<route>.cpuprofile\` (open in Chrome DevTools, Performance panel).

Top ${TOP} functions by self time, unminified bundle (the deployed minified bundle's shares by package are below; they agree):

${perRoute.join("\n")}
### What the issue suspects, per route (total %: anywhere on the stack; unminified bundle)

${header}
${focusRows.join("\n")}
${ownerRows.join("\n")}

### Self time by package: unminified / minified (deployed) bundle

${header}
${ownerTable.join("\n")}
${END}`;
}

function writeSection(section: string) {
  const current = readFileSync(BENCHMARKS, "utf8");
  const begin = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next =
    begin >= 0 && end > begin
      ? `${current.slice(0, begin)}${section}${current.slice(end + END.length)}`
      : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(BENCHMARKS, next);
}

async function main() {
  const started = Date.now();
  mkdirSync(ARTIFACTS, { recursive: true });
  const { backend, version, drop } = await openDatabase();
  const endpoint = await startNeonLocalServer(backend);
  try {
    const data = await seed(backend);
    const [readId, patchId] = data.bigPatientIds;
    const routes: ProfiledRoute[] = [
      { name: "GET /api/health/", method: "GET", path: "/api/health/", auth: false },
      { name: "GET /api/health/ready/", method: "GET", path: "/api/health/ready/", auth: false },
      { name: "GET /api/patients/{id}/", method: "GET", path: `/api/patients/${readId}/`, auth: true },
      // The first page: 20 rows, the default limit.
      { name: "GET /api/patients/", method: "GET", path: "/api/patients/", auth: true },
      {
        name: "POST /api/patients/",
        method: "POST",
        path: "/api/patients/",
        auth: true,
        body: () => ({ name: "Profile Created", date_of_birth: "1985-05-05", gender: "unknown" }),
      },
      {
        name: "PATCH /api/patients/{id}/",
        method: "PATCH",
        path: `/api/patients/${patchId}/`,
        auth: true,
        body: () => ({ address: "Profile Street 1" }),
      },
    ];
    const variants: Variant[] = [
      { name: "unminified", summaries: new Map() },
      { name: "minified", summaries: new Map() },
    ];
    log(`Database: ${version}. Profiling ${routes.length} routes, ${DURATION} s each, per bundle`);
    for (const variant of variants) await profileVariant(variant, routes, endpoint.url, data.big.email);
    const section = report(variants, routes, version, (Date.now() - started) / 1000);
    writeSection(section);
    log(`\n${section}\n\nWrote the CPU profile section of docs/BENCHMARKS.md`);
  } finally {
    await endpoint.close();
    await drop();
  }
}

await main();
