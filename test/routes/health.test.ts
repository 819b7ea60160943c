import { describe, expect, it } from "vitest";
import { call, callWithEnv, captureLogs, countRoundTrips, expectProblem } from "../helpers";

describe("GET /api/health/", () => {
  it("answers ok with and without the trailing slash, without touching the database", async () => {
    for (const path of ["/api/health/", "/api/health"]) {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    }
    expect(await countRoundTrips((c) => c("/api/health/"))).toBe(0);
  });

  it("still answers when the database is not configured or down", async () => {
    expect((await callWithEnv({ DATABASE_URL: undefined }, "/api/health/")).status).toBe(200);
    expect((await callWithEnv({ NEON_LOCAL_ENDPOINT: "http://127.0.0.1:9/sql" }, "/api/health/")).status).toBe(200);
  });
});

describe("GET /api/health/ready/", () => {
  it("answers 200 after one real database round trip", async () => {
    const res = await call("/api/health/ready/");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready" });
    expect(await countRoundTrips((c) => c("/api/health/ready"))).toBe(1);
  });

  it("answers 503 with Retry-After when the endpoint refuses connections", async () => {
    const res = await callWithEnv({ NEON_LOCAL_ENDPOINT: "http://127.0.0.1:9/sql" }, "/api/health/ready/");
    const body = await expectProblem(res, 503);
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(body.detail).not.toMatch(/127\.0\.0\.1|sql|fetch/i);
  });

  it("answers 503 when DATABASE_URL is missing", async () => {
    const res = await callWithEnv({ DATABASE_URL: undefined }, "/api/health/ready/");
    await expectProblem(res, 503);
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
  });
});

describe("NEON_LOCAL_ENDPOINT outside local development", () => {
  it("is refused unless it is a loopback address: data routes answer 500 and the log names the variable", async () => {
    const logs = await captureLogs(async () => {
      const remote = { NEON_LOCAL_ENDPOINT: "https://db.example.com/sql" };
      await expectProblem(await callWithEnv(remote, "/api/health/ready/"), 500);
      const login = { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"email":"a@example.com","password":"x"}' };
      await expectProblem(await callWithEnv(remote, "/api/auth/login/", login), 500);
    });
    expect(logs).toContain("NEON_LOCAL_ENDPOINT");
  });
});
