/**
 * Configuration read from c.env: each failure names the variable in the log
 * and never its value.
 */
import { HTTPException } from "hono/http-exception";
import { afterEach, describe, expect, it, vi } from "vitest";
import { authConfig, type Bindings, databaseConfig, parseHttpConfig } from "../../src/lib/config";

const GOOD_SECRET = "s".repeat(32);

function failure(fn: () => unknown) {
  const logs: string[] = [];
  vi.spyOn(console, "error").mockImplementation((line: unknown) => {
    logs.push(String(line));
  });
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HTTPException);
    return { status: (error as HTTPException).status, log: logs.join("\n") };
  }
  throw new Error("expected a configuration failure");
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("authConfig", () => {
  it("applies the documented defaults", () => {
    expect(authConfig({ JWT_SECRET: GOOD_SECRET })).toEqual({
      JWT_SECRET: GOOD_SECRET,
      JWT_ACCESS_MINUTES: 15,
      JWT_REFRESH_DAYS: 7,
      REFRESH_REUSE_GRACE_SECONDS: 30,
      JWT_ISSUER: "edge-health-api",
      JWT_AUDIENCE: "edge-health-api",
      PASSWORD_ITERATIONS: 100_000,
      LOGIN_MAX_FAILURES: 10,
      LOGIN_WINDOW_MINUTES: 15,
    });
  });

  it("is a 500 without JWT_SECRET", () => {
    const { status, log } = failure(() => authConfig({}));
    expect(status).toBe(500);
    expect(log).toContain("JWT_SECRET is not set");
  });

  it("is a 500 for a JWT_SECRET under 32 characters, without printing it", () => {
    const short = "short-secret-value-31-characters";
    const { status, log } = failure(() => authConfig({ JWT_SECRET: short.slice(0, 31) }));
    expect(status).toBe(500);
    expect(log).toContain("JWT_SECRET is shorter than 32 characters");
    expect(log).not.toContain(short.slice(0, 31));
  });

  it("refuses PASSWORD_ITERATIONS above 100000, which production Workers reject", () => {
    const { status, log } = failure(() => authConfig({ JWT_SECRET: GOOD_SECRET, PASSWORD_ITERATIONS: "100001" }));
    expect(status).toBe(500);
    expect(log).toContain("PASSWORD_ITERATIONS");
    expect(authConfig({ JWT_SECRET: GOOD_SECRET, PASSWORD_ITERATIONS: "100000" }).PASSWORD_ITERATIONS).toBe(100_000);
  });
});

describe("databaseConfig", () => {
  it("is a 503 without DATABASE_URL, or with one that is not postgres://, without printing it", () => {
    expect(failure(() => databaseConfig({})).status).toBe(503);
    const mysql = "mysql://root:hunter2@db.example.com/app";
    const { status, log } = failure(() => databaseConfig({ DATABASE_URL: mysql }));
    expect(status).toBe(503);
    expect(log).toContain("DATABASE_URL");
    expect(log).not.toContain("hunter2");
  });

  it("takes the local endpoint and a timeout", () => {
    const env: Bindings = { DATABASE_URL: "postgresql://u:p@h/db", NEON_LOCAL_ENDPOINT: "http://127.0.0.1:4444/sql" };
    expect(databaseConfig(env)).toEqual({ ...env, DB_TIMEOUT_MS: 5000, STATEMENT_CHECK: false, READ_AUDIT_COMMIT: "durable" });
    for (const loopback of ["http://localhost:4444/sql", "http://[::1]:4444/sql", "http://127.1.2.3/x/sql", "https://127.0.0.1/sql"]) {
      expect(databaseConfig({ ...env, NEON_LOCAL_ENDPOINT: loopback }).NEON_LOCAL_ENDPOINT).toBe(loopback);
    }
  });

  it("takes READ_AUDIT_COMMIT durable (the default) or async, and is a 503 naming it for anything else", () => {
    const env: Bindings = { DATABASE_URL: "postgresql://u:p@h/db" };
    expect(databaseConfig(env).READ_AUDIT_COMMIT).toBe("durable");
    expect(databaseConfig({ ...env, READ_AUDIT_COMMIT: "durable" }).READ_AUDIT_COMMIT).toBe("durable");
    expect(databaseConfig({ ...env, READ_AUDIT_COMMIT: "async" }).READ_AUDIT_COMMIT).toBe("async");
    for (const value of ["off", "ASYNC", "on", "local", ""]) {
      const { status, log } = failure(() => databaseConfig({ ...env, READ_AUDIT_COMMIT: value }));
      expect(status, value).toBe(503);
      expect(log, value).toContain("READ_AUDIT_COMMIT must be durable or async");
    }
  });

  // Set by mistake in production it would send DATABASE_URL, password included, to that host.
  it("is a 500 naming NEON_LOCAL_ENDPOINT (never the connection string) when it is not a loopback http(s) URL", () => {
    const env: Bindings = { DATABASE_URL: "postgresql://u:hunter2@h/db" };
    for (const endpoint of [
      "https://db.example.com/sql",
      "http://127.0.0.1.example.com/sql",
      "http://10.0.0.1:4444/sql",
      "http://localhost@db.example.com/sql",
      "file:///etc/passwd",
      "not a url",
    ]) {
      const { status, log } = failure(() => databaseConfig({ ...env, NEON_LOCAL_ENDPOINT: endpoint }));
      expect(status, endpoint).toBe(500);
      expect(log, endpoint).toContain("NEON_LOCAL_ENDPOINT");
      expect(log, endpoint).not.toContain("hunter2");
    }
  });
});

describe("parseHttpConfig", () => {
  it("splits and trims the lists; an unset ALLOWED_HOSTS means * only with the local endpoint", () => {
    expect(parseHttpConfig({ ALLOWED_HOSTS: " a.com , .b.org ,", CORS_ORIGINS: "https://x.com" })).toEqual({
      ok: true,
      value: { allowedHosts: ["a.com", ".b.org"], corsOrigins: ["https://x.com"] },
    });
    expect(parseHttpConfig({ NEON_LOCAL_ENDPOINT: "http://127.0.0.1:1/sql" })).toMatchObject({ value: { allowedHosts: ["*"] } });
    // A local endpoint that is not local is no reason to allow every host.
    expect(parseHttpConfig({ NEON_LOCAL_ENDPOINT: "https://db.example.com/sql" })).toMatchObject({ value: { allowedHosts: [] } });
    expect(parseHttpConfig({})).toMatchObject({ value: { allowedHosts: [] } });
  });
});
