/**
 * GET /api/openapi.json and GET /api/docs/: the document covers every route
 * the app has, from the same zod schemas that validate requests, and tags
 * them as the resource registry says.
 */
import { describe, expect, it } from "vitest";
import app from "../../src/index";
import { openApiPath } from "../../src/lib/openapi";
import { joinPath } from "../../src/lib/registry";
import { resources } from "../../src/resources";
import { call, expectProblem } from "../helpers";

type Operation = {
  tags: string[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  responses: Record<string, unknown>;
  security?: unknown[];
};
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation & { operationId: string }>>;
  tags: { name: string }[];
  components: { schemas: Record<string, { properties?: Record<string, { type?: unknown }> }> };
};

/** A schema, or the shared schema its `$ref` names. */
const resolve = (doc: Document, schema: Record<string, unknown> | undefined) =>
  (typeof schema?.$ref === "string" ? doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")] : schema) as unknown;

const fetchDocument = async () => (await (await call("/api/openapi.json")).json()) as Document;

/** Resources without a tag (the document and docs page themselves) are not operations of the API. */
const UNDOCUMENTED = resources.filter((r) => !("tag" in r)).map((r) => r.path);
const TAGS = resources.flatMap((r) => ("tag" in r ? [r.tag.name] : []));

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
      .filter((r) => !UNDOCUMENTED.some((path) => r.path === path || r.path.startsWith(joinPath(path, "/"))))
      .map((r) => `${r.method.toLowerCase()} ${openApiPath(r.path)}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method} ${path}`));
    expect(new Set(documented)).toEqual(new Set(inApp));
  });

  it("tags every operation with its resource's tag from the registry, and uses every tag", async () => {
    const doc = await fetchDocument();
    expect(TAGS.length).toBeGreaterThanOrEqual(6);
    expect(doc.tags.map((t) => t.name)).toEqual(TAGS);
    const used = new Set(Object.values(doc.paths).flatMap((ops) => Object.values(ops).flatMap((op) => op.tags)));
    expect(used).toEqual(new Set(TAGS));
    expect(doc.paths["/api/patients/{id}/"].get.tags).toEqual(["patients"]);
  });

  it("names every operation once, readably, and shares named schemas", async () => {
    const doc = await fetchDocument();
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][A-Za-z]+$/);
    expect(doc.paths["/api/patients/"].get.operationId).toBe("listPatients");
    expect(doc.paths["/api/patients/"].post.operationId).toBe("createPatient");
    for (const name of ["Patient", "Doctor", "Mapping", "AuditEvent", "User", "Tokens", "Problem", "PatientPage"]) {
      expect(doc.components.schemas, name).toHaveProperty(name);
    }
    expect(doc.paths["/api/patients/{id}/"].get.responses["200"]).toMatchObject({
      content: { "application/json": { schema: { $ref: "#/components/schemas/Patient" } } },
    });
  });

  it("writes nullable fields as a type list (what Swift and Kotlin generators expect), not anyOf with null", async () => {
    const doc = await fetchDocument();
    expect(doc.components.schemas.Patient.properties?.phone).toEqual({ type: ["string", "null"] });
    expect(JSON.stringify(doc)).not.toContain('{"type":"null"}');
  });

  it("takes request bodies from the validating zod schemas", async () => {
    const doc = await fetchDocument();
    const body = resolve(doc, doc.paths["/api/patients/"].post.requestBody?.content["application/json"].schema) as {
      required: string[];
      additionalProperties: boolean;
      properties: Record<string, { enum?: string[] }>;
    };
    expect(body.required.sort()).toEqual(["date_of_birth", "gender", "name"]);
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.gender).toMatchObject({ enum: ["male", "female", "other", "unknown"] });
    const patch = resolve(doc, doc.paths["/api/patients/{id}/"].patch.requestBody?.content["application/json"].schema) as {
      required?: string[];
    };
    expect(patch.required ?? []).toEqual([]);
  });

  it("lists each operation's error statuses, bearer security, and If-Match where it applies", async () => {
    const doc = await fetchDocument();
    const put = doc.paths["/api/doctors/{id}/"].put;
    expect(Object.keys(put.responses).sort()).toEqual(["200", "400", "401", "403", "404", "409", "412", "413", "415", "422", "503"]);
    expect(put.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(["path:id", "header:Idempotency-Key", "header:If-Match"]);
    expect(doc.paths["/api/auth/login/"].post.security).toEqual([]);
    expect(Object.keys(doc.paths["/api/auth/login/"].post.responses)).toContain("429");
    expect(Object.keys(doc.paths["/api/health/"].get.responses)).toEqual(["200"]);
  });
});

describe("Idempotency-Key in the OpenAPI document", () => {
  it("is documented, with Idempotent-Replayed, 409 and 422, on every write of patients, doctors and mappings, and nowhere else", async () => {
    const doc = await fetchDocument();
    const keyed: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations as Record<string, Operation>)) {
        if (!op.parameters?.some((p) => p.in === "header" && p.name === "Idempotency-Key")) continue;
        keyed.push(`${method.toUpperCase()} ${path}`);
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(["400", "409", "422"]));
        const success = Object.entries(op.responses).find(([status]) => status.startsWith("2"))?.[1] as { headers?: object };
        expect(Object.keys(success.headers ?? {}), `${method} ${path}`).toContain("Idempotent-Replayed");
      }
    }
    expect(keyed.sort()).toEqual(
      [
        "POST /api/patients/",
        "PUT /api/patients/{id}/",
        "PATCH /api/patients/{id}/",
        "DELETE /api/patients/{id}/",
        "POST /api/doctors/",
        "PUT /api/doctors/{id}/",
        "PATCH /api/doctors/{id}/",
        "DELETE /api/doctors/{id}/",
        "POST /api/mappings/",
        "DELETE /api/mappings/{id}/",
      ].sort(),
    );
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
