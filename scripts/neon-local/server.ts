/**
 * A local stand-in for Neon's SQL-over-HTTP endpoint: the same requests the
 * `@neondatabase/serverless` driver sends to Neon (see its source), answered
 * by a real Postgres behind it. The Worker reaches it through
 * NEON_LOCAL_ENDPOINT; nothing else in the request path differs from
 * production.
 *
 * Access: every path sits under a random per-run token
 * (`http://127.0.0.1:<port>/<token>/sql`), which the Worker gets inside
 * NEON_LOCAL_ENDPOINT, and only a loopback `Host` is answered, so neither
 * another local user nor a web page (DNS rebinding included) can run SQL.
 * Fault injection (`POST /faults`) exists only when the tests start it.
 *
 * It also counts the SQL requests it answers, in all and per connection
 * string (GET /stats?connection=…): tests and the benchmark measure database
 * round trips per API request with it, each under a connection string of
 * its own so that parallel test files do not disturb the count.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Backend, BatchOptions, SqlQuery } from "./backends.ts";

const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Fields Neon copies from a Postgres error into its 400 body (and the driver onto NeonDbError). */
const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

const ISOLATION_LEVELS: Record<string, BatchOptions["isolationLevel"]> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

class BadRequest extends Error {}

/**
 * Injected faults (tests only), per connection string so that one test's
 * fault touches no other test's requests. Before any SQL runs:
 * - `refuse`: the connection is cut as soon as the request arrives;
 * - `error`: HTTP 500, as Neon answers when it is in trouble;
 * - `hang`: no answer at all (the Worker's own timeout must end it).
 * After the SQL ran, so the Worker cannot know whether it took effect:
 * - `drop-before-commit`: the SQL runs, is rolled back, and the connection is cut;
 * - `drop-after-commit`: the SQL runs and commits, and the connection is cut;
 * - `error-after-commit`: the SQL runs and commits, and the answer is HTTP 500;
 * - `hang-after-commit`: the SQL runs and commits, and no answer comes.
 * Neither, but slow:
 * - `slow-commit`: the SQL runs as one transaction that waits a random 0–50
 *   ms before its COMMIT, then answers as usual, as a loaded database does:
 *   transactions that started in one order commit in another (the sync
 *   feed's concurrency test).
 * A fault set `from` N spares the connection's first N − 1 SQL requests, so
 * that a later round trip of one API request (login's second) can be hit.
 */
export const FAULTS = [
  "refuse",
  "error",
  "hang",
  "drop-before-commit",
  "drop-after-commit",
  "error-after-commit",
  "hang-after-commit",
  "slow-commit",
] as const;
export type Fault = (typeof FAULTS)[number];
const SLOW_COMMIT_MAX_MS = 50;

interface FaultState {
  mode: Fault;
  /** The first SQL request (1-based, counted per connection from when the fault was set) that meets the fault. */
  from: number;
  seen: number;
  /** Requests still being handled: clearing the fault waits for them, so a read-back sees their commit or rollback. */
  pending: Set<Promise<unknown>>;
}

interface Stats {
  /** HTTP requests answered: one per database round trip. */
  requests: number;
  /** SQL statements run (a batch is one request, several queries). */
  queries: number;
}

export interface NeonLocalServer {
  /** The SQL endpoint, per-run token included: what NEON_LOCAL_ENDPOINT must be. */
  url: string;
  port: number;
  backend: Backend;
  stats(connection?: string): Stats;
  /** Holds every answer this many milliseconds, as a Neon region far from the Worker would (benchmark). */
  setLatency(ms: number): void;
  /** The last SQL request received (headers and body), to replay it straight at the database (benchmark). */
  lastRequest(): { headers: Record<string, string>; body: string } | undefined;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BadRequest("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseQuery(value: unknown): SqlQuery {
  const q = value as { query?: unknown; params?: unknown };
  if (typeof q?.query !== "string") throw new BadRequest("query must be a string");
  const params = q.params ?? [];
  if (!Array.isArray(params) || !params.every((p) => p === null || typeof p === "string")) {
    throw new BadRequest("params must be an array of strings or nulls");
  }
  return { query: q.query, params };
}

function batchOptions(req: IncomingMessage): BatchOptions {
  const level = req.headers["neon-batch-isolation-level"];
  const flag = (name: string) => {
    const v = req.headers[name];
    return v === undefined ? undefined : v === "true";
  };
  if (typeof level === "string" && !(level in ISOLATION_LEVELS)) {
    throw new BadRequest(`unknown isolation level ${level}`);
  }
  return {
    isolationLevel: typeof level === "string" ? ISOLATION_LEVELS[level] : undefined,
    readOnly: flag("neon-batch-read-only"),
    deferrable: flag("neon-batch-deferrable"),
  };
}

function send(res: ServerResponse, status: number, body: unknown) {
  const json = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

function isPostgresError(error: unknown): boolean {
  const e = error as { severity?: unknown; code?: unknown } | null;
  return typeof e?.severity === "string" && typeof e.code === "string";
}

function postgresError(error: unknown) {
  const e = error as Record<string, unknown>;
  const body: Record<string, unknown> = { message: String(e.message ?? error) };
  for (const name of ERROR_FIELDS) if (e[name] !== undefined) body[name] = e[name];
  return body;
}

/** `host:port` values a local client sends; anything else may be a rebound DNS name. */
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])(:\d+)?$/i;

/** The path below the token, or undefined when `pathname` does not start with it. */
function pathBelowToken(pathname: string, token: Buffer): string | undefined {
  const [, given, rest] = /^\/([^/]*)(\/.*)$/.exec(pathname) ?? [];
  if (given === undefined) return undefined;
  const bytes = Buffer.from(given);
  return bytes.length === token.length && timingSafeEqual(bytes, token) ? rest : undefined;
}

export interface NeonLocalOptions {
  port?: number;
  /** Offer POST /faults: the test suite only. */
  faults?: boolean;
}

export async function startNeonLocalServer(backend: Backend, options: NeonLocalOptions = {}): Promise<NeonLocalServer> {
  const token = randomBytes(24).toString("base64url");
  const total: Stats = { requests: 0, queries: 0 };
  const byConnection = new Map<string, Stats>();
  const count = (connection: string, queries: number) => {
    const own = byConnection.get(connection) ?? { requests: 0, queries: 0 };
    byConnection.set(connection, own);
    for (const s of [total, own]) {
      s.requests++;
      s.queries += queries;
    }
  };
  // The driver appends ?application_name=… to the connection string it sends.
  const connectionKey = (header: string) => header.replace(/[?&]application_name=[^&]*/, "");
  const stats = (connection?: string): Stats =>
    connection === undefined ? { ...total } : { ...(byConnection.get(connection) ?? { requests: 0, queries: 0 }) };

  const faults = new Map<string, FaultState>();
  let latencyMs = 0;
  let last: { headers: Record<string, string>; body: string } | undefined;

  const handleSql = (req: IncomingMessage, res: ServerResponse) => {
    const connection = req.headers["neon-connection-string"];
    if (typeof connection !== "string" || connection === "") throw new BadRequest("missing Neon-Connection-String header");
    const state = faults.get(connectionKey(connection));
    if (!state) return answerSql(req, res, connection);
    state.seen++;
    const handled = answerSql(req, res, connection, state.seen >= state.from ? state.mode : undefined);
    const settled = handled.catch(() => {});
    state.pending.add(settled);
    void settled.then(() => state.pending.delete(settled));
    return handled;
  };

  const answerSql = async (req: IncomingMessage, res: ServerResponse, connection: string, fault?: Fault) => {
    if (fault === "refuse") return void req.socket.destroy();
    if (fault === "error") return send(res, 500, { message: "injected fault: server error" });
    if (fault === "hang") return;
    let body: unknown;
    try {
      const text = await readBody(req);
      last = {
        headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.startsWith("neon-")) as [string, string][]),
        body: text,
      };
      body = JSON.parse(text);
    } catch (error) {
      throw error instanceof BadRequest ? error : new BadRequest("body is not JSON");
    }
    const arrayMode = req.headers["neon-array-mode"] === "true";
    const shape = (r: Awaited<ReturnType<Backend["query"]>>) =>
      arrayMode
        ? { ...r, rowAsArray: true }
        : { ...r, rowAsArray: false, rows: r.rows.map((row) => Object.fromEntries(r.fields.map((f, i) => [f.name, row[i]]))) };

    const batch = (body as { queries?: unknown }).queries;
    if (fault === "slow-commit") {
      const qs = Array.isArray(batch) ? batch.map(parseQuery) : [parseQuery(body)];
      count(connectionKey(connection), qs.length);
      const wait = () => new Promise<void>((resolve) => setTimeout(resolve, Math.random() * SLOW_COMMIT_MAX_MS));
      const results = await backend.batch(qs, batchOptions(req), true, wait);
      return send(res, 200, Array.isArray(batch) ? { results: results.map(shape) } : shape(results[0]));
    }
    if (fault !== undefined) {
      // Every after-SQL fault: the SQL runs as one transaction, then the answer goes wrong.
      const qs = Array.isArray(batch) ? batch.map(parseQuery) : [parseQuery(body)];
      count(connectionKey(connection), qs.length);
      await backend.batch(qs, batchOptions(req), fault !== "drop-before-commit");
      if (fault === "error-after-commit") return send(res, 500, { message: "injected fault: server error" });
      if (fault === "hang-after-commit") return;
      return void req.socket.destroy();
    }
    if (Array.isArray(batch)) {
      const qs = batch.map(parseQuery);
      count(connectionKey(connection), qs.length);
      const results = await backend.batch(qs, batchOptions(req));
      send(res, 200, { results: results.map(shape) });
    } else {
      const q = parseQuery(body);
      count(connectionKey(connection), 1);
      send(res, 200, shape(await backend.query(q)));
    }
  };

  /** POST /faults?connection=…&mode=…[&from=N]; mode=none answers once the connection's faulted requests are settled. */
  const setFault = async (params: URLSearchParams, res: ServerResponse) => {
    const connection = params.get("connection") ?? "";
    const mode = params.get("mode") ?? "";
    const from = params.get("from") ?? "1";
    if (!connection) throw new BadRequest("connection is required");
    if (!/^[1-9]\d{0,5}$/.test(from)) throw new BadRequest("from must be a positive integer");
    if (mode === "none") {
      const pending = faults.get(connection)?.pending ?? [];
      faults.delete(connection);
      await Promise.all(pending);
    } else if ((FAULTS as readonly string[]).includes(mode)) {
      faults.set(connection, { mode: mode as Fault, from: Number(from), seen: 0, pending: new Set() });
    } else throw new BadRequest(`mode must be none or one of ${FAULTS.join(", ")}`);
    res.writeHead(204).end();
  };

  const server: Server = createServer((req, res) => {
    // A refusal reads the body away first, so that the client gets the answer rather than a reset.
    const refuse = (status: number, message: string) => req.resume().once("end", () => send(res, status, { message }));
    if (!LOOPBACK_HOST.test(req.headers.host ?? "")) return refuse(400, "Host must be a loopback address");
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const path = pathBelowToken(url.pathname, Buffer.from(token));
    if (path === undefined) return refuse(401, "unknown endpoint token");
    const route = `${req.method} ${path}`;
    const work =
      route === "POST /sql"
        ? (latencyMs > 0 ? new Promise((r) => setTimeout(r, latencyMs)) : Promise.resolve()).then(() => handleSql(req, res))
        : route === "GET /stats"
          ? Promise.resolve(send(res, 200, stats(url.searchParams.get("connection") ?? undefined)))
          : route === "POST /faults" && options.faults
            ? Promise.resolve().then(() => setFault(url.searchParams, res))
            : Promise.resolve(send(res, 404, { message: "not found" }));
    work.catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof BadRequest) send(res, 400, { message: error.message });
      // An error from Postgres itself (severity + SQLSTATE): Neon answers those with 400 and the fields.
      else if (isPostgresError(error)) send(res, 400, postgresError(error));
      // Anything else (the server behind us is down, say) is Neon's 5xx.
      else send(res, 502, { message: "database backend unavailable" });
    });
  });
  // Keep-alive sockets must not hold the process open after close().
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/${token}/sql`,
    port,
    backend,
    stats,
    setLatency: (ms) => {
      latencyMs = ms;
    },
    lastRequest: () => last,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await backend.close();
    },
  };
}
