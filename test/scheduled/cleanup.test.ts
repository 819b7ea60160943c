/**
 * The scheduled clean-up, run as the Cron Trigger runs it: a scheduled event
 * to the entrypoint's `scheduled` handler (test/wrangler-config.node.test.ts
 * checks the trigger itself). Other test files write concurrently, so every
 * check is on rows of this file's own.
 */

import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { EXPIRING_ROWS } from "../../src/scheduled/cleanup";
import worker from "../../src/worker";
import { directSql, newUser } from "../helpers";

const sql = directSql();

/** A refresh-token family of `user` whose tokens expire at the given offsets from now (in hours; negative is past). */
async function family(userId: string, expiresInHours: number[], revoked = false): Promise<string> {
  const familyId = crypto.randomUUID();
  for (const hours of expiresInHours) {
    await sql`
      INSERT INTO refresh_tokens (user_id, family_id, token_hash, created_at, expires_at, revoked_at)
      VALUES (${userId}, ${familyId}, ${crypto.randomUUID()}, now() - interval '30 days',
              now() + make_interval(hours => ${hours}), ${revoked ? new Date() : null})`;
  }
  return familyId;
}

const tokensOf = async (familyId: string) =>
  Number((await sql`SELECT count(*)::int AS n FROM refresh_tokens WHERE family_id = ${familyId}`)[0].n);

/** Login-attempt rows whose window started `minutesAgo` minutes ago; returns their keys. */
async function attempts(count: number, minutesAgo: number): Promise<string[]> {
  const keys = Array.from({ length: count }, () => `cleanup-test-${crypto.randomUUID()}`);
  for (const key of keys) {
    await sql`INSERT INTO login_attempts (email_hash, failures, window_started_at)
              VALUES (${key}, 3, now() - make_interval(mins => ${minutesAgo}))`;
  }
  return keys;
}

const remaining = async (keys: string[]) =>
  Number((await sql`SELECT count(*)::int AS n FROM login_attempts WHERE email_hash = ANY(${keys})`)[0].n);

/** Runs the scheduled handler directly, with some bindings changed. */
async function runCleanup(overrides: Record<string, string> = {}) {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron: "23 * * * *" }), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
}

describe("scheduled clean-up", () => {
  it("deletes expired token families and stale login attempts, and keeps the rest", async () => {
    const user = await newUser();
    const expired = await family(user.id, [-48, -24, -1]);
    // A used, expired token beside a live one still detects reuse: the family stays.
    const live = await family(user.id, [-24, 24]);
    // A revoked family stays until it expires: the mark keeps it dead.
    const revoked = await family(user.id, [24], true);
    const stale = await attempts(2, 24 * 60);
    const current = await attempts(1, 1);

    await runCleanup();

    expect(await tokensOf(expired)).toBe(0);
    expect(await tokensOf(live)).toBe(2);
    expect(await tokensOf(revoked)).toBe(1);
    expect(await remaining(stale)).toBe(0);
    expect(await remaining(current)).toBe(1);
    // The user's own login family is live.
    expect((await sql`SELECT count(*)::int AS n FROM refresh_tokens WHERE user_id = ${user.id}`)[0].n).toBe(4);
  });

  it("deletes sync tombstones an hour after SYNC_TOMBSTONE_DAYS, and keeps younger ones", async () => {
    const user = await newUser();
    const tombstone = async (hoursAgo: number) => {
      const id = crypto.randomUUID();
      await sql`INSERT INTO sync_tombstones (resource_type, id, owner_id, deleted_at)
                VALUES ('patient', ${id}, ${user.id}, now() - make_interval(mins => ${Math.round(hoursAgo * 60)}))`;
      return id;
    };
    // Kept 2 days here: 49 hours and more go, 47 hours stay (the hour's margin of docs/SYNC.md).
    const [old, marginal, young] = [await tombstone(50), await tombstone(48.5), await tombstone(47)];
    await runCleanup({ SYNC_TOMBSTONE_DAYS: "2" });
    const left = await sql`SELECT id FROM sync_tombstones WHERE owner_id = ${user.id}`;
    expect(left.map((r) => r.id).sort()).toEqual([marginal, young].sort());
    expect(left.map((r) => r.id)).not.toContain(old);
  });

  it("deletes idempotency keys after 24 hours, and keeps younger ones", async () => {
    const user = await newUser();
    const key = async (hoursAgo: number) => {
      const keyHash = `cleanup-test-${crypto.randomUUID()}`;
      await sql`INSERT INTO idempotency_keys (user_id, key_hash, fingerprint, status, resource_type, resource_id, created_at)
                VALUES (${user.id}, ${keyHash}, 'f', 201, 'patient', ${crypto.randomUUID()}, now() - make_interval(hours => ${hoursAgo}))`;
      return keyHash;
    };
    const [old, young] = [await key(25), await key(23)];
    // Another user's key with the same hash stays: keys are deleted by (user, key).
    const other = await newUser();
    await sql`INSERT INTO idempotency_keys (user_id, key_hash, fingerprint, status, resource_type, resource_id)
              VALUES (${other.id}, ${old}, 'f', 201, 'patient', ${crypto.randomUUID()})`;
    await runCleanup();
    const left = await sql`SELECT user_id, key_hash FROM idempotency_keys WHERE user_id IN (${user.id}, ${other.id}) ORDER BY key_hash`;
    expect(left.map((r) => [r.user_id, r.key_hash]).sort()).toEqual(
      [
        [user.id, young],
        [other.id, old],
      ].sort(),
    );
  });

  it("deletes in bounded batches: CLEANUP_BATCH_ROWS per statement, CLEANUP_MAX_BATCHES statements per table per run", async () => {
    const stale = await attempts(5, 24 * 60);
    const bounded = { CLEANUP_BATCH_ROWS: "2", CLEANUP_MAX_BATCHES: "2" };
    // Round trips counted by the local endpoint under a connection string of this run's own.
    const connection = `postgresql://app:app@127.0.0.1:5432/app?rt=${crypto.randomUUID()}`;
    await runCleanup({ ...bounded, DATABASE_URL: connection });
    const stats = (await (await fetch(`${env.NEON_LOCAL_STATS}?connection=${encodeURIComponent(connection)}`)).json()) as {
      requests: number;
    };
    expect(stats.requests).toBeLessThanOrEqual(EXPIRING_ROWS.length * 2);
    // Two batches of two: one of the five is left for the next run.
    expect(await remaining(stale)).toBe(1);
    await runCleanup(bounded);
    expect(await remaining(stale)).toBe(0);
  });
});
