/**
 * Who may use the local Neon endpoint: only a client that knows the per-run
 * token (the Worker gets it inside NEON_LOCAL_ENDPOINT) and talks to it by a
 * loopback Host; fault injection only when the tests ask for it. The
 * backend here is a stand-in that records what it was asked to run.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend, SqlQuery } from "../../scripts/neon-local/backends";
import { type NeonLocalServer, startNeonLocalServer } from "../../scripts/neon-local/server";

function recordingBackend(ran: SqlQuery[]): Backend {
  const result = { command: "SELECT", rowCount: 1, fields: [], rows: [] };
  return {
    kind: "pglite",
    description: "recording stand-in",
    query: async (q) => {
      ran.push(q);
      return result;
    },
    batch: async (qs) => {
      ran.push(...qs);
      return qs.map(() => result);
    },
    close: async () => {},
  };
}

/** A raw HTTP request, so that the Host header is exactly what a browser or a rebound DNS name would send. */
function send(url: string, options: { method?: string; host?: string; body?: string } = {}): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port: target.port,
        path: target.pathname + target.search,
        method: options.method ?? "POST",
        headers: {
          Host: options.host ?? target.host,
          "Neon-Connection-String": "postgresql://a:b@127.0.0.1/x",
          "Content-Type": "text/plain",
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(options.method === "GET" ? undefined : (options.body ?? JSON.stringify({ query: "DROP TABLE users", params: [] })));
  });
}

describe("local Neon endpoint access", () => {
  const ran: SqlQuery[] = [];
  let plain: NeonLocalServer;
  let forTests: NeonLocalServer;

  beforeAll(async () => {
    plain = await startNeonLocalServer(recordingBackend(ran));
    forTests = await startNeonLocalServer(recordingBackend(ran), { faults: true });
  });
  afterAll(async () => {
    await plain.close();
    await forTests.close();
  });

  const origin = (server: NeonLocalServer) => `http://127.0.0.1:${server.port}`;
  const withPath = (server: NeonLocalServer, path: string) => server.url.replace(/\/sql$/, path);

  it("runs nothing without the per-run token, or with another one", async () => {
    expect(await send(`${origin(plain)}/sql`)).toBe(401);
    expect(await send(`${origin(plain)}/${"A".repeat(32)}/sql`)).toBe(401);
    // Each run has its own token.
    expect(await send(forTests.url.replace(origin(forTests), origin(plain)))).toBe(401);
    expect(await send(`${origin(plain)}/stats`, { method: "GET" })).toBe(401);
    expect(ran).toEqual([]);
    expect(plain.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{32}\/sql$/);
    expect(await send(plain.url)).toBe(200);
    expect(ran).toHaveLength(1);
  });

  it("answers only loopback Host values (no DNS rebinding)", async () => {
    ran.length = 0;
    expect(await send(plain.url, { host: "attacker.example" })).toBe(400);
    expect(await send(plain.url, { host: `attacker.example:${plain.port}` })).toBe(400);
    expect(await send(plain.url, { host: `127.0.0.1.attacker.example:${plain.port}` })).toBe(400);
    expect(ran).toEqual([]);
    expect(await send(plain.url, { host: `localhost:${plain.port}` })).toBe(200);
    expect(await send(plain.url, { host: `[::1]:${plain.port}` })).toBe(200);
  });

  it("offers POST /faults only when started for the tests", async () => {
    const fault = (server: NeonLocalServer) => send(`${withPath(server, "/faults")}?connection=x&mode=error`, { body: "" });
    expect(await fault(plain)).toBe(404);
    expect(await send(`${origin(forTests)}/faults?connection=x&mode=error`, { body: "" })).toBe(401);
    expect(await fault(forTests)).toBe(204);
  });
});
