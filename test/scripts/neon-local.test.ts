/**
 * The local Neon endpoint (scripts/neon-local) as the real driver sees it,
 * from inside workerd: Postgres text output, batches as one transaction,
 * Postgres errors with SQLSTATE and constraint, batch transaction headers,
 * and the per-connection round-trip count the route tests rely on. Every
 * test writes only rows of its own: other files share the database.
 */

import { env } from "cloudflare:workers";
import { NeonDbError, neon } from "@neondatabase/serverless";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { drizzle } from "drizzle-orm/neon-http";
import { describe, expect, it } from "vitest";
import * as schema from "../../src/db/schema";
import { directSql, FAULTS_AFTER_SQL, FAULTS_BEFORE_SQL, type Fault, setFault } from "../helpers";

const sql = directSql();

const INSERT_USER = "INSERT INTO users (email, name, password_hash) VALUES ($1, 'Neon Local', 'not-a-hash') RETURNING id";

/** A users email no other test uses; lower-case and trimmed, as users_email_normalised demands. */
const uniqueEmail = () => `neon-local-${crypto.randomUUID()}@example.test`;

const countUsers = async (email: string) => (await sql.query("SELECT count(*)::int AS n FROM users WHERE email = $1", [email]))[0].n;

/** What `promise` rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<NeonDbError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error as NeonDbError;
}

/** Parses nothing: the driver hands back the endpoint's Postgres text as is. */
const rawText = { getTypeParser: () => (value: string) => value };

describe("neon-local endpoint through @neondatabase/serverless", () => {
  it("runs a single query with parameters", async () => {
    expect(await sql.query("SELECT $1::text AS a, $2::int AS b", ["héllo", 42])).toEqual([{ a: "héllo", b: 42 }]);
  });

  describe("command and rowCount, which Drizzle passes through", () => {
    it("match the statement for a plain write", async () => {
      const email = uniqueEmail();
      const inserted = await sql.query(INSERT_USER, [email], { fullResults: true });
      expect([inserted.command, inserted.rowCount]).toEqual(["INSERT", 1]);
      const updated = await sql.query("UPDATE users SET name = 'Renamed' WHERE email = $1", [email], { fullResults: true });
      expect([updated.command, updated.rowCount]).toEqual(["UPDATE", 1]);
    });

    // PGlite has no command tag: the endpoint must find the main verb behind the CTEs.
    it("match the statement for a write led by a CTE", async () => {
      const email = uniqueEmail();
      await sql.query(INSERT_USER, [email]);
      const updated = await sql.query(
        "WITH target AS (SELECT $1::text AS email) UPDATE users SET name = 'Renamed' FROM target WHERE users.email = target.email",
        [email],
        { fullResults: true },
      );
      expect([updated.command, updated.rowCount]).toEqual(["UPDATE", 1]);
    });
  });

  describe("values arrive as Postgres text output", () => {
    const INSTANT = "2026-11-26T09:30:00.123Z";
    const UUID = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
    const UNICODE = "e\u0301 👩🏽‍⚕️ 𝄞 日本 Ω";
    const COLUMNS = `
      '2026-11-26 09:30:00.123456+00'::timestamptz AS ts,
      '2026-11-26 11:30:00.123456+02'::timestamptz::text AS ts_text,
      '2026-11-26'::date AS d,
      '${UUID}'::uuid AS id,
      NULL::text AS nothing,
      true AS yes,
      false AS no,
      9007199254740993::int8 AS big,
      '12345678901234567890.000001'::numeric AS num,
      '{"b": [1, 2.5, null], "a": "ü"}'::jsonb AS doc,
      ARRAY[1, NULL, -3]::int[] AS ints,
      '\\x00ff10'::bytea AS bytes`;

    it("as raw text, exactly as Postgres prints it in UTC", async () => {
      const result = await sql.query(`SELECT ${COLUMNS}`, [], { fullResults: true, types: rawText });
      expect(result.rows).toEqual([
        {
          ts: "2026-11-26 09:30:00.123456+00",
          ts_text: "2026-11-26 09:30:00.123456+00",
          d: "2026-11-26",
          id: UUID,
          nothing: null,
          yes: "t",
          no: "f",
          big: "9007199254740993",
          num: "12345678901234567890.000001",
          doc: '{"a": "ü", "b": [1, 2.5, null]}',
          ints: "{1,NULL,-3}",
          bytes: "\\x00ff10",
        },
      ]);
      // The driver picks each parser by type id: they must be the real ones.
      expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
        ["ts", 1184],
        ["ts_text", 25],
        ["d", 1082],
        ["id", 2950],
        ["nothing", 25],
        ["yes", 16],
        ["no", 16],
        ["big", 20],
        ["num", 1700],
        ["doc", 3802],
        ["ints", 1007],
        ["bytes", 17],
      ]);
    });

    it("as the driver's parsed values", async () => {
      const [row] = await sql.query(`SELECT ${COLUMNS}`);
      expect(row.ts).toBeInstanceOf(Date);
      expect(row.ts.toISOString()).toBe(INSTANT);
      // A date parses to local midnight, and workerd's local time is UTC.
      expect(row.d).toBeInstanceOf(Date);
      expect(row.d.toISOString()).toBe("2026-11-26T00:00:00.000Z");
      expect(row).toMatchObject({
        id: UUID,
        nothing: null,
        yes: true,
        no: false,
        big: "9007199254740993",
        num: "12345678901234567890.000001",
        doc: { a: "ü", b: [1, 2.5, null] },
        ints: [1, null, -3],
      });
      expect([...row.bytes]).toEqual([0x00, 0xff, 0x10]);
    });

    it("round-trips parameters: unicode byte for byte, bytes, dates", async () => {
      const utf8Hex = [...new TextEncoder().encode(UNICODE)].map((b) => b.toString(16).padStart(2, "0")).join("");
      const [row] = await sql.query(
        `SELECT $1::text AS text, encode(convert_to($1::text, 'UTF8'), 'hex') AS text_hex,
                encode($2::bytea, 'hex') AS bytes_hex, $2::bytea AS bytes,
                $3::timestamptz::text AS ts_text`,
        [UNICODE, new Uint8Array([0, 1, 0xfe, 0xff]), new Date(INSTANT)],
      );
      expect(row.text).toBe(UNICODE);
      expect(row.text_hex).toBe(utf8Hex);
      expect(row.bytes_hex).toBe("0001feff");
      expect([...row.bytes]).toEqual([0, 1, 0xfe, 0xff]);
      expect(row.ts_text).toBe("2026-11-26 09:30:00.123+00");
    });
  });

  describe("batches (sql.transaction)", () => {
    it("return every result in order, with command and rowCount", async () => {
      const email = uniqueEmail();
      const results = await sql.transaction(
        [
          sql`SELECT 1::int AS n`,
          sql.query(INSERT_USER, [email]),
          sql.query("SELECT email FROM users WHERE email = $1", [email]),
          sql`SELECT g FROM generate_series(1, 3) AS g`,
        ],
        { fullResults: true },
      );
      expect(results.map((r) => [r.command, r.rowCount])).toEqual([
        ["SELECT", 1],
        ["INSERT", 1],
        ["SELECT", 1],
        ["SELECT", 3],
      ]);
      expect(results[0].rows).toEqual([{ n: 1 }]);
      expect(results[1].rows).toEqual([{ id: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);
      // The batch sees its own insert: one transaction, statements in order.
      expect(results[2].rows).toEqual([{ email }]);
      expect(results[3].rows).toEqual([{ g: 1 }, { g: 2 }, { g: 3 }]);
    });

    it("roll back entirely when a statement fails", async () => {
      const email = uniqueEmail();
      const error = await rejection(sql.transaction([sql.query(INSERT_USER, [email]), sql`SELECT 1 / 0 AS boom`]));
      expect(error).toBeInstanceOf(NeonDbError);
      expect(error.code).toBe("22012");
      expect(await countUsers(email)).toBe(0);
    });
  });

  describe("Postgres errors carry SQLSTATE and constraint", () => {
    it("unique violation through the driver: 23505 users_email_key", async () => {
      const email = uniqueEmail();
      await sql.query(INSERT_USER, [email]);
      const error = await rejection(sql.query(INSERT_USER, [email]));
      expect(error).toBeInstanceOf(NeonDbError);
      expect(error).toMatchObject({ code: "23505", constraint: "users_email_key", table: "users", severity: "ERROR" });
      expect(error.detail).toBe(`Key (lower(email))=(${email}) already exists.`);
      expect(await countUsers(email)).toBe(1);
    });

    it("unique violation through Drizzle: the NeonDbError is the cause", async () => {
      const db = drizzle({ client: directSql(), schema });
      const user = { email: uniqueEmail(), name: "Neon Local", passwordHash: "not-a-hash" };
      const [created] = await db.insert(schema.users).values(user).returning();
      expect(created).toMatchObject({ email: user.email, isAdmin: false });
      expect(created.createdAt).toBeInstanceOf(Date);

      const error = await rejection(db.insert(schema.users).values(user));
      expect(error).toBeInstanceOf(DrizzleQueryError);
      expect(error.cause).toBeInstanceOf(NeonDbError);
      expect(error.cause).toMatchObject({ code: "23505", constraint: "users_email_key" });
    });

    it("check violation: 23514 with the constraint name", async () => {
      const email = ` Upper-${crypto.randomUUID()}@Example.test`;
      const error = await rejection(sql.query(INSERT_USER, [email]));
      expect(error).toMatchObject({ name: "NeonDbError", code: "23514", constraint: "users_email_normalised", table: "users" });
      expect(await countUsers(email)).toBe(0);
    });

    it("foreign-key violation: 23503 with the constraint name", async () => {
      const ownerId = crypto.randomUUID();
      const error = await rejection(
        sql.query("INSERT INTO patients (owner_id, name, date_of_birth, gender) VALUES ($1, 'Nobody', '2000-01-01', 'other')", [ownerId]),
      );
      expect(error).toMatchObject({
        name: "NeonDbError",
        code: "23503",
        constraint: "patients_owner_id_users_id_fk",
        table: "patients",
        detail: `Key (owner_id)=(${ownerId}) is not present in table "users".`,
      });
    });

    it("syntax error: 42601, and the endpoint answers normally afterwards", async () => {
      const error = await rejection(sql.query("SELEC 1"));
      expect(error).toMatchObject({ name: "NeonDbError", code: "42601", position: "1" });
      expect(error.message).toBe('syntax error at or near "SELEC"');
      expect(await sql.query("SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
      expect(await sql.transaction([sql`SELECT 2 AS ok`])).toEqual([[{ ok: 2 }]]);
    });
  });

  describe("batch transaction headers", () => {
    const settings = sql`SELECT current_setting('transaction_isolation') AS iso,
      current_setting('transaction_read_only') AS ro, current_setting('transaction_deferrable') AS deferrable`;

    it("default to read committed, read write", async () => {
      expect(await sql.transaction([settings])).toEqual([[{ iso: "read committed", ro: "off", deferrable: "off" }]]);
    });

    it("set isolation level, read only and deferrable", async () => {
      const [[row]] = await sql.transaction([settings], { isolationLevel: "Serializable", readOnly: true, deferrable: true });
      expect(row).toEqual({ iso: "serializable", ro: "on", deferrable: "on" });
      const [[repeatable]] = await sql.transaction([settings], { isolationLevel: "RepeatableRead" });
      expect(repeatable).toEqual({ iso: "repeatable read", ro: "off", deferrable: "off" });
    });

    it("refuse a write inside a read-only batch: 25006, nothing written", async () => {
      const email = uniqueEmail();
      const error = await rejection(sql.transaction([sql.query(INSERT_USER, [email])], { readOnly: true }));
      expect(error).toMatchObject({ name: "NeonDbError", code: "25006" });
      expect(await countUsers(email)).toBe(0);
    });
  });

  describe("malformed requests to the endpoint", () => {
    const CONNECTION = { "Neon-Connection-String": "postgresql://a:b@127.0.0.1/x" };
    const cases: [string, RequestInit, string][] = [
      ["a body that is not JSON", { body: "not json", headers: CONNECTION }, "body is not JSON"],
      [
        "no Neon-Connection-String header",
        { body: JSON.stringify({ query: "SELECT 1", params: [] }) },
        "missing Neon-Connection-String header",
      ],
      ["a query that is not a string", { body: JSON.stringify({ query: 1, params: [] }), headers: CONNECTION }, "query must be a string"],
      [
        "a parameter that is not a string or null",
        { body: JSON.stringify({ query: "SELECT $1", params: [1] }), headers: CONNECTION },
        "params must be an array of strings or nulls",
      ],
      [
        "an unknown isolation level",
        {
          body: JSON.stringify({ queries: [{ query: "SELECT 1", params: [] }] }),
          headers: { ...CONNECTION, "Neon-Batch-Isolation-Level": "Chaotic" },
        },
        "unknown isolation level Chaotic",
      ],
    ];

    it.each(cases)("answer 400 with a JSON message for %s", async (_, init, message) => {
      const res = await fetch(env.NEON_LOCAL_ENDPOINT, { method: "POST", ...init });
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(await res.json()).toEqual({ message });
    });
  });

  describe("round-trip counting (GET /stats?connection=…)", () => {
    /** A client on a connection string of its own, and its counters as the endpoint keeps them. */
    function countedClient(scheme: "postgres" | "postgresql") {
      const rest = `//app:app@127.0.0.1:5432/app?rt=${crypto.randomUUID()}`;
      // The driver sends postgresql:// and appends application_name; the key is what it sends, without that.
      const key = `postgresql:${rest}`;
      const stats = async () => (await fetch(`${env.NEON_LOCAL_STATS}?connection=${encodeURIComponent(key)}`)).json();
      return { client: neon(`${scheme}:${rest}`), stats };
    }

    it("counts one request per query and per batch, with the batch's statements", async () => {
      const { client, stats } = countedClient("postgresql");
      expect(await stats()).toEqual({ requests: 0, queries: 0 });
      await client.query("SELECT $1::int AS n", [1]);
      expect(await stats()).toEqual({ requests: 1, queries: 1 });
      await client.transaction([client`SELECT 1`, client`SELECT 2`, client`SELECT 3`]);
      expect(await stats()).toEqual({ requests: 2, queries: 4 });
      // A failed query is still a round trip.
      await rejection(client.query("SELEC 1"));
      expect(await stats()).toEqual({ requests: 3, queries: 5 });
    });

    it("keys a postgres:// connection string under postgresql://, as the driver sends it", async () => {
      const { client, stats } = countedClient("postgres");
      await client`SELECT 1`;
      expect(await stats()).toEqual({ requests: 1, queries: 1 });
    });
  });
});

describe("injected faults (POST /faults?connection=…&mode=…&from=N)", () => {
  /** A client on a connection string of its own, a fault set for it, and its counters. */
  async function faulted(mode: Fault, from = 1) {
    const rest = `//app:app@127.0.0.1:5432/app?fault=${crypto.randomUUID()}`;
    const key = `postgresql:${rest}`;
    expect((await setFault(key, mode, from)).status).toBe(204);
    return {
      // A short timeout ends a hang, as the Worker's DB_TIMEOUT_MS does.
      client: neon(`postgresql:${rest}`, { fetchOptions: { signal: AbortSignal.timeout(300) } }),
      /** Clears the fault; the endpoint answers once the connection's faulted requests have committed or rolled back. */
      clear: async () => expect((await setFault(key, "none")).status).toBe(204),
      stats: async () => (await fetch(`${env.NEON_LOCAL_STATS}?connection=${encodeURIComponent(key)}`)).json(),
    };
  }

  describe.each(FAULTS_BEFORE_SQL)("%s (before any SQL runs)", (mode) => {
    it("fails the query and runs none of it", async () => {
      const email = uniqueEmail();
      const { client, clear, stats } = await faulted(mode);
      const error = await rejection(client.query(INSERT_USER, [email]));
      expect(error).toBeInstanceOf(NeonDbError);
      expect(error.message).toMatch({ refuse: /fetch|connect|network/i, error: /server error/, hang: /abort|timeout/i }[mode]);
      await clear();
      expect(await countUsers(email)).toBe(0);
      expect(await stats()).toEqual({ requests: 0, queries: 0 });
    });
  });

  describe.each(FAULTS_AFTER_SQL)("%s (after the SQL ran)", (mode) => {
    const committed = mode !== "drop-before-commit";

    it(`fails the query, which ${committed ? "has committed" : "was rolled back"}`, async () => {
      const email = uniqueEmail();
      const { client, clear, stats } = await faulted(mode);
      const error = await rejection(client.query(INSERT_USER, [email]));
      expect(error).toBeInstanceOf(NeonDbError);
      expect(error.message).toMatch(
        {
          "drop-before-commit": /fetch|connect|network|closed|reset/i,
          "drop-after-commit": /fetch|connect|network|closed|reset/i,
          "error-after-commit": /server error/,
          "hang-after-commit": /abort|timeout/i,
        }[mode],
      );
      await clear();
      expect(await countUsers(email)).toBe(committed ? 1 : 0);
      expect(await stats()).toEqual({ requests: 1, queries: 1 });
    });

    it(`treats a batch as one transaction: all of it ${committed ? "committed" : "rolled back"}`, async () => {
      const emails = [uniqueEmail(), uniqueEmail()];
      const { client, clear } = await faulted(mode);
      await rejection(client.transaction(emails.map((email) => client.query(INSERT_USER, [email]))));
      await clear();
      expect(await Promise.all(emails.map(countUsers))).toEqual(committed ? [1, 1] : [0, 0]);
    });

    it("runs the SQL before the fault: a failing statement answers with its Postgres error", async () => {
      const { client, clear } = await faulted(mode);
      const error = await rejection(client`SELECT 1 / 0 AS boom`);
      expect(error).toMatchObject({ name: "NeonDbError", code: "22012" });
      await clear();
    });
  });

  it("from N spares the first N − 1 requests of the connection and hits every later one", async () => {
    const emails = [uniqueEmail(), uniqueEmail(), uniqueEmail()];
    const { client, clear, stats } = await faulted("drop-before-commit", 2);
    expect(await client.query(INSERT_USER, [emails[0]])).toEqual([{ id: expect.any(String) }]);
    await rejection(client.query(INSERT_USER, [emails[1]]));
    await rejection(client.query(INSERT_USER, [emails[2]]));
    await clear();
    expect(await Promise.all(emails.map(countUsers))).toEqual([1, 0, 0]);
    expect(await stats()).toEqual({ requests: 3, queries: 3 });
  });

  it("touches only its own connection string, and ends when cleared", async () => {
    const { client, clear } = await faulted("error");
    await rejection(client`SELECT 1`);
    expect(await sql`SELECT 1 AS ok`).toEqual([{ ok: 1 }]);
    await clear();
    expect(await client`SELECT 1 AS ok`).toEqual([{ ok: 1 }]);
  });

  it("clearing waits for a faulted request still running, so a read-back right after sees its commit", async () => {
    const email = uniqueEmail();
    const { client, clear } = await faulted("hang-after-commit");
    // The client gives up (300 ms) long before the statement commits. (PGlite runs one
    // statement at a time, so there any read waits; on PostgreSQL only the clearing does.)
    await rejection(client.transaction([client`SELECT pg_sleep(0.8)`, client.query(INSERT_USER, [email])]));
    await clear();
    expect(await countUsers(email)).toBe(1);
  });

  it.each([
    [
      "an unknown mode",
      "connection=x&mode=sometimes",
      `mode must be none or one of ${[...FAULTS_BEFORE_SQL, ...FAULTS_AFTER_SQL, "slow-commit"].join(", ")}`,
    ],
    ["from 0", "connection=x&mode=error&from=0", "from must be a positive integer"],
    ["a from that is not a number", "connection=x&mode=error&from=2nd", "from must be a positive integer"],
    ["no connection", "mode=error", "connection is required"],
  ])("refuses %s with 400", async (_, query, message) => {
    const res = await fetch(`${env.NEON_LOCAL_STATS.replace(/\/stats$/, "/faults")}?${query}`, { method: "POST" });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ message });
  });
});
