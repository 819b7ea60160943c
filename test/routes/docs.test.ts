/**
 * GET /api/openapi.json and GET /api/docs/ (API.md §8): the document covers
 * every route the app has, from the same zod schemas that validate requests.
 */
import { describe, expect, it } from "vitest";
import app from "../../src/index";
import { openApiPath } from "../../src/lib/openapi";
import { call, expectProblem } from "../helpers";

type Operation = {
  tags: string[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, unknown>;
  security?: unknown[];
};
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; tags: { name: string }[] };

const fetchDocument = async () => (await (await call("/api/openapi.json")).json()) as Document;

/** The document's own routes are not operations of the API. */
const SELF = ["/api/openapi.json/", "/api/docs/"];

describe("GET /api/openapi.json", () => {
  it("serves an OpenAPI 3.1 document, with and without the trailing slash, cacheable", async () => {
    for (const path of ["/api/openapi.json", "/api/openapi.json/"]) {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
      expect(((await res.json()) as Document).openapi).toBe("3.1.0");
    }
  });

  it("documents every route of the app, and nothing else", async () => {
    const doc = await fetchDocument();
    const inApp = app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`)
      .filter((r) => !SELF.some((path) => r.endsWith(` ${path}`)));
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    expect(new Set(documented)).toEqual(new Set(inApp));
  });

  it("tags every operation with one of the six tags", async () => {
    const doc = await fetchDocument();
    expect(doc.tags.map((t) => t.name)).toEqual(["auth", "patients", "doctors", "mappings", "audit", "health"]);
    const used = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).flatMap((op) => op.tags)));
    expect(used).toEqual(new Set(["auth", "patients", "doctors", "mappings", "audit", "health"]));
  });

  it("takes request bodies from the validating zod schemas", async () => {
    const doc = await fetchDocument();
    const body = doc.paths["/api/patients/"].post.requestBody?.content["application/json"].schema as {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { enum?: string[] }>;
    };
    expect(body.required.sort()).toEqual(["date_of_birth", "gender", "name"]);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.gender).toMatchObject({ enum: ["male", "female", "other", "unknown"] });
    const patch = doc.paths["/api/patients/{id}/"].patch.requestBody?.content["application/json"].schema as { required?: string[] };
    expect(patch.required ?? []).toEqual([]);
  });

  it("lists each operation's error statuses, bearer security, and If-Match where it applies", async () => {
    const doc = await fetchDocument();
    const put = doc.paths["/api/doctors/{id}/"].put;
    expect(Object.keys(put.responses).sort()).toEqual(["200", "400", "401", "403", "404", "409", "412", "413", "415", "503"]);
    expect(put.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["path:id", "header:If-Match"]);
    expect(doc.paths["/api/auth/login/"].post.security).toEqual([]);
    expect(Object.keys(doc.paths["/api/auth/login/"].post.responses)).toContain("429");
    expect(Object.keys(doc.paths["/api/health/"].get.responses)).toEqual(["200"]);
  });
});

describe("GET /api/docs/", () => {
  it("serves the reference page with its own scripts and a CSP allowing only them", async () => {
    for (const path of ["/api/docs/", "/api/docs"]) {
      const res = await call(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
      const csp = res.headers.get("Content-Security-Policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain("unsafe-eval");
      expect(csp).not.toMatch(/https?:/);
      const html = await res.text();
      expect(html).toContain('<script src="/api/docs/assets/swagger-ui-bundle.js"></script>');
      expect(html).not.toMatch(/<script>|https?:\/\//);
    }
  });

  it("answers other methods with 405", async () => {
    await expectProblem(await call("/api/docs/", { method: "POST" }), 405);
    await expectProblem(await call("/api/openapi.json", { method: "DELETE" }), 405);
  });
});
