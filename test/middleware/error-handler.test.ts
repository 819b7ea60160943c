/**
 * app.onError on a small app with the real middleware: unexpected errors
 * and database errors become problems that leak nothing, in the response
 * or in the log.
 */
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../src/app-env";
import { database } from "../../src/middleware/database";
import { errorHandler } from "../../src/middleware/error-handler";
import { requestId } from "../../src/middleware/request-id";
import { captureLogs, expectProblem } from "../helpers";

const SECRET = "Jane Doe, born 1980-02-03, diagnosis: secret";

const app = new Hono<AppEnv>()
  .use(requestId())
  .get("/boom", () => {
    throw new Error(SECRET);
  })
  .get("/bad-sql", database(), async (c) => {
    await c.var.db.execute(sql`SELEC ${SECRET}`);
    return c.json({});
  })
  .get("/constraint", database(), async (c) => {
    // A CHECK violation carrying personal data in its parameters.
    await c.var.db.execute(sql`INSERT INTO users (email, name, password_hash) VALUES (${"UPPER@EXAMPLE.COM"}, ${SECRET}, 'x')`);
    return c.json({});
  })
  // A transaction Postgres rolled back to end a deadlock or a serialization conflict, raised for real by the database.
  .get("/rolled-back/:code", database(), async (c) => {
    const code = c.req.param("code") === "deadlock" ? "deadlock_detected" : "serialization_failure";
    await c.var.db.execute(sql.raw(`DO $$ BEGIN RAISE EXCEPTION 'rolled back' USING ERRCODE = '${code}'; END $$`));
    return c.json({});
  });
app.onError(errorHandler);

describe("errorHandler", () => {
  it("turns an unexpected error into a 500 problem naming only the request id", async () => {
    let body: Awaited<ReturnType<typeof expectProblem>> | undefined;
    const logs = await captureLogs(async () => {
      body = await expectProblem(await app.request("/boom", { headers: { "X-Request-Id": "trace-123" } }, env), 500);
    });
    // The service's own id, which a client cannot choose; the log keeps the client's beside it.
    const [serviceId] = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/.exec(body?.detail ?? "") ?? [];
    expect(serviceId).toBeDefined();
    expect(JSON.stringify(body)).not.toContain("Jane");
    expect(logs).toContain(`"requestId":"${serviceId}"`);
    expect(logs).toContain('"clientRequestId":"trace-123"');
    expect(logs).not.toContain("Jane");
  });

  it("answers a failing SQL statement with 500, logging its SQLSTATE but not the query or its parameters", async () => {
    let body: unknown;
    const logs = await captureLogs(async () => {
      body = await expectProblem(await app.request("/bad-sql", {}, env), 500);
    });
    expect(JSON.stringify(body)).not.toMatch(/SELEC|Jane/);
    expect(logs).toContain('"code":"42601"');
    expect(logs).not.toMatch(/SELEC|Jane/);
  });

  it("answers a deadlock victim or a serialization failure with 503 and Retry-After: nothing was written, a retry is safe", async () => {
    for (const [name, code] of [
      ["deadlock", "40P01"],
      ["serialization", "40001"],
    ]) {
      let res: Response | undefined;
      const logs = await captureLogs(async () => {
        res = await app.request(`/rolled-back/${name}`, {}, env);
      });
      expect(res?.headers.get("Retry-After")).toMatch(/^\d+$/);
      await expectProblem(res as Response, 503);
      expect(logs).toContain(`"code":"${code}"`);
    }
  });

  it("logs the constraint of a violated constraint, not the row", async () => {
    const logs = await captureLogs(async () => expectProblem(await app.request("/constraint", {}, env), 500));
    expect(logs).toContain('"constraint":"users_email_normalised"');
    expect(logs).not.toMatch(/Jane|UPPER@/);
  });

  it("answers 503 with Retry-After when the database cannot be reached", async () => {
    let res: Response | undefined;
    const logs = await captureLogs(async () => {
      res = await app.request("/bad-sql", {}, { ...env, NEON_LOCAL_ENDPOINT: "http://127.0.0.1:9/sql" });
      await expectProblem(res, 503);
    });
    expect(res?.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect(logs).toContain("db.unavailable");
    expect(logs).not.toContain("Jane");
  });
});
