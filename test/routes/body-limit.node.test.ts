/**
 * An early 413 must reach the client. The Worker refuses a body over 64 KiB
 * from its Content-Length, before reading it; answering while the client is
 * still sending made `wrangler dev` report "Your worker restarted
 * mid-request" (503) or reset the connection in about half the runs. Sent
 * many times, through `wrangler dev` as a real HTTP server.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startWorker } from "../../scripts/lib/wrangler-dev";

const ROUNDS = 12;

describe("413 through wrangler dev", () => {
  let worker: { origin: string; stop: () => void } | undefined;

  beforeAll(async () => {
    worker = await startWorker({
      NEON_LOCAL_ENDPOINT: inject("neonLocalEndpoint"),
      DATABASE_URL: "postgres://local:local@127.0.0.1/main",
      JWT_SECRET: "body-limit-secret-0123456789abcdef0123456789",
    });
  }, 90_000);

  afterAll(() => worker?.stop());

  it(`answers every oversized register and login body with 413, ${ROUNDS} times each`, { timeout: 120_000 }, async () => {
    const body = JSON.stringify({ name: "x".repeat(70 * 1024), email: "big@example.com", password: "a long enough password" });
    const outcomes: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      for (const path of ["/api/auth/register/", "/api/auth/login/"]) {
        const outcome = await fetch(`${worker?.origin}${path}`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body,
        }).then(
          async (res) => `${res.status} ${res.headers.get("Content-Type")} ${((await res.json()) as { status?: number }).status}`,
          (error: Error) => `${error.message}: ${String((error.cause as Error | undefined)?.message)}`,
        );
        outcomes.push(outcome);
      }
    }
    expect(outcomes).toEqual(Array(ROUNDS * 2).fill("413 application/problem+json 413"));
  });
});
