/**
 * The OpenAPI document against the OpenAPI 3.1 schema, with a well-kept
 * validator (@apidevtools/swagger-parser), built from the app's own route
 * docs in Node.
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "../../src/lib/openapi";
import { routeDocs } from "../../src/resources/docs/routes";

describe("the OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const document = buildOpenApiDocument(routeDocs);
    // validate() dereferences in place: give it a copy.
    const api = await SwaggerParser.validate(structuredClone(document) as never);
    expect(api.info.title).toBe("Edge Health API");
    expect(Object.keys(document.paths)).toHaveLength(15);
  });

  it("fails validation when an operation is broken (the validator is really checking)", async () => {
    const document = buildOpenApiDocument(routeDocs) as { paths: Record<string, Record<string, { parameters: { required: boolean }[] }>> };
    // A path parameter must be required.
    document.paths["/api/patients/{id}/"].get.parameters[0].required = false;
    await expect(SwaggerParser.validate(document as never)).rejects.toThrow();
  });
});
