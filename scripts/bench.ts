/**
 * `npm run bench [-- --duration 5 --connections 10 --db-latency 25 --no-write]`
 *
 * One run on one machine, everything side by side:
 * - a fresh database (PostgreSQL when BENCH_DATABASE_URL is set or a server
 *   answers on 127.0.0.1:5432, else PGlite, loudly), migrated, seeded with
 *   one owner of 100,000 patients and one of 1,000, doctors and users;
 * - the Worker as it would be deployed: the minified bundle of
 *   `wrangler deploy --dry-run`, run by Miniflare (workerd, no dev proxy);
 * - each route under autocannon: requests/s, p50/p99, non-2xx, database
 *   round trips per request (counted at the local endpoint) and the Worker
 *   process's CPU milliseconds per request (/proc/<pid>/stat);
 * - ceilings measured in the same run: GET /api/health/ (the runtime) and the
 *   route's own SQL replayed straight at the endpoint (the database);
 * - every route's p50 again with the endpoint holding each answer
 *   `--db-latency` ms, as a far Neon region would;
 * - on PostgreSQL, what each route costs the database per request (its
 *   statements' time, buffers, WAL and WAL flushes: scripts/lib/db-cost.ts);
 * - the patient routes' Worker CPU against GET /api/health/ready/'s, in
 *   alternated rounds, against ready at its own rate and at the route's,
 *   and the read's CPU by process (Worker, this process, PostgreSQL);
 * - one patient read with READ_AUDIT_COMMIT=async against durable, on two
 *   instances of the same bundle, alternated;
 * - the bundle size, and PBKDF2's cost per hash (in Node and in workerd)
 *   against a login's Worker CPU and the Workers Free plan's 10 ms.
 * Writes docs/BENCHMARKS.md and exits non-zero if a request failed
 * unexpectedly or a route went over its round-trip budget.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Miniflare } from "miniflare";
import pg from "pg";
import { hashPassword } from "../src/lib/password.ts";
import { sha256 } from "../src/lib/tokens.ts";
import { buildBundle, startBundle } from "./lib/bundle.ts";
import { type DbCost, type DbCounters, openDbCounters } from "./lib/db-cost.ts";
import { createThrowawayDatabase } from "./lib/migrate.ts";
import { type Backend, openBackend } from "./neon-local/backends.ts";
import { type NeonLocalServer, startNeonLocalServer } from "./neon-local/server.ts";

/** Run as `npm run bench`, not imported by scripts/profile.ts for its helpers (whose arguments are not ours). */
const isMain = process.argv[1] === fileURLToPath(import.meta.url);
const { values: opts } = parseArgs({
  args: isMain ? process.argv.slice(2) : [],
  options: {
    duration: { type: "string", default: "5" },
    connections: { type: "string", default: "10" },
    "db-latency": { type: "string", default: "25" },
    "latency-duration": { type: "string", default: "3" },
  },
});
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);
const DB_LATENCY = Number(opts["db-latency"]);
const LATENCY_DURATION = Number(opts["latency-duration"]);
const JWT_SECRET = randomBytes(32).toString("base64url");
export const PASSWORD = "a benchmark pass phrase";
/** The Worker's DATABASE_URL as the endpoint counts it (the driver sends postgresql://). */
export const WORKER_DATABASE_URL = "postgres://bench:bench@127.0.0.1/bench";
const WORKER_CONNECTION = WORKER_DATABASE_URL.replace(/^postgres:/, "postgresql:");
const BIG = 100_000;
const SMALL = 1_000;
/** The CPU-ratio phase: rounds of (ready, route, ready at the route's rate), seconds each. */
const RATIO_ROUNDS = 5;
const RATIO_SECONDS = Math.max(1, Math.min(DURATION, 2));
/** How deep the benchmarked cursor page is in the big owner's list. */
const DEEP_CURSOR_ROWS = 5_000;
/** Rounds of each READ_AUDIT_COMMIT value on the patient read, alternated. */
const COMMIT_ROUNDS = 2;
/** The Workers Free plan's CPU time per request (developers.cloudflare.com/workers/platform/limits). */
const FREE_PLAN_CPU_MS = 10;

export const log = (line: string) => process.stdout.write(`${line}\n`);
export const root = new URL("..", import.meta.url).pathname;

// ---------- database ----------

async function postgresReachable(url: string) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

export async function openDatabase(): Promise<{
  backend: Backend;
  version: string;
  drop: () => Promise<void>;
  /** PostgreSQL only: the server and the throwaway database's name, for its statistics. */
  server?: { url: string; database: string };
}> {
  const serverUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  if (process.env.BENCH_DATABASE_URL || (await postgresReachable(serverUrl))) {
    const db = await createThrowawayDatabase(serverUrl, "api_bench");
    const backend = await openBackend({ databaseUrl: db.url });
    const [row] = (await backend.query({ query: "SHOW server_version", params: [] })).rows;
    return { backend, version: `PostgreSQL ${row[0]}`, drop: db.drop, server: { url: serverUrl, database: db.name } };
  }
  log("\n!!! No PostgreSQL server reachable (set BENCH_DATABASE_URL): benchmarking on PGlite, which is single-threaded WASM.");
  log("!!! Its figures say little about production. Run with PostgreSQL for the real numbers.\n");
  const backend = await openBackend({});
  return { backend, version: "PGlite (embedded, in memory)", drop: async () => {} };
}

function progress(label: string, done: number, total: number) {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stdout.write(
    `${process.stdout.isTTY ? "\r" : ""}  ${label.padEnd(28)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done.toLocaleString()}/${total.toLocaleString()}`,
  );
  if (done === total || !process.stdout.isTTY) process.stdout.write("\n");
}

const q = (backend: Backend, query: string, params: (string | null)[] = []) => backend.query({ query, params });

export interface Seed {
  big: { id: string; email: string };
  small: { id: string; email: string };
  doctorIds: string[];
  bigPatientIds: string[];
}

export async function seed(backend: Backend): Promise<Seed> {
  log("Seeding");
  const passwordHash = await hashPassword(PASSWORD, 100_000);
  const users = await q(
    backend,
    `INSERT INTO users (email, name, password_hash)
     SELECT 'bench-' || g || '@example.com', 'Bench User ' || g, $1 FROM generate_series(1, 50) g RETURNING id, email`,
    [passwordHash],
  );
  progress("users", 50, 50);
  const [big, small] = users.rows.map(([id, email]) => ({ id: String(id), email: String(email) }));
  await q(
    backend,
    `INSERT INTO doctors (created_by, name, specialization, license_number)
     SELECT $1, 'Dr Bench ' || g, (ARRAY['Cardiology','Neurology','Oncology','Pediatrics'])[1 + g % 4], 'BENCH-' || g
     FROM generate_series(1, 2000) g`,
    [big.id],
  );
  progress("doctors", 2000, 2000);
  const batch = 10_000;
  for (let start = 0; start < BIG; start += batch) {
    await q(
      backend,
      `INSERT INTO patients (owner_id, name, date_of_birth, gender, phone, email, created_at, updated_at)
       SELECT $1, 'Patient ' || g, DATE '1940-01-01' + (g % 25000), (ARRAY['male','female','other','unknown'])[1 + g % 4],
              '+1 555 ' || lpad(g::text, 7, '0'), 'patient' || g || '@example.com',
              now() - make_interval(secs => ${BIG} - g), now()
       FROM generate_series($2::int, $3::int) g`,
      [big.id, String(start + 1), String(start + batch)],
    );
    progress(`patients (owner of ${BIG.toLocaleString()})`, start + batch, BIG);
  }
  await q(
    backend,
    `INSERT INTO patients (owner_id, name, date_of_birth, gender, created_at)
     SELECT $1, 'Small ' || g, DATE '1960-01-01', 'female', now() - make_interval(secs => ${SMALL} - g) FROM generate_series(1, ${SMALL}) g`,
    [small.id],
  );
  progress(`patients (owner of ${SMALL.toLocaleString()})`, SMALL, SMALL);
  // As a database in service would be: statistics gathered, visibility map set.
  await q(backend, "VACUUM (ANALYZE)");
  const doctorIds = (await q(backend, "SELECT id FROM doctors ORDER BY created_at LIMIT 50")).rows.map((r) => String(r[0]));
  const bigPatientIds = (
    await q(backend, "SELECT id FROM patients WHERE owner_id = $1 ORDER BY created_at LIMIT 60000", [big.id])
  ).rows.map((r) => String(r[0]));
  return { big, small, doctorIds, bigPatientIds };
}

/** Refresh tokens made straight in the database, one per refresh request the load will send. */
async function seedRefreshTokens(backend: Backend, userId: string, count: number): Promise<string[]> {
  const tokens = Array.from({ length: count }, () => randomBytes(32).toString("base64url"));
  const hashes = await Promise.all(tokens.map((t) => sha256(t)));
  for (let i = 0; i < hashes.length; i += 1000) {
    const chunk = hashes.slice(i, i + 1000);
    await q(
      backend,
      `INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
       SELECT $1, gen_random_uuid(), h, now() + interval '1 day' FROM unnest($2::text[]) h`,
      [userId, `{${chunk.join(",")}}`],
    );
  }
  return tokens;
}

// ---------- the Worker ----------

/** The name of a process and the fields of its /proc/<pid>/stat after the name (state first); throws once it has ended. */
function procStat(pid: number | string): { name: string; fields: string[] } {
  const [, name, rest] = /^\d+ \((.*)\) (.*)$/s.exec(readFileSync(`/proc/${pid}/stat`, "utf8").trim()) ?? [];
  return { name, fields: rest.split(" ") };
}

/** The processes named `comm`, with their stat fields. */
function processesNamed(comm: string): { pid: number; fields: string[] }[] {
  const found: { pid: number; fields: string[] }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { name, fields } = procStat(entry);
      if (name === comm) found.push({ pid: Number(entry), fields });
    } catch {}
  }
  return found;
}

/** utime + stime of a stat line's fields, in milliseconds (clock ticks are 1/100 s on Linux). */
const statCpuMs = (fields: string[]) => (Number(fields[11]) + Number(fields[12])) * 10;

/** The workerd processes Miniflare started (children of this process). */
function workerdPids(): number[] {
  return processesNamed("workerd")
    .filter((p) => Number(p.fields[1]) === process.pid)
    .map((p) => p.pid);
}

/** Starts a Miniflare instance and returns it with its origin and its own workerd process. */
async function startWorkerd(start: () => Miniflare): Promise<{ mf: Miniflare; origin: string; pid: number }> {
  const known = new Set(workerdPids());
  const mf = start();
  const origin = (await mf.ready).origin;
  const pid = workerdPids().find((p) => !known.has(p));
  if (pid === undefined) throw new Error("workerd process not found");
  return { mf, origin, pid };
}

/** User + system CPU time of a process, in milliseconds. */
const cpuMs = (pid: number) => statCpuMs(procStat(pid).fields);

/**
 * User + system CPU time of the PostgreSQL server's processes (every backend,
 * the WAL writer, the checkpointer…), in milliseconds; 0 without a server on
 * this machine. Processes that ended meanwhile are not counted, so a delta
 * is a lower bound; the benchmark's pooled connections live throughout.
 */
const postgresCpuMs = () => processesNamed("postgres").reduce((sum, p) => sum + statCpuMs(p.fields), 0);

/**
 * A Worker that does a login's PBKDF2 work and nothing else (the calls of
 * src/lib/password.ts: import the password as a key, derive 256 bits with
 * SHA-256, a 16-byte salt and 100,000 iterations) on /hash, and nothing at all
 * on any other path.
 */
function startPbkdf2Worker(): Miniflare {
  const script = `export default {
    async fetch(request) {
      if (new URL(request.url).pathname !== "/hash") return new Response("nothing");
      const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(${JSON.stringify(PASSWORD)}), "PBKDF2", false, ["deriveBits"]);
      const salt = crypto.getRandomValues(new Uint8Array(16));
      await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 100000 }, key, 256);
      return new Response("hashed");
    },
  };`;
  return new Miniflare({ modules: true, script, compatibilityDate: "2026-04-01", host: "127.0.0.1", port: 0 });
}

/** PBKDF2's CPU per hash in workerd: the process's CPU for `count` hashing requests, less that of as many empty ones. */
async function pbkdf2CpuMs(origin: string, pid: number, count = 50): Promise<number> {
  const run = async (path: string, n: number) => {
    for (let i = 0; i < n; i++) await (await fetch(`${origin}${path}`)).text();
  };
  await run("/", 5);
  await run("/hash", 5);
  const c0 = cpuMs(pid);
  await run("/", count);
  const c1 = cpuMs(pid);
  await run("/hash", count);
  const c2 = cpuMs(pid);
  return (c2 - c1 - (c1 - c0)) / count;
}

// ---------- load ----------

interface RouteSpec {
  name: string;
  method: "GET" | "POST" | "PATCH";
  path: string;
  body?: () => unknown;
  auth?: boolean;
  /** Round trips allowed per request. */
  budget: number;
  /** Whose access token to send (the 100,000-patient owner's by default). */
  token?: string;
  /** Kind, for the targets: read, write or list. */
  kind: "health" | "read" | "write" | "list" | "auth";
  /** Replay its SQL at the endpoint for the database ceiling. */
  ceiling?: boolean;
}

interface Measured {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  roundTrips: number;
  /** SQL statements the endpoint ran per request (a transaction of several counts each). */
  statements: number;
  cpuMsPerRequest: number;
  /** CPU per request of this process: the load generator and the local endpoint (ms). */
  benchCpuMsPerRequest: number;
  /** CPU per request of every process of the PostgreSQL server (ms; PostgreSQL only, else 0). */
  postgresCpuMsPerRequest: number;
  /** PostgreSQL only: the database's cost per request. */
  db?: DbCost;
}

async function load(
  origin: string,
  spec: RouteSpec,
  token: string,
  seconds: number,
  endpoint: NeonLocalServer,
  pid: number,
  counters?: DbCounters,
): Promise<Measured> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (spec.auth !== false) headers.authorization = `Bearer ${token}`;
  const window = await counters?.start();
  const before = {
    stats: endpoint.stats(WORKER_CONNECTION),
    all: endpoint.stats().requests,
    cpu: cpuMs(pid),
    bench: process.cpuUsage(),
    postgres: postgresCpuMs(),
  };
  const result = await autocannon({
    url: origin,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: spec.method,
        path: spec.path,
        headers,
        setupRequest: (req) => (spec.body ? { ...req, body: JSON.stringify(spec.body()) } : req),
      },
    ],
  });
  // Let requests still in flight when autocannon stopped reach the database before counting.
  await new Promise((r) => setTimeout(r, 300));
  const bench = process.cpuUsage(before.bench);
  const after = { stats: endpoint.stats(WORKER_CONNECTION), all: endpoint.stats().requests, cpu: cpuMs(pid), postgres: postgresCpuMs() };
  const requests = result.requests.total;
  // Round trips per request sent: a request cut off at the end still made its round trips.
  const sent = Math.max(result.requests.sent, requests);
  const db = await window?.finish(sent, after.all - before.all);
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    roundTrips: sent ? (after.stats.requests - before.stats.requests) / sent : 0,
    statements: sent ? (after.stats.queries - before.stats.queries) / sent : 0,
    cpuMsPerRequest: sent ? (after.cpu - before.cpu) / sent : 0,
    benchCpuMsPerRequest: sent ? (bench.user + bench.system) / 1000 / sent : 0,
    postgresCpuMsPerRequest: sent ? (after.postgres - before.postgres) / sent : 0,
    db,
  };
}

/** The route's last SQL request, sent straight to the endpoint: what the database alone sustains. */
async function ceiling(endpoint: NeonLocalServer, seconds: number): Promise<number | undefined> {
  const last = endpoint.lastRequest();
  if (!last) return undefined;
  const result = await autocannon({
    url: endpoint.url,
    connections: CONNECTIONS,
    duration: seconds,
    method: "POST",
    // Counted apart from the Worker's own round trips.
    headers: { ...last.headers, "neon-connection-string": `${WORKER_CONNECTION}?replay`, "content-type": "text/plain;charset=UTF-8" },
    body: last.body,
  });
  return result.non2xx > 0 ? undefined : result.requests.average;
}

// ---------- report ----------

export const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (n: number) => `${fmt(n * 100)} %`;

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(values.length, 1);

/** "Database cost per request": PostgreSQL's own counters around each route's load (scripts/lib/db-cost.ts). */
function dbCostReport(rows: { spec: RouteSpec; m: Measured }[], onPostgres: boolean): string {
  const heading = "## Database cost per request";
  if (!onPostgres) {
    return `${heading}\n\nn/a: this run was on PGlite, whose statistics say nothing about a database server. Run it with PostgreSQL (\`BENCH_DATABASE_URL\`, or a server on 127.0.0.1:5432).`;
  }
  const measured = rows.filter((r) => r.m.db && r.spec.kind !== "health");
  const lines = measured.map(({ spec, m }) => {
    const d = m.db as DbCost;
    const wal = (text: string) => (d.othersActive ? `${text} †` : text);
    return `| ${spec.name}${d.complete ? "" : " ‡"} | ${fmt(d.dbMs, 3)} | ${fmt(d.blksHit, 1)} | ${fmt(d.blksRead, 2)} | ${fmt(d.transactions, 2)} | ${wal(fmt(d.walBytes))} | ${wal(fmt(d.walRecords, 1))} | ${wal(fmt(d.walFpi, 2))} | ${wal(fmt(d.walSync, 3))} |`;
  });
  const marked = measured.filter((r) => (r.m.db as DbCost).othersActive).length;
  const incomplete = measured.filter((r) => !(r.m.db as DbCost).complete).length;
  return `${heading}

Read from PostgreSQL's cumulative statistics around each route's load run above (the same requests as its row in the first table), divided by the requests sent; no EXPLAIN and no extension (pg_stat_statements would need \`shared_preload_libraries\`, a server restart).

| route | DB time ms | blocks hit | blocks read | transactions | WAL bytes | WAL records | full-page images | WAL flushes |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${lines.join("\n")}

- *DB time*: \`pg_stat_database.active_time\` of the benchmark's database: time its server processes spent running the route's statements, the commit's wait for the WAL flush included.
- *blocks hit / read*: \`blks_hit\` (found in shared buffers) and \`blks_read\` (asked of the kernel, which may still have had them cached).
- *transactions*: \`xact_commit\` + \`xact_rollback\`, less the one-page catalog read that makes each pooled connection report at the end (PostgreSQL 15 server processes report at most once a second, idle ones after 10 s): 1.00 per round trip when every request was counted${incomplete ? "; ‡ marks a route whose counters were still short of the endpoint's count after 12 s" : ""}.
- *WAL*: \`pg_stat_wal\` deltas (\`wal_bytes\`, \`wal_records\`, \`wal_fpi\`, \`wal_sync\`), which count the **whole server**, and each reading waits three WAL-writer cycles so that asynchronous commits are flushed inside their own window. A read writes WAL too: its audit row, its commit record, and the first change of each page after a checkpoint is a full-page image (which is why the figures move with checkpoint timing). *WAL flushes* are fdatasync calls, by a committing process or the WAL writer; concurrent commits share one (group commit), so under load it is below one per write.
- ${marked ? `† marks WAL figures taken while other databases on the server reported activity, or databases were created or dropped (${marked} of ${measured.length} routes): someone else's WAL may be in them.` : "No other database on the server reported activity during these windows: the WAL figures are this benchmark's alone."}
- Autovacuum is off for the benchmark's tables (after a \`VACUUM (ANALYZE)\` of the seed), so that a background vacuum is not counted as some route's cost.`;
}

/** "Read-audit commit": the same patient read with READ_AUDIT_COMMIT durable and async. */
function commitReport(route: string, modes: { mode: string; rounds: Measured[] }[]): string {
  const avg = (rounds: Measured[], pick: (m: Measured) => number) => mean(rounds.map(pick));
  const dbAvg = (rounds: Measured[], pick: (d: DbCost) => number, digits: number) =>
    rounds.every((m) => m.db)
      ? fmt(
          avg(rounds, (m) => pick(m.db as DbCost)),
          digits,
        )
      : "n/a";
  const othersActive = modes.some(({ rounds: r }) => r.some((m) => m.db?.othersActive));
  const table = [
    "| READ_AUDIT_COMMIT | req/s | p50 ms | p99 ms | round trips | statements | Worker CPU ms/req | DB time ms/req | WAL bytes/req | WAL flushes/req | WAL writes/req |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...modes.map(({ mode, rounds: r }) => {
      const cells = [
        fmt(avg(r, (m) => m.rps)),
        fmt(
          avg(r, (m) => m.p50),
          1,
        ),
        fmt(
          avg(r, (m) => m.p99),
          1,
        ),
        fmt(
          avg(r, (m) => m.roundTrips),
          2,
        ),
        fmt(
          avg(r, (m) => m.statements),
          2,
        ),
        fmt(
          avg(r, (m) => m.cpuMsPerRequest),
          2,
        ),
        dbAvg(r, (d) => d.dbMs, 3),
        dbAvg(r, (d) => d.walBytes, 0) + (r.some((m) => m.db?.othersActive) ? " †" : ""),
        dbAvg(r, (d) => d.walSync, 3),
        dbAvg(r, (d) => d.walWrite, 3),
      ];
      return `| \`${mode}\` | ${cells.join(" | ")} |`;
    }),
  ].join("\n");
  const rounds = modes
    .map(({ mode, rounds: r }) => `${mode} ${r.map((m) => fmt(m.rps)).join(" / ")} req/s, p50 ${r.map((m) => fmt(m.p50)).join(" / ")} ms`)
    .join("; ");
  const [durable, async] = modes.map(({ rounds: r }) => ({ rps: avg(r, (m) => m.rps), p50: avg(r, (m) => m.p50) }));
  return `## Read-audit commit: \`durable\` and \`async\`

\`${route}\` on two workerd instances of the same bundle, one with \`READ_AUDIT_COMMIT=async\`, in ${modes[0].rounds.length} alternated rounds each of the same length as the routes above; the figures are the rounds' means (rounds: ${rounds}). \`async\` answered **${fmt(async.rps / Math.max(durable.rps, 1e-9), 2)}×** the requests per second of \`durable\`, p50 ${fmt(durable.p50, 1)} → ${fmt(async.p50, 1)} ms.

${table}

- *statements*: SQL statements the endpoint ran per request, in the request's one round trip: \`async\` sends \`SET LOCAL synchronous_commit = off\` before the read, in the same transaction.
- *WAL flushes*: fdatasync calls per request. With \`durable\` each commit waits for one (shared by commits that arrive together); with \`async\` the WAL writer flushes every \`wal_writer_delay\` (200 ms) instead, whatever the number of reads. The WAL itself (the audit row and the commit record) is the same.
- ${othersActive ? "† Other databases on the server were active during some of these rounds: the WAL figures (server-wide) may hold their WAL too.\n- " : ""}Here a flush is an fdatasync on this machine's disk. On Neon it is the compute waiting for a majority of safekeepers to acknowledge the WAL over the network, which this run does not measure. What a crash may lose with \`async\`, and why the default stays \`durable\`: README, "Read-audit durability".`;
}

/** "Login CPU and the Workers Free plan": PBKDF2's share of a login's Worker CPU, against 10 ms. */
type Split = { rps: number; worker: number; bench: number; postgres: number; total: number };

/** The CPU-ratio rounds (Worker CPU against ready's, at ready's own rate and at the route's) and the read's CPU by process. */
function ratioReport(
  rounds: Map<string, { route: Measured; ready: Measured; readyAtRate: Measured; delayMs: number }[]>,
  readSplit: { read: Split; ready: Split },
  onPostgres: boolean,
): string {
  const lines = [...rounds].map(([name, rs]) => {
    const cells = rs.map(
      (r) =>
        `${fmt(r.route.cpuMsPerRequest, 2)} ms at ${fmt(r.route.rps)}/s; ready ${fmt(r.ready.cpuMsPerRequest, 2)} at ${fmt(r.ready.rps)}/s, ${fmt(r.readyAtRate.cpuMsPerRequest, 2)} at ${fmt(r.readyAtRate.rps)}/s (+${fmt(r.delayMs, 1)} ms)`,
    );
    return `| ${name} | ${cells.join(" · ")} |`;
  });
  const row = (label: string, x: Split) =>
    `| ${label} | ${fmt(x.rps)} | ${fmt(x.worker, 2)} | ${fmt(x.bench, 2)} | ${onPostgres ? fmt(x.postgres, 2) : "—"} | ${fmt(x.total, 2)} |`;
  return `## Worker CPU against \`GET /api/health/ready/\`

Each round measures the route, then ready twice: at ready's own rate (the database answers \`SELECT 1\` at once), and at the route's rate, with the local endpoint holding each answer back by the difference of the two routes' latencies (a closed loop of ${CONNECTIONS} connections runs at ${CONNECTIONS} / latency). workerd's CPU per request depends on the rate it is asked at, not only on the code it runs: requests that wait longer for the database leave its event loop fewer events per wake-up, so ready itself costs more per request at a slower rate (compare the two ready figures of each round). The targets compare each route with ready at the same rate; the ratio at ready's own rate is shown beside it.

| route | per round: route's Worker CPU per request and rate; ready's at its own rate and at the route's |
| --- | --- |
${lines.join("\n")}

**Where the read's throughput goes** (CPU per request by process, medians of the same rounds; two cores shared by all of them):

| | req/s | workerd | load generator + local endpoint (Node) | PostgreSQL (all its processes) | total |
| --- | ---: | ---: | ---: | ---: | ---: |
${row("GET /api/health/ready/", readSplit.ready)}
${row("GET /api/patients/{id}/", readSplit.read)}

On this machine the database, the local endpoint and the load generator share the Worker's two cores, so a route's throughput is bounded by the CPU of all of them together, not by the Worker's. A patient read is a write transaction: its audit row is parsed, planned, inserted with its indexes and committed, where ready runs \`SELECT 1\`.`;
}

function loginReport(loginCpu: number, pbkdf2: number, pbkdf2Node: number): string {
  const rest = loginCpu - pbkdf2;
  const over = loginCpu > FREE_PLAN_CPU_MS;
  // PBKDF2's cost is linear in its iterations: what would fit the limit here, in steps of 10,000 (config's minimum).
  const fitting = Math.floor((((FREE_PLAN_CPU_MS - rest) / pbkdf2) * 100_000) / 10_000) * 10_000;
  const verdict = over
    ? `**over the limit**: a login at the default \`PASSWORD_ITERATIONS\` (100,000) took about ${fmt(loginCpu, 1)} ms of CPU here`
    : `**under the limit**: a login at the default \`PASSWORD_ITERATIONS\` (100,000) took about ${fmt(loginCpu, 1)} ms of CPU here, ${fmt(FREE_PLAN_CPU_MS - loginCpu, 1)} ms to spare`;
  return `## Login CPU and the Workers Free plan

- A login (\`POST /api/auth/login/\`, two round trips) cost **${fmt(loginCpu, 2)} ms** of Worker CPU (the first table).
- PBKDF2-SHA-256 at 100,000 iterations cost **${fmt(pbkdf2, 2)} ms** of CPU per hash in workerd (a Worker that does only that, less an empty request's CPU; ${fmt(pbkdf2Node, 1)} ms in Node's WebCrypto, a different implementation): **${pct(pbkdf2 / loginCpu)}** of a login's CPU. Everything else a login does (validating the body, two database round trips, signing the access token, the refresh token) is the remaining ${fmt(rest, 2)} ms.
- Workers Free plan, ${FREE_PLAN_CPU_MS} ms of CPU per request: ${verdict}. Registration hashes once too; a password change hashes twice (the check and the new hash), and so does a login that upgrades an old hash. This machine's CPU is not Cloudflare's, so a margin of a millisecond or two either way decides nothing.
- ${
    over
      ? `What to configure (README, "Passwords"): the Workers Paid plan, whose CPU limit is 30 s per request by default and set with \`[limits] cpu_ms\` in wrangler.toml (e.g. \`cpu_ms = 100\`, which still stops a runaway request early and leaves room for two hashes); or, knowingly, fewer \`PASSWORD_ITERATIONS\`: ${fitting >= 10_000 ? `about ${fitting.toLocaleString("en-US")} would fit the limit here` : "even the minimum of 10,000 would not fit the limit here"} — each new hash is then that much cheaper to attack offline (OWASP asks 600,000 for PBKDF2-HMAC-SHA-256; Workers already cap it at 100,000), and existing hashes keep the count stored in them, so their logins cost the same until their passwords change.`
      : `So the Free plan is enough for logins on hardware like this; the Paid plan's \`[limits] cpu_ms\` is there for a margin (README, "Passwords").`
  }`;
}

/** Syncs one account's feed from the start until has_more is false, one page at a time. */
async function fullSync(origin: string, token: string, endpoint: NeonLocalServer) {
  const before = endpoint.stats(WORKER_CONNECTION).requests;
  const started = performance.now();
  let since = "";
  let pages = 0;
  let changes = 0;
  for (;;) {
    const res = await fetch(`${origin}/api/sync/?limit=500${since ? `&since=${since}` : ""}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (res.status !== 200) throw new Error(`sync page ${pages + 1}: HTTP ${res.status}`);
    const page = (await res.json()) as { changes: unknown[]; cursor: string; has_more: boolean };
    pages++;
    changes += page.changes.length;
    since = page.cursor;
    if (!page.has_more) break;
  }
  return { pages, changes, seconds: (performance.now() - started) / 1000, roundTrips: endpoint.stats(WORKER_CONNECTION).requests - before };
}

export function versions() {
  const pkg = (name: string) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
  return `Node ${process.version}, workerd ${pkg("workerd")} (Miniflare ${pkg("miniflare")}), wrangler ${pkg("wrangler")}, hono ${pkg("hono")}, drizzle-orm ${pkg("drizzle-orm")}, @neondatabase/serverless ${pkg("@neondatabase/serverless")}, autocannon ${pkg("autocannon")}`;
}

async function main() {
  const started = Date.now();
  const { backend, version, drop, server } = await openDatabase();
  const endpoint = await startNeonLocalServer(backend);
  log(`Database: ${version} behind the local Neon endpoint ${endpoint.url}`);

  const instances: Miniflare[] = [];
  let counters: DbCounters | undefined;
  let failed = false;
  try {
    const data = await seed(backend);
    if (server) {
      // Autovacuum would run in the middle of some route's load and be counted as its cost: this throwaway database goes without.
      await q(
        backend,
        `DO $$ DECLARE t regclass; BEGIN
           FOR t IN SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'
           LOOP EXECUTE format('ALTER TABLE %s SET (autovacuum_enabled = false)', t); END LOOP; END $$`,
      );
      counters = await openDbCounters(server.url, server.database, backend);
    }
    const bundle = buildBundle();
    log(`Worker bundle: ${fmt(bundle.gzipBytes / 1024, 1)} KiB gzip (wrangler deploy --dry-run --minify)`);
    const bindings = { DATABASE_URL: WORKER_DATABASE_URL, NEON_LOCAL_ENDPOINT: endpoint.url, JWT_SECRET, ALLOWED_HOSTS: "*" };
    const worker = await startWorkerd(() => startBundle(bundle.path, bindings));
    instances.push(worker.mf);
    const { origin, pid } = worker;

    const login = async (email: string) => {
      const res = await fetch(`${origin}/api/auth/login/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      return ((await res.json()) as { access: string }).access;
    };
    const bigToken = await login(data.big.email);
    const smallToken = await login(data.small.email);
    const expectedRefreshes = Math.ceil(DURATION * 2000 + LATENCY_DURATION * 2000);
    const refreshTokens = await seedRefreshTokens(backend, data.small.id, expectedRefreshes);

    // The cursor page 5,000 rows deep, reached as a client would: 250 `next` links of 20 from `cursor=`.
    let deepCursorPage = "/api/patients/?limit=20&cursor=";
    for (let i = 0; i < DEEP_CURSOR_ROWS / 20; i++) {
      const res = await fetch(`${origin}${deepCursorPage}`, { headers: { authorization: `Bearer ${bigToken}` } });
      const next = ((await res.json()) as { next: string | null }).next;
      if (!next) throw new Error(`the cursor walk ended after ${i + 1} pages`);
      deepCursorPage = new URL(next).pathname + new URL(next).search;
    }
    const patientId = data.bigPatientIds[0];
    const patchId = data.bigPatientIds[1];
    let nextPair = 0;
    const routes: RouteSpec[] = [
      { name: "GET /api/health/", method: "GET", path: "/api/health/", auth: false, budget: 0, kind: "health" },
      // One round trip and nothing else: what the fetch to the database costs by itself.
      { name: "GET /api/health/ready/", method: "GET", path: "/api/health/ready/", auth: false, budget: 1, kind: "read", ceiling: true },
      { name: "GET /api/patients/ (100k owner)", method: "GET", path: "/api/patients/", budget: 1, kind: "list", ceiling: true },
      { name: "GET /api/patients/ (1k owner)", method: "GET", path: "/api/patients/", budget: 1, kind: "list", token: smallToken },
      {
        name: "GET /api/patients/?offset=5000 (100k)",
        method: "GET",
        path: "/api/patients/?offset=5000",
        budget: 1,
        kind: "list",
        ceiling: true,
      },
      {
        name: "GET /api/patients/?cursor= (100k, first page)",
        method: "GET",
        path: "/api/patients/?limit=20&cursor=",
        budget: 1,
        kind: "list",
      },
      {
        name: "GET /api/patients/?cursor=… at 5,000 (100k)",
        method: "GET",
        path: deepCursorPage,
        budget: 1,
        kind: "list",
        ceiling: true,
      },
      {
        name: "GET /api/patients/?offset=500 (1k)",
        method: "GET",
        path: "/api/patients/?offset=500",
        budget: 1,
        kind: "list",
        token: smallToken,
      },
      { name: "GET /api/patients/{id}/", method: "GET", path: `/api/patients/${patientId}/`, budget: 1, kind: "read", ceiling: true },
      {
        name: "POST /api/patients/",
        method: "POST",
        path: "/api/patients/",
        body: () => ({ name: "Bench Created", date_of_birth: "1985-05-05", gender: "unknown" }),
        budget: 1,
        kind: "write",
        ceiling: true,
      },
      {
        name: "PATCH /api/patients/{id}/",
        method: "PATCH",
        path: `/api/patients/${patchId}/`,
        body: () => ({ address: "Bench Street 1" }),
        budget: 1,
        kind: "write",
        ceiling: true,
      },
      {
        name: "POST /api/mappings/",
        method: "POST",
        path: "/api/mappings/",
        // A fresh pair every time, so every request is a 201.
        body: () => {
          const i = nextPair++;
          return {
            patient_id: data.bigPatientIds[i % data.bigPatientIds.length],
            doctor_id: data.doctorIds[Math.floor(i / data.bigPatientIds.length)],
          };
        },
        budget: 1,
        kind: "write",
        ceiling: true,
      },
      {
        name: "GET /api/mappings/patient/{id}/",
        method: "GET",
        path: `/api/mappings/patient/${patientId}/`,
        budget: 1,
        kind: "list",
        ceiling: true,
      },
      {
        name: "GET /api/doctors/?search=…",
        method: "GET",
        path: "/api/doctors/?search=bench%2012",
        budget: 1,
        kind: "list",
        ceiling: true,
      },
      {
        name: "POST /api/auth/login/",
        method: "POST",
        path: "/api/auth/login/",
        auth: false,
        body: () => ({ email: data.big.email, password: PASSWORD }),
        budget: 2,
        kind: "auth",
      },
      {
        name: "POST /api/auth/refresh/",
        method: "POST",
        path: "/api/auth/refresh/",
        auth: false,
        body: () => ({ refresh: refreshTokens.pop() }),
        budget: 1,
        kind: "auth",
        ceiling: true,
      },
    ];

    const rows: { spec: RouteSpec; m: Measured; ceiling?: number; p50Far?: number }[] = [];
    const problems0: string[] = [];
    log(`\nLoad: ${CONNECTIONS} connections, ${DURATION} s per route`);
    for (const spec of routes) {
      const m = await load(origin, spec, spec.token ?? bigToken, DURATION, endpoint, pid, counters);
      const c = spec.ceiling ? await ceiling(endpoint, Math.min(DURATION, 3)) : undefined;
      rows.push({ spec, m, ceiling: c });
      log(
        `  ${spec.name.padEnd(40)} ${fmt(m.rps).padStart(6)} req/s  p50 ${fmt(m.p50)} ms  p99 ${fmt(m.p99)} ms  RT ${fmt(m.roundTrips, 2)}  CPU ${fmt(m.cpuMsPerRequest, 2)} ms${m.db ? `  DB ${fmt(m.db.dbMs, 3)} ms  WAL ${fmt(m.db.walBytes)} B` : ""}`,
      );
    }

    // Worker CPU of the CRUD routes against one SELECT 1 round trip (GET /api/health/ready/), in alternated rounds so
    // that a busy machine's drift touches both sides of every ratio alike; the median over rounds is kept. Each round
    // measures the route, then ready twice: at its own rate (the database answers SELECT 1 at once) and at the
    // route's rate, the database's answer delayed by what the route's statement takes. workerd's CPU per request
    // grows as requests arrive more slowly (fewer events per wake-up of its event loop: ready itself costs a third to
    // a half more per request at a third of its rate), so only the second compares the two routes' code under the same load;
    // both ratios are reported.
    const ratioNames = [
      "GET /api/patients/{id}/",
      "GET /api/patients/ (100k owner)",
      "POST /api/patients/",
      "PATCH /api/patients/{id}/",
    ] as const;
    type RatioName = (typeof ratioNames)[number];
    const readySpec = routes.find((r) => r.name === "GET /api/health/ready/") as RouteSpec;
    interface RatioRound {
      route: Measured;
      ready: Measured;
      /** Ready at the route's rate, and the delay that took. */
      readyAtRate: Measured;
      delayMs: number;
    }
    const ratioRounds = new Map<RatioName, RatioRound[]>(ratioNames.map((n) => [n, []]));
    log(`\nWorker CPU against GET /api/health/ready/, ${RATIO_ROUNDS} alternated rounds of ${RATIO_SECONDS} s`);
    for (let round = 0; round < RATIO_ROUNDS; round++) {
      for (const name of ratioNames) {
        const spec = routes.find((r) => r.name === name) as RouteSpec;
        const ready = await load(origin, readySpec, bigToken, RATIO_SECONDS, endpoint, pid);
        const m = await load(origin, spec, spec.token ?? bigToken, RATIO_SECONDS, endpoint, pid);
        // A closed loop of CONNECTIONS clients runs at CONNECTIONS / latency: ready reaches the route's rate when
        // its answers take as long as the route's.
        const delayMs = Math.max(0, (1000 * CONNECTIONS) / Math.max(m.rps, 1) - (1000 * CONNECTIONS) / Math.max(ready.rps, 1));
        endpoint.setLatency(delayMs);
        const readyAtRate = await load(origin, readySpec, bigToken, RATIO_SECONDS, endpoint, pid);
        endpoint.setLatency(0);
        (ratioRounds.get(name) as RatioRound[]).push({ route: m, ready, readyAtRate, delayMs });
        log(
          `  round ${round + 1} ${name.padEnd(34)} CPU ${fmt(m.cpuMsPerRequest, 3)} ms at ${fmt(m.rps)} req/s; ready ${fmt(ready.cpuMsPerRequest, 3)} ms at ${fmt(ready.rps)} req/s → ${fmt(m.cpuMsPerRequest / ready.cpuMsPerRequest, 2)}×, at +${fmt(delayMs, 1)} ms ${fmt(readyAtRate.cpuMsPerRequest, 3)} ms at ${fmt(readyAtRate.rps)} req/s → ${fmt(m.cpuMsPerRequest / readyAtRate.cpuMsPerRequest, 2)}×`,
        );
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ratioOf = (name: RatioName, pick: (r: RatioRound) => number) => median((ratioRounds.get(name) ?? []).map(pick));
    /** Worker CPU over ready's at the same rate: the targets' measure. */
    const cpuRatio = (name: RatioName) => ratioOf(name, (r) => r.route.cpuMsPerRequest / r.readyAtRate.cpuMsPerRequest);
    /** Worker CPU over ready's at ready's own rate. */
    const cpuRatioOwnRate = (name: RatioName) => ratioOf(name, (r) => r.route.cpuMsPerRequest / r.ready.cpuMsPerRequest);
    const readThroughput = ratioOf("GET /api/patients/{id}/", (r) => r.route.rps / r.ready.rps);
    /** Per request, by process, median over the rounds: where a route's throughput goes. */
    const split = (pickRound: (r: RatioRound) => Measured) => {
      const rs = (ratioRounds.get("GET /api/patients/{id}/") ?? []).map(pickRound);
      const med = (pick: (m: Measured) => number) => median(rs.map(pick));
      return {
        rps: med((m) => m.rps),
        worker: med((m) => m.cpuMsPerRequest),
        bench: med((m) => m.benchCpuMsPerRequest),
        postgres: med((m) => m.postgresCpuMsPerRequest),
        total: med((m) => m.cpuMsPerRequest + m.benchCpuMsPerRequest + m.postgresCpuMsPerRequest),
      };
    };
    const readSplit = { read: split((r) => r.route), ready: split((r) => r.ready) };

    // One patient read, its audit row committed durably (the default) or not: the same bundle in two
    // workerd instances, alternated so that a drift of the busy machine touches both alike.
    const readSpec = routes.find((r) => r.name === "GET /api/patients/{id}/");
    if (!readSpec) throw new Error("no patient read route");
    const asyncWorker = await startWorkerd(() => startBundle(bundle.path, { ...bindings, READ_AUDIT_COMMIT: "async" }));
    instances.push(asyncWorker.mf);
    const commitModes = [
      { mode: "durable", origin, pid, rounds: [] as Measured[] },
      { mode: "async", origin: asyncWorker.origin, pid: asyncWorker.pid, rounds: [] as Measured[] },
    ];
    log(`\n${readSpec.name} by READ_AUDIT_COMMIT (${COMMIT_ROUNDS} rounds each, alternated, ${DURATION} s each)`);
    for (let round = 0; round < COMMIT_ROUNDS; round++) {
      for (const c of commitModes) {
        const m = await load(c.origin, readSpec, bigToken, DURATION, endpoint, c.pid, counters);
        c.rounds.push(m);
        log(
          `  ${c.mode.padEnd(8)} ${fmt(m.rps).padStart(6)} req/s  p50 ${fmt(m.p50)} ms  RT ${fmt(m.roundTrips, 2)}  statements ${fmt(m.statements, 2)}  CPU ${fmt(m.cpuMsPerRequest, 2)} ms${m.db ? `  WAL ${fmt(m.db.walBytes)} B  flushes ${fmt(m.db.walSync, 3)}` : ""}`,
        );
      }
    }

    if (DB_LATENCY > 0) {
      log(`\nWith ${DB_LATENCY} ms added to every database answer (${LATENCY_DURATION} s per route)`);
      endpoint.setLatency(DB_LATENCY);
      for (const row of rows) {
        const m = await load(origin, row.spec, row.spec.token ?? bigToken, LATENCY_DURATION, endpoint, pid);
        row.p50Far = m.p50;
        log(`  ${row.spec.name.padEnd(40)} p50 ${fmt(m.p50)} ms`);
      }
      endpoint.setLatency(0);
    }

    // A first sync of the 100,000-patient owner, start to end (docs/SYNC.md): pages of 500, one after another, as an app would.
    const initialSync = await fullSync(origin, bigToken, endpoint);
    log(
      `\nInitial sync of the ${BIG.toLocaleString()}-patient owner: ${initialSync.pages} pages, ${initialSync.changes.toLocaleString()} changes in ${fmt(initialSync.seconds, 1)} s (${fmt(initialSync.pages / initialSync.seconds, 1)} pages/s), ${fmt(initialSync.roundTrips / initialSync.pages, 2)} round trips per page`,
    );
    if (initialSync.roundTrips !== initialSync.pages)
      problems0.push(`initial sync: ${initialSync.roundTrips} round trips for ${initialSync.pages} pages`);

    // PBKDF2's own cost, in Node and in workerd (the Worker's runtime): the floor of a login's CPU.
    const t = performance.now();
    for (let i = 0; i < 10; i++) await hashPassword(PASSWORD, 100_000);
    const pbkdf2Ms = (performance.now() - t) / 10;
    const pbkdf2Worker = await startWorkerd(() => startPbkdf2Worker());
    instances.push(pbkdf2Worker.mf);
    const pbkdf2WorkerdMs = await pbkdf2CpuMs(pbkdf2Worker.origin, pbkdf2Worker.pid);

    const health = rows[0].m;
    const problems: string[] = [...problems0];
    for (const { spec, m } of rows) {
      // Every route is built so that every answer is a 2xx: any other is a failure.
      if (m.errors > 0 || m.non2xx > 0) problems.push(`${spec.name}: ${m.non2xx} non-2xx, ${m.errors} errors`);
      if (m.roundTrips > spec.budget + 1e-9) problems.push(`${spec.name}: ${fmt(m.roundTrips, 2)} round trips (budget ${spec.budget})`);
    }
    failed = problems.length > 0;

    const find = (name: string) => rows.find((r) => r.spec.name === name)?.m;
    const scale = (bigName: string, smallName: string) => {
      const b = find(bigName);
      const s = find(smallName);
      return b && s ? b.p50 / Math.max(s.p50, 0.001) : Number.NaN;
    };
    const loginCpu = find("POST /api/auth/login/")?.cpuMsPerRequest ?? Number.NaN;
    const firstPage = scale("GET /api/patients/ (100k owner)", "GET /api/patients/ (1k owner)");
    const offsetPage = scale("GET /api/patients/?offset=5000 (100k)", "GET /api/patients/?offset=500 (1k)");
    // Depth alone: the same code path at the start and 5,000 rows in; and against the plain first page (offset mode).
    const cursorPage = scale("GET /api/patients/?cursor=… at 5,000 (100k)", "GET /api/patients/?cursor= (100k, first page)");
    const cursorVsOffset = scale("GET /api/patients/?cursor=… at 5,000 (100k)", "GET /api/patients/ (100k owner)");
    const crud = rows.filter((r) => r.spec.kind === "read" || r.spec.kind === "write" || r.spec.kind === "list");
    const worst = (kinds: RouteSpec["kind"][], pick: (m: Measured) => number, best: "min" | "max") => {
      const values = rows.filter((r) => kinds.includes(r.spec.kind) && r.spec.name !== "GET /api/health/ready/").map((r) => pick(r.m));
      return best === "min" ? Math.min(...values) : Math.max(...values);
    };
    const maxCrudCpu = Math.max(...crud.map((r) => r.m.cpuMsPerRequest));
    const readShare = (find("GET /api/patients/{id}/")?.rps ?? 0) / health.rps;
    const writeListShare = worst(["write", "list"], (m) => m.rps, "min") / health.rps;
    const verdict = (ok: boolean) => (ok ? "met" : "**missed**");
    const targets = [
      "| target | measured | |",
      "| --- | --- | --- |",
      ...(
        [
          ["GET /api/patients/{id}/", "Worker CPU of GET /api/patients/{id}/ ≤ 1.3 × GET /api/health/ready/'s at the same rate", 1.3],
          ["GET /api/patients/ (100k owner)", "Worker CPU of the 20-row patient list ≤ 1.5 × ready's", 1.5],
          ["POST /api/patients/", "Worker CPU of a patient create ≤ 1.5 × ready's", 1.5],
          ["PATCH /api/patients/{id}/", "Worker CPU of a patient patch ≤ 1.5 × ready's", 1.5],
        ] as const
      ).map(
        ([name, target, limit]) =>
          `| ${target} (median of ${RATIO_ROUNDS} rounds) | ${fmt(cpuRatio(name), 2)}× (${fmt(cpuRatioOwnRate(name), 2)}× against ready at its own rate) | ${verdict(cpuRatio(name) <= limit)} |`,
      ),
      `| throughput of GET /api/patients/{id}/ ≥ 80 % of ready's (same rounds) | ${pct(readThroughput)} | ${verdict(readThroughput >= 0.8)} |`,
      `| round trips: 1 per CRUD route and refresh, ≤ 2 login, 0 health | ${problems.some((p) => p.includes("round trips")) ? "over budget" : "all within"} | ${verdict(!problems.some((p) => p.includes("round trips")))} |`,
      `| Worker CPU ≤ 1 ms per CRUD request | worst ${fmt(maxCrudCpu, 2)} ms | ${verdict(maxCrudCpu <= 1)} |`,
      `| bundle ≤ 150 KiB gzip | ${fmt(bundle.gzipBytes / 1024, 1)} KiB | ${verdict(bundle.gzipBytes <= 150 * 1024)} |`,
      `| first page, 100k owner ≤ 1.5 × 1k owner | ${fmt(firstPage, 2)}× | ${verdict(firstPage <= 1.5)} |`,
      `| offset 5,000 page ≤ 1.5 × | ${fmt(offsetPage, 2)}× | ${verdict(offsetPage <= 1.5)} |`,
      `| cursor page 5,000 deep ≤ 1.1 × the first cursor page (100k owner) | ${fmt(cursorPage, 2)}× | ${verdict(cursorPage <= 1.1)} |`,
      `| single-row read ≥ 60 % of health throughput | ${pct(readShare)} | ${verdict(readShare >= 0.6)} |`,
      `| writes and lists ≥ 45 % of health throughput | worst ${pct(writeListShare)} | ${verdict(writeListShare >= 0.45)} |`,
      `| login Worker CPU ≤ ${FREE_PLAN_CPU_MS} ms (Workers Free plan limit per request) | ${fmt(loginCpu, 2)} ms | ${verdict(loginCpu <= FREE_PLAN_CPU_MS)} |`,
    ].join("\n");
    const cpuInfo = cpus();
    const table = [
      "| route | req/s | p50 ms | p99 ms | non-2xx | round trips | Worker CPU ms/req | vs health | vs its SQL alone | p50 at +" +
        DB_LATENCY +
        " ms |",
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      ...rows.map(
        ({ spec, m, ceiling: c, p50Far }) =>
          `| ${spec.name} | ${fmt(m.rps)} | ${fmt(m.p50)} | ${fmt(m.p99)} | ${m.non2xx + m.errors} | ${fmt(m.roundTrips, 2)} | ${fmt(m.cpuMsPerRequest, 2)} | ${spec.kind === "health" ? "—" : pct(m.rps / health.rps)} | ${c ? pct(m.rps / c) : "—"} | ${p50Far === undefined ? "—" : fmt(p50Far)} |`,
      ),
    ].join("\n");

    const dbCostSection = dbCostReport(rows, server !== undefined);
    const commitSection = commitReport(readSpec.name, commitModes);
    const loginSection = loginReport(loginCpu, pbkdf2WorkerdMs, pbkdf2Ms);
    const ratioSection = ratioReport(ratioRounds, readSplit, server !== undefined);

    const report = `# Benchmarks

Produced by \`npm run bench -- --duration ${DURATION} --connections ${CONNECTIONS} --db-latency ${DB_LATENCY}\` on ${new Date().toISOString().slice(0, 10)}; the whole run took ${fmt((Date.now() - started) / 1000)} s.

- **Machine**: ${cpuInfo[0]?.model ?? "unknown CPU"}, ${cpuInfo.length} cores, ${fmt(totalmem() / 2 ** 30, 1)} GiB. Load generator, local endpoint, database and Worker share it.
- **Database**: ${version}, reached by the Worker through the local Neon endpoint (the production driver and code path; HTTP on loopback instead of Neon).
- **Worker**: the minified bundle of \`wrangler deploy --dry-run\`, run by Miniflare (workerd) directly — the code that would be deployed, without \`wrangler dev\`'s proxy in front.
- **Versions**: ${versions()}.
- **Data**: one owner with ${BIG.toLocaleString()} patients, one with ${SMALL.toLocaleString()}, 2,000 doctors, 50 users.

${table}

- *vs health*: the route's throughput over \`GET /api/health/\`'s (the runtime's ceiling here, no database).
- *vs its SQL alone*: over the same SQL request replayed straight at the local endpoint (the database's ceiling).
- *Worker CPU*: user + system time of the workerd process divided by requests (includes workerd's own HTTP handling).

${dbCostSection}

${commitSection}

${ratioSection}

## Targets

${targets}

## Scale and size

- First page of the patient list, 100,000-patient owner vs 1,000-patient owner: p50 ratio **${fmt(firstPage, 2)}×**.
- Offset 5,000 (of 100,000) vs offset 500 (of 1,000): p50 ratio **${fmt(offsetPage, 2)}×**.
- Initial sync of the ${BIG.toLocaleString()}-patient owner (\`GET /api/sync/?limit=500\` until \`has_more\` is false, one request at a time): **${initialSync.pages} pages, ${fmt(initialSync.pages / initialSync.seconds, 1)} pages/s** (${fmt(initialSync.changes / initialSync.seconds)} changes/s, ${fmt(initialSync.seconds, 1)} s in all, ${fmt(initialSync.roundTrips / initialSync.pages, 2)} round trips per page).
- Cursor page 5,000 deep (250 \`next\` links of 20 from \`cursor=\`) vs the first page by cursor, both of the 100,000-patient owner: p50 ratio **${fmt(cursorPage, 2)}×**; vs the first page by offset: **${fmt(cursorVsOffset, 2)}×**.
- Worker bundle: **${fmt(bundle.gzipBytes / 1024, 1)} KiB** gzip, minified.
- PBKDF2-SHA-256 at 100,000 iterations: **${fmt(pbkdf2WorkerdMs, 1)} ms** of CPU per hash in workerd, ${fmt(pbkdf2Ms, 1)} ms in Node's WebCrypto; a login's Worker CPU is in the table and below.

${loginSection}

${problems.length ? `## Problems\n\n${problems.map((p) => `- ${p}`).join("\n")}\n` : "No request failed unexpectedly and every route stayed within its round-trip budget.\n"}`;

    // Keep what npm run profile wrote (and the notes after it): this run only rewrites its own sections.
    const previous = readFileSync(join(root, "docs/BENCHMARKS.md"), "utf8");
    const kept = previous.indexOf("<!-- cpu-profile:begin");
    writeFileSync(join(root, "docs/BENCHMARKS.md"), kept >= 0 ? `${report}\n${previous.slice(kept)}` : report);
    log(`\n${report}\nWrote docs/BENCHMARKS.md`);
  } finally {
    for (const instance of instances) await instance.dispose();
    await counters?.close();
    await endpoint.close();
    await drop();
  }
  process.exit(failed ? 1 : 0);
}

if (isMain) await main();
