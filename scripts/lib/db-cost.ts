/**
 * What a stretch of load cost the database, per request, from counters
 * PostgreSQL 15 keeps without any extension (pg_stat_statements needs
 * `shared_preload_libraries`, i.e. a server restart):
 *
 * - `pg_stat_database` of the benchmark's own database: `active_time`
 *   (milliseconds its server processes spent running statements — the
 *   commit's WAL flush included, since a statement's commit happens before
 *   its process goes idle), `blks_hit` / `blks_read` (shared-buffer hits
 *   and blocks asked of the kernel), `xact_commit` + `xact_rollback`;
 * - `pg_stat_wal`, which is for the whole server: `wal_bytes`,
 *   `wal_records`, `wal_fpi` (full-page images, written for the first change
 *   of a page after a checkpoint), `wal_write` and `wal_sync` (the WAL
 *   flushes: fdatasync calls, by the committing processes or the WAL writer).
 *
 * Server processes report their counters at most once a second while busy,
 * and an idle one only after 10 s. So each reading first waits over a second
 * (and three WAL-writer cycles, so that asynchronous commits are flushed and
 * counted), then has every pooled connection run a one-page catalog read
 * (Backend.reportStatistics), which makes its process report everything
 * before it answers, and then checks that the database counted at least as
 * many transactions as the endpoint answered requests (each request is one
 * transaction).
 *
 * The WAL counters take in other databases on the same server: a reading
 * also notes what the others did meanwhile (as far as they have reported
 * it: their transactions and rows written, and databases created or
 * dropped, which in PostgreSQL 15 writes a whole template to the WAL), so
 * that a figure taken while someone else was working can be marked as such.
 */
import pg from "pg";
import type { Backend } from "../neon-local/backends.ts";

interface Counters {
  activeMs: number;
  blksHit: number;
  blksRead: number;
  transactions: number;
  walRecords: number;
  walFpi: number;
  walBytes: number;
  walWrite: number;
  walSync: number;
  otherTransactions: number;
  otherRowsWritten: number;
  databases: string;
}

/** Per request, except `othersActive` and `complete`. */
export interface DbCost {
  dbMs: number;
  blksHit: number;
  blksRead: number;
  transactions: number;
  walBytes: number;
  walRecords: number;
  walFpi: number;
  walWrite: number;
  walSync: number;
  /** Other databases of the server committed, rolled back or wrote rows, or databases came or went, during the window. */
  othersActive: boolean;
  /** false when the database had not reported every transaction after the wait. */
  complete: boolean;
}

export interface DbWindow {
  /** Ends the window: `requests` divides the figures; `transactions` is how many the endpoint answered meanwhile. */
  finish(requests: number, transactions: number): Promise<DbCost>;
}

export interface DbCounters {
  /** Starts a window once every earlier statement has been reported. */
  start(): Promise<DbWindow>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const REPORT_INTERVAL_MS = 1_000;
const MAX_WAIT_MS = 12_000;

/**
 * Counters for `database` on the server `serverUrl` names, read over a
 * connection of their own to the server's own database (so that reading
 * them adds nothing to the benchmark database's counters).
 */
export async function openDbCounters(serverUrl: string, database: string, backend: Backend): Promise<DbCounters | undefined> {
  const reportStatistics = backend.reportStatistics?.bind(backend);
  if (!reportStatistics) return undefined;
  const reader = new pg.Client({ connectionString: serverUrl });
  await reader.connect();
  const { rows } = await reader.query<{ ms: number }>(
    "SELECT setting::int * (CASE unit WHEN 's' THEN 1000 ELSE 1 END) AS ms FROM pg_settings WHERE name = 'wal_writer_delay'",
  );
  const settleMs = Math.max(REPORT_INTERVAL_MS, 3 * (rows[0]?.ms ?? 200)) + 100;

  const read = async (): Promise<Counters> => {
    const { rows: r } = await reader.query(
      `SELECT d.active_time, d.blks_hit, d.blks_read, d.xact_commit + d.xact_rollback AS transactions,
              w.wal_records, w.wal_fpi, w.wal_bytes, w.wal_write, w.wal_sync,
              (SELECT coalesce(sum(o.xact_commit + o.xact_rollback), 0)
                 FROM pg_stat_database o WHERE o.datname NOT IN ($1, current_database())) AS other_transactions,
              (SELECT coalesce(sum(o.tup_inserted + o.tup_updated + o.tup_deleted), 0)
                 FROM pg_stat_database o WHERE o.datname IS DISTINCT FROM $1) AS other_rows,
              (SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database) AS databases
         FROM pg_stat_database d, pg_stat_wal w WHERE d.datname = $1`,
      [database],
    );
    const row = r[0];
    if (!row) throw new Error(`no statistics for database ${database}`);
    return {
      activeMs: Number(row.active_time),
      blksHit: Number(row.blks_hit),
      blksRead: Number(row.blks_read),
      transactions: Number(row.transactions),
      walRecords: Number(row.wal_records),
      walFpi: Number(row.wal_fpi),
      walBytes: Number(row.wal_bytes),
      walWrite: Number(row.wal_write),
      walSync: Number(row.wal_sync),
      otherTransactions: Number(row.other_transactions),
      otherRowsWritten: Number(row.other_rows),
      databases: String(row.databases),
    };
  };

  /** Waits until the pooled connections may report again, makes them report, and reads; returns how many statements that took. */
  const settle = async () => {
    await sleep(settleMs);
    const statements = await reportStatistics();
    return { statements, counters: await read() };
  };

  return {
    async start() {
      const { counters: before } = await settle();
      return {
        async finish(requests, transactions) {
          let { statements, counters: after } = await settle();
          // The reporting statements are transactions too: they are not the load's.
          const counted = () => after.transactions - before.transactions - statements;
          for (let waited = 0; counted() < transactions && waited < MAX_WAIT_MS; waited += 250) {
            await sleep(250);
            after = await read();
          }
          const per = (k: Exclude<keyof Counters, "databases">) => (requests > 0 ? (after[k] - before[k]) / requests : 0);
          return {
            dbMs: per("activeMs"),
            blksHit: per("blksHit"),
            blksRead: per("blksRead"),
            transactions: requests > 0 ? counted() / requests : 0,
            walBytes: per("walBytes"),
            walRecords: per("walRecords"),
            walFpi: per("walFpi"),
            walWrite: per("walWrite"),
            walSync: per("walSync"),
            othersActive:
              after.otherTransactions !== before.otherTransactions ||
              after.otherRowsWritten !== before.otherRowsWritten ||
              after.databases !== before.databases,
            complete: counted() >= transactions,
          };
        },
      };
    },
    async close() {
      await reader.end();
    },
  };
}
