/**
 * The idempotency fragments (src/db/idempotency.ts) of a write that sent no
 * Idempotency-Key are constants: its statement never names the key table,
 * so Postgres has nothing of it to parse, plan or run. With a key they read
 * and record it. Both shapes are run against the real database.
 */
import { env } from "cloudflare:workers";
import { getTableName, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { idempotency } from "../../src/db/idempotency";
import { idempotencyKeys } from "../../src/db/schema";
import { databaseConfig } from "../../src/lib/config";
import { newUser } from "../helpers";

const db = createDb(databaseConfig(env));
const dialect = new PgDialect();
const keyTable = getTableName(idempotencyKeys);

/** A write in the shape every idempotent statement has: its row is a constant, so only the fragments differ. */
function statement(userId: string, key: { keyHash: string; fingerprint: string } | undefined) {
  const idem = idempotency(userId, key);
  return dialect.sqlToQuery(sql`
    WITH ${idem.prior}, done AS (SELECT ${userId}::uuid AS id WHERE ${idem.fresh}), ${idem.record(201, "patient", "done")}
    SELECT (SELECT count(*) FROM done)::int AS written, ${idem.column}, ${idem.replay(sql`(SELECT ${idem.replayId}) AS replay`)}`);
}

describe("idempotency fragments", () => {
  it("without a key: no mention of the key table, the write runs, nothing is recorded", async () => {
    const user = await newUser();
    const { sql: text, params } = statement(user.id, undefined);
    expect(text).not.toContain(keyTable);
    const { rows } = await db.query(text, params);
    expect(rows).toEqual([{ written: 1, idem: null, replay: null }]);
    const recorded = await db.query(`SELECT count(*)::int AS n FROM ${keyTable} WHERE user_id = $1`, [user.id]);
    expect(recorded.rows[0].n).toBe(0);
  });

  it("with a key: recorded by the first write, which the second finds and does not repeat", async () => {
    const user = await newUser();
    const key = { keyHash: `hash-${crypto.randomUUID()}`, fingerprint: "fingerprint" };
    const { sql: text, params } = statement(user.id, key);
    expect(text).toContain(keyTable);
    expect((await db.query(text, params)).rows).toEqual([{ written: 1, idem: null, replay: null }]);
    expect((await db.query(text, params)).rows).toEqual([
      { written: 0, idem: { matches: true, status: 201, resource_id: user.id }, replay: user.id },
    ]);
  });
});
