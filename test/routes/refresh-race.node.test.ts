/**
 * Refresh tokens are single-use under real concurrency (docs/SECURITY.md):
 * the deployable bundle in four workerd instances (Miniflare) on one
 * database, and one refresh token presented to all of them at once. However
 * the statements interleave, the session never forks: every 200 carries the
 * same successor (a racer that saw the rotation committed gets the grace
 * window's retry answer), and afterwards the family holds at most one live
 * token — that successor — or none at all when a racer counted as reuse.
 * With the window off (REFRESH_REUSE_GRACE_SECONDS=0), exactly one racer
 * gets the successor and every other one is reuse, which revokes the family.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startBundleInstances } from "../../scripts/lib/bundle";
import { sha256 } from "../../src/lib/tokens";
import { send } from "../instances";

const INSTANCES = 4;
const REQUESTS = 12;
// More rounds when hunting an interleaving: REFRESH_RACE_ROUNDS=50.
const ROUNDS = Number(process.env.REFRESH_RACE_ROUNDS ?? 3);
const DATABASE_URL = "postgres://local:local@127.0.0.1/main";

describe.each([
  { grace: "30", window: "within the grace window" },
  { grace: "0", window: "with the grace window off" },
])("refresh across Worker instances, $window", ({ grace }) => {
  let instances: Miniflare[] = [];
  let origins: string[] = [];
  const sql = () => {
    neonConfig.fetchEndpoint = inject("neonLocalEndpoint");
    return neon(DATABASE_URL);
  };

  beforeAll(async () => {
    ({ instances, origins } = await startBundleInstances(INSTANCES, {
      NEON_LOCAL_ENDPOINT: inject("neonLocalEndpoint"),
      DATABASE_URL,
      JWT_SECRET: "refresh-race-secret-0123456789abcdef0123456789",
      ALLOWED_HOSTS: "*",
      REFRESH_REUSE_GRACE_SECONDS: grace,
    }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map((mf) => mf.dispose()));
  });

  /** A POST to instance `i mod INSTANCES`. */
  const post = (i: number, path: string, body: unknown) => send(origins[i % INSTANCES], "POST", path, undefined, body);

  it(`one token sent ${REQUESTS} times at once over ${INSTANCES} instances never gives two live branches`, {
    timeout: 90_000,
  }, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const email = `refresh-race-${crypto.randomUUID()}@example.com`;
      const password = "a racing pass phrase";
      expect((await post(0, "/api/auth/register/", { name: "Race", email, password })).status).toBe(201);
      const refresh = (await post(1, "/api/auth/login/", { email, password })).body.refresh as string;

      const answers = await Promise.all(
        Array.from({ length: REQUESTS }, async (_, i) => {
          const res = await post(i, "/api/auth/refresh/", { refresh });
          return { status: res.status, refresh: res.status === 200 ? (res.body.refresh as string) : undefined };
        }),
      );
      expect(
        answers.every((a) => a.status === 200 || a.status === 401),
        answers.map((a) => a.status).join(","),
      ).toBe(true);
      const successors = new Set(answers.flatMap((a) => (a.refresh ? [a.refresh] : [])));
      expect(successors.size, "distinct successors answered").toBeLessThanOrEqual(1);

      // The family, read back: at most one token still usable, and it is the one answered.
      const live = (await sql().query(
        `SELECT t.token_hash FROM refresh_tokens t
         WHERE t.family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
           AND t.used_at IS NULL AND t.revoked_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM refresh_tokens f WHERE f.family_id = t.family_id AND f.revoked_at IS NOT NULL)`,
        [await sha256(refresh)],
      )) as { token_hash: string }[];
      expect(live.length, "live tokens in the family").toBeLessThanOrEqual(1);
      if (live.length === 1) expect([await sha256([...successors][0] ?? "")]).toEqual([live[0].token_hash]);
      if (grace === "0") {
        // No retry answers: the one rotation is the only 200, and the racers after it revoked the family.
        expect(answers.filter((a) => a.status === 200).length, "200s with the window off").toBe(1);
        expect(live.length, "live tokens once reuse revoked the family").toBe(0);
      }
    }
  });
});
