/**
 * The assembled app (src/index.ts) through the Worker's real entrypoint:
 * the general rules of docs/BEHAVIOUR.md that hold for every route.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import app from "../src/index";
import { call, callWithEnv, expectProblem, ORIGIN } from "./helpers";

describe("the Worker's entrypoint", () => {
  it("serves the app through the module's default export", async () => {
    const res = await exports.default.fetch(new Request(`${ORIGIN}/api/health/`));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    await expectProblem(await exports.default.fetch(new Request(`${ORIGIN}/api/nowhere/`)), 404);
  });
});

describe("unknown paths and methods", () => {
  it("answers 404 problem+json for an unknown path, with or without the slash", async () => {
    for (const path of ["/api/nothing-here/", "/api/nothing-here", "/api/", "/", "/api/health/extra"]) {
      await expectProblem(await call(path), 404);
    }
  });

  it("answers 405 with Allow for a known path and another method", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      for (const path of ["/api/health/", "/api/health/ready"]) {
        const res = await call(path, { method });
        await expectProblem(res, 405);
        expect(res.headers.get("Allow")?.split(", ").sort()).toEqual(["GET", "HEAD", "OPTIONS"]);
      }
    }
  });

  it("answers HEAD like GET without a body, and OPTIONS with Allow", async () => {
    const head = await call("/api/health/", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const options = await call("/api/health", { method: "OPTIONS" });
    expect(options.status).toBe(204);
    expect(options.headers.get("Allow")).toContain("GET");
  });

  it("decides 404 and 405 before the body size (docs/BEHAVIOUR.md, check order)", async () => {
    const big = "x".repeat(70 * 1024);
    const headers = { "Content-Type": "application/json" };
    await expectProblem(await call("/api/health/", { method: "POST", body: big, headers }), 405);
    await expectProblem(await call("/api/unknown/", { method: "POST", body: big, headers }), 404);
  });

  it("never redirects", async () => {
    for (const path of ["/api/health", "/api/health/", "/api/health/ready", "/api/health/ready/"]) {
      const res = await call(path, { redirect: "manual" });
      expect(res.status).toBe(200);
      expect(res.headers.get("Location")).toBeNull();
    }
  });
});

describe("request id", () => {
  it("echoes a sane X-Request-Id", async () => {
    for (const id of ["abc", "req-1.2:3_4", "A".repeat(128)]) {
      const res = await call("/api/health/", { headers: { "X-Request-Id": id } });
      expect(res.headers.get("X-Request-Id")).toBe(id);
    }
  });

  it("replaces an unusable one with a generated id, on errors too", async () => {
    for (const id of ["A".repeat(129), "has space", "semi;colon", "a=b", "é"]) {
      const res = await call("/api/nope", { headers: { "X-Request-Id": id } });
      const generated = res.headers.get("X-Request-Id");
      expect(generated).not.toBe(id);
      expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe("security and cache headers", () => {
  it("sends nosniff and a locked-down CSP on JSON and problem responses", async () => {
    for (const res of [await call("/api/health/"), await call("/api/nope")]) {
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("Content-Security-Policy")).toBe("default-src 'none'; frame-ancestors 'none'");
    }
  });

  it("marks every /api/ response no-store except the health routes", async () => {
    expect((await call("/api/nope")).headers.get("Cache-Control")).toBe("no-store");
    expect((await call("/api/health/")).headers.get("Cache-Control")).toBeNull();
    expect((await call("/api/health/ready/")).headers.get("Cache-Control")).toBeNull();
  });
});

describe("allowed hosts", () => {
  const withHosts = (hosts: string | undefined, url: string) => app.request(url, {}, { ...env, ALLOWED_HOSTS: hosts });

  it("serves listed hosts, any port, and subdomains of a .domain entry", async () => {
    const hosts = "api.example.com, .example.org";
    for (const url of [
      "https://api.example.com/api/health/",
      "https://API.EXAMPLE.COM:8443/api/health/",
      "https://example.org/api/health/",
      "https://a.b.example.org/api/health/",
    ]) {
      expect((await withHosts(hosts, url)).status, url).toBe(200);
    }
  });

  it("refuses any other host with 400 problem+json", async () => {
    const hosts = "api.example.com,.example.org";
    for (const url of [
      "https://evil.com/api/health/",
      "https://badexample.org/api/health/",
      "https://api.example.com.evil.com/api/health/",
    ]) {
      await expectProblem(await withHosts(hosts, url), 400);
    }
  });

  it("allows every host with *", async () => {
    expect((await withHosts("*", "https://anything.test/api/health/")).status).toBe(200);
  });

  it("is a 500 (misconfiguration) in production when ALLOWED_HOSTS is unset", async () => {
    const res = await app.request(
      "https://api.example.com/api/health/",
      {},
      { ...env, ALLOWED_HOSTS: undefined, NEON_LOCAL_ENDPOINT: undefined },
    );
    await expectProblem(res, 500);
    // …but defaults to any host in local development.
    expect((await callWithEnv({ ALLOWED_HOSTS: undefined }, "/api/health/")).status).toBe(200);
  });
});

describe("CORS", () => {
  const listed = env.CORS_ORIGINS;

  it("gives a listed origin CORS headers and answers its preflight", async () => {
    const res = await call("/api/health/", { headers: { Origin: listed } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(listed);
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-Id");
    const preflight = await call("/api/health/", {
      method: "OPTIONS",
      headers: { Origin: listed, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe(listed);
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toContain("PATCH");
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
  });

  it("lets a browser client send Idempotency-Key and read Idempotent-Replayed", async () => {
    const res = await call("/api/health/", { headers: { Origin: listed } });
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("Idempotent-Replayed");
    const preflight = await call("/api/patients/", {
      method: "OPTIONS",
      headers: { Origin: listed, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "idempotency-key" },
    });
    expect(preflight.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("idempotency-key");
  });

  it("gives any other origin no CORS headers at all", async () => {
    const res = await call("/api/health/", { headers: { Origin: "https://evil.example" } });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(res.headers.get("Vary")).toContain("Origin");
    const preflight = await call("/api/health/", {
      method: "OPTIONS",
      headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toBeNull();
  });
});
