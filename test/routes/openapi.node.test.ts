/**
 * The OpenAPI document against the OpenAPI 3.1 schema, with a well-kept
 * validator (@apidevtools/swagger-parser), built from the registry's routes
 * in Node; the copy the Worker serves is that same document; and
 * openapi-typescript turns it into TypeScript types, as a client would.
 */
import { readFileSync } from "node:fs";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Hono } from "hono";
import openapiTS, { astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";
import { OPENAPI_FILE } from "../../scripts/openapi";
import type { AppEnv } from "../../src/app-env";
import { buildOpenApiDocument } from "../../src/lib/openapi";
import { registeredRoutes } from "../../src/lib/registry";
import { resources } from "../../src/resources";

const documentedPaths = new Set(registeredRoutes(resources.filter((r) => "tag" in r)).map((r) => r.path));

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const document = buildOpenApiDocument(resources);
    // validate() dereferences in place: give it a copy.
    const api = await SwaggerParser.validate(structuredClone(document) as never);
    expect(api.info.title).toBe("Edge Health API");
    expect(documentedPaths.size).toBeGreaterThanOrEqual(15);
    expect(Object.keys(document.paths)).toHaveLength(documentedPaths.size);
  });

  it("fails validation when an operation is broken (the validator is really checking)", async () => {
    const document = buildOpenApiDocument(resources) as unknown as {
      paths: Record<string, Record<string, { parameters: { required: boolean }[] }>>;
    };
    // A path parameter must be required.
    document.paths["/api/patients/{id}/"].get.parameters[0].required = false;
    await expect(SwaggerParser.validate(document as never)).rejects.toThrow();
  });

  it("cannot be built while a documented resource has a route without describeRoute()", () => {
    const undocumented = new Hono<AppEnv>().get("/", (c) => c.json({}));
    const registry = [...resources, { path: "/api/undocumented", router: undocumented, tag: { name: "x", description: "x" } }];
    expect(() => buildOpenApiDocument(registry)).toThrow("GET /api/undocumented has no describeRoute()");
  });

  it("is what public/api/openapi.json holds (the build step ran after the last route change)", () => {
    expect(JSON.parse(readFileSync(OPENAPI_FILE, "utf8"))).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument(resources))));
  });

  it("gives every list (an operation taking offset) the cursor parameter", () => {
    const document = buildOpenApiDocument(resources) as unknown as {
      paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[] }>>;
    };
    const lists = Object.values(document.paths)
      .flatMap((methods) => Object.values(methods))
      .filter((op) => op.parameters?.some((p) => p.name === "offset" && p.in === "query"));
    expect(lists.map((op) => op.operationId)).toEqual(
      expect.arrayContaining(["listAdminUsers", "listAuditEvents", "listDoctors", "listMappings", "listPatientDoctors", "listPatients"]),
    );
    for (const op of lists)
      expect(
        op.parameters?.map((p) => p.name),
        op.operationId,
      ).toContain("cursor");
  });

  it("generates TypeScript types with openapi-typescript, named after the shared schemas", async () => {
    const types = astToString(await openapiTS(JSON.parse(JSON.stringify(buildOpenApiDocument(resources)))));
    expect(types).toContain("listPatients: {");
    const patient = types.slice(types.indexOf("        Patient: {"), types.indexOf("        PatientInput: {"));
    expect(patient).toContain("phone: string | null;");
    expect(types).toContain('"/api/patients/{id}/": {');
  });
});
