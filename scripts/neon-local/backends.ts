/**
 * The two databases the local Neon endpoint can sit on: embedded PGlite
 * (nothing to install) or a real PostgreSQL server. Both answer in Postgres
 * text output with rows as arrays, which is what the Neon driver parses.
 */
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { applyMigrations } from "../lib/migrate.ts";

export type Param = string | null;
export interface SqlQuery {
  query: string;
  params: Param[];
}
export interface Field {
  name: string;
  dataTypeID: number;
  tableID: number;
  columnID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: "text";
}
export interface SqlResult {
  command: string;
  rowCount: number | null;
  fields: Field[];
  rows: (string | null)[][];
}
export interface BatchOptions {
  isolationLevel?: "READ UNCOMMITTED" | "READ COMMITTED" | "REPEATABLE READ" | "SERIALIZABLE";
  readOnly?: boolean;
  deferrable?: boolean;
}
export interface Backend {
  kind: "pglite" | "postgres";
  /** Where the data lives, without credentials: safe to print. */
  description: string;
  query(q: SqlQuery): Promise<SqlResult>;
  /**
   * Runs every query in one transaction; any error rolls back all of them.
   * With `commit: false` the transaction is rolled back even on success
   * (fault injection: a connection lost before COMMIT); `beforeCommit` runs
   * between the last query and the COMMIT (fault injection: a slow commit).
   */
  batch(qs: SqlQuery[], options: BatchOptions, commit?: boolean, beforeCommit?: () => Promise<void>): Promise<SqlResult[]>;
  /**
   * PostgreSQL only (the benchmark's database cost): runs a statement once on
   * every idle pooled connection, so that each server process reports the
   * statistics it still holds (PostgreSQL 15 reports at most once a second,
   * and an idle process only after 10 s, unless it runs a statement). Call
   * it when the connections have been idle for over a second. Returns how
   * many statements it ran: each is a transaction of its own, which reads
   * one page of a catalog.
   */
  reportStatistics?(): Promise<number>;
  close(): Promise<void>;
}

function setTransaction(options: BatchOptions): string | undefined {
  const modes = [
    options.isolationLevel && `ISOLATION LEVEL ${options.isolationLevel}`,
    options.readOnly !== undefined && (options.readOnly ? "READ ONLY" : "READ WRITE"),
    options.deferrable !== undefined && (options.deferrable ? "DEFERRABLE" : "NOT DEFERRABLE"),
  ].filter(Boolean);
  return modes.length > 0 ? `SET TRANSACTION ${modes.join(", ")}` : undefined;
}

function field(name: string, dataTypeID: number, extra: Partial<Field> = {}): Field {
  return { name, dataTypeID, tableID: 0, columnID: 0, dataTypeSize: -1, dataTypeModifier: -1, format: "text", ...extra };
}

/**
 * PGlite drops the command tag; recover it from the statement's main verb:
 * the first one outside parentheses, so `WITH … UPDATE` is an UPDATE.
 */
export function commandOf(query: string): string {
  const text = query.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, " ").replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\$(\w*)\$[\s\S]*?\$\1\$/g, " x ");
  let depth = 0;
  for (const [word] of text.matchAll(/[()]|[A-Za-z_]+/g)) {
    if (word === "(") depth++;
    else if (word === ")") depth--;
    else if (depth === 0) {
      const verb = word.toUpperCase();
      if (/^(SELECT|INSERT|UPDATE|DELETE|MERGE|VALUES|TABLE|CREATE|ALTER|DROP|SET|BEGIN|COMMIT|ROLLBACK|TRUNCATE)$/.test(verb)) {
        return verb === "VALUES" || verb === "TABLE" ? "SELECT" : verb;
      }
    }
  }
  return "SELECT";
}

export async function createPgliteBackend(options: { dataDir?: string } = {}): Promise<Backend> {
  const db = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
  // Neon answers in UTC; so must we, or timestamptz text would carry another offset.
  await db.exec("SET TIME ZONE 'UTC'");
  await applyMigrations({ kind: "pglite", db });

  // PGlite parses values into JS types by default. The driver wants Postgres
  // text, so every known type gets an identity parser (a Proxy would not
  // survive PGlite's object spread) and every parameter is passed as text.
  const identity = (value: string) => value;
  const { rows: types } = await db.query<{ oid: number }>("SELECT oid::int AS oid FROM pg_type");
  const parsers = Object.fromEntries(types.map((t) => [t.oid, identity]));
  const serializers = Object.fromEntries(types.map((t) => [t.oid, (v: unknown) => String(v)]));
  const queryOptions = { rowMode: "array" as const, parsers, serializers };

  const toResult = (q: SqlQuery, r: Awaited<ReturnType<typeof db.query>>): SqlResult => {
    const command = commandOf(q.query);
    const rows = r.rows as (string | null)[][];
    return {
      command,
      rowCount: /^(INSERT|UPDATE|DELETE|MERGE)$/.test(command) ? (r.affectedRows ?? 0) : rows.length,
      fields: r.fields.map((f) => field(f.name, f.dataTypeID)),
      rows,
    };
  };

  return {
    kind: "pglite",
    description: options.dataDir ? `PGlite (persisted in ${options.dataDir})` : "PGlite (in memory)",
    async query(q) {
      return toResult(q, await db.query(q.query, q.params, queryOptions));
    },
    async batch(qs, batchOptions, commit = true, beforeCommit) {
      // PGlite has one session: transaction() holds it, so other requests wait.
      return db.transaction(async (tx) => {
        const mode = setTransaction(batchOptions);
        if (mode) await tx.query(mode);
        const results: SqlResult[] = [];
        for (const q of qs) results.push(toResult(q, await tx.query(q.query, q.params, queryOptions)));
        await beforeCommit?.();
        if (!commit) await tx.rollback();
        return results;
      });
    },
    async close() {
      await db.close();
    },
  };
}

export async function createPostgresBackend(connectionString: string): Promise<Backend> {
  const pool = new pg.Pool({ connectionString, max: 20, options: "-c TimeZone=UTC" });
  // A pool emits 'error' when an idle connection dies (server restart):
  // without a listener that would crash the endpoint instead of failing one query.
  pool.on("error", () => {});
  await applyMigrations({ kind: "postgres", connectionString });

  const rawText = { getTypeParser: () => (value: string) => value };
  const run = async (client: pg.Pool | pg.PoolClient, q: SqlQuery): Promise<SqlResult> => {
    // Extended protocol, as Neon uses: one statement per query, params typed by the server.
    const r = await client.query({
      text: q.query,
      values: q.params,
      rowMode: "array",
      types: rawText,
      queryMode: "extended",
    } as pg.QueryArrayConfig);
    return {
      command: r.command,
      rowCount: r.rowCount,
      fields: r.fields.map((f) =>
        field(f.name, f.dataTypeID, {
          tableID: f.tableID,
          columnID: f.columnID,
          dataTypeSize: f.dataTypeSize,
          dataTypeModifier: f.dataTypeModifier,
        }),
      ),
      rows: r.rows as (string | null)[][],
    };
  };

  const url = new URL(connectionString);
  return {
    kind: "postgres",
    description: `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`,
    query: (q) => run(pool, q),
    async reportStatistics() {
      // All idle clients at once: each checkout takes a different one.
      const clients = await Promise.all(Array.from({ length: pool.idleCount }, () => pool.connect()));
      try {
        // One at a time, so that none finds the database's entry locked by another and puts its report
        // off. And it must read a table: a process with nothing but transaction counts pending (after
        // only `SELECT 1`s, say) skips reporting them altogether, this statement's included.
        for (const c of clients) await c.query("SELECT count(*) FROM pg_catalog.pg_am");
      } finally {
        for (const c of clients) c.release();
      }
      return clients.length;
    },
    async batch(qs, batchOptions, commit = true, beforeCommit) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query("BEGIN");
        const mode = setTransaction(batchOptions);
        if (mode) await client.query(mode);
        const results: SqlResult[] = [];
        for (const q of qs) results.push(await run(client, q));
        await beforeCommit?.();
        await client.query(commit ? "COMMIT" : "ROLLBACK");
        return results;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async close() {
      await pool.end();
    },
  };
}

/** A PostgreSQL server when given its URL, else PGlite (on disk when given a folder, else in memory). */
export function openBackend(options: { databaseUrl?: string; dataDir?: string }): Promise<Backend> {
  return options.databaseUrl ? createPostgresBackend(options.databaseUrl) : createPgliteBackend({ dataDir: options.dataDir });
}
