/**
 * The validation helpers every resource router uses, on a small app wired
 * with the real middleware and error handler: 413 → 415 → malformed JSON →
 * field errors, and non-UUID ids as 404.
 */
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import type { AppEnv } from "../../src/app-env";
import { idParam, jsonBody, queryParams } from "../../src/lib/validation";
import { limitBody, MAX_BODY_BYTES } from "../../src/middleware/body-limit";
import { errorHandler } from "../../src/middleware/error-handler";
import { requestId } from "../../src/middleware/request-id";
import { expectProblem } from "../helpers";

const thing = z.strictObject({ name: z.string().min(1), size: z.number().int().optional() });

const app = new Hono<AppEnv>()
  .use(requestId())
  .use(limitBody())
  .post("/things", jsonBody(thing), (c) => c.json(c.req.valid("json"), 201))
  .get("/things/:id", idParam("No such thing."), (c) => c.json({ id: c.req.valid("param").id }))
  .get("/search", queryParams(z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20) })), (c) =>
    c.json(c.req.valid("query")),
  );
app.onError(errorHandler);

const post = (body: BodyInit | null, headers: Record<string, string> = { "Content-Type": "application/json" }) =>
  app.request("/things", { method: "POST", body, headers });

describe("jsonBody", () => {
  it("accepts a valid body, with any charset parameter", async () => {
    const res = await post(JSON.stringify({ name: "a", size: 2 }), { "Content-Type": "application/json; charset=utf-8" });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: "a", size: 2 });
  });

  it("answers 415 for a body that is not application/json, or has no content type", async () => {
    await expectProblem(await post(JSON.stringify({ name: "a" }), { "Content-Type": "text/plain" }), 415);
    await expectProblem(await post("name=a", { "Content-Type": "application/x-www-form-urlencoded" }), 415);
    await expectProblem(await post(JSON.stringify({ name: "a" }), {}), 415);
  });

  it("answers 415, not 400, for malformed JSON sent as another +json type", async () => {
    await expectProblem(await post("{bad", { "Content-Type": "application/vnd.api+json" }), 415);
    await expectProblem(await post("{bad", { "Content-Type": "application/merge-patch+json" }), 415);
  });

  it("answers 400 for malformed JSON and for an empty body", async () => {
    const body = await expectProblem(await post("{name: 'a'"), 400);
    expect(body.detail).toMatch(/JSON/);
    await expectProblem(await post(""), 400);
  });

  it("names each invalid field under errors", async () => {
    const body = await expectProblem(await post(JSON.stringify({ name: "", size: 1.5 })), 400);
    expect(Object.keys(body.errors ?? {}).sort()).toEqual(["name", "size"]);
  });

  it("rejects unknown and read-only fields by name (mass assignment)", async () => {
    const body = await expectProblem(await post(JSON.stringify({ name: "a", id: "x", owner_id: "y", colour: "red" })), 400);
    expect(body.errors).toEqual({
      id: ["This field is read-only."],
      owner_id: ["This field is read-only."],
      colour: ["Unknown field."],
    });
  });

  it("treats __proto__ in a body as an unknown field, not as a prototype", async () => {
    const body = await expectProblem(await post('{"name":"a","__proto__":{"admin":true}}'), 400);
    expect(body.errors).toHaveProperty("__proto__");
  });

  it("answers 400 for JSON that is not an object", async () => {
    for (const raw of ["null", "[]", '"name"', "42"]) {
      const body = await expectProblem(await post(raw), 400);
      expect(body.errors).toHaveProperty("body");
    }
  });

  it("lets the last of duplicate keys win, as JSON.parse does", async () => {
    const res = await post('{"name":"first","name":"last"}');
    expect(await res.json()).toEqual({ name: "last" });
  });

  it("answers 413 for a body over 64 KiB before looking at its type or content", async () => {
    const big = JSON.stringify({ name: "x".repeat(MAX_BODY_BYTES) });
    await expectProblem(await post(big, { "Content-Type": "text/plain" }), 413);
    // Without a declared length the limit holds while streaming.
    const stream = new Blob([big]).stream();
    const res = await app.request("/things", {
      method: "POST",
      body: stream,
      headers: { "Content-Type": "application/json" },
      // @ts-expect-error: workerd's RequestInit takes duplex for streamed bodies
      duplex: "half",
    });
    await expectProblem(res, 413);
  });

  it("accepts a body of exactly 64 KiB", async () => {
    const padding = MAX_BODY_BYTES - JSON.stringify({ name: "" }).length;
    const res = await post(JSON.stringify({ name: "x".repeat(padding) }));
    expect(res.status).toBe(201);
  });
});

describe("idParam", () => {
  it("passes a UUID through and answers 404 for anything else", async () => {
    const id = crypto.randomUUID();
    expect(await (await app.request(`/things/${id}`)).json()).toEqual({ id });
    for (const bad of ["1", "not-a-uuid", `${id}x`, "%00", "' OR 1=1 --"]) {
      await expectProblem(await app.request(`/things/${encodeURIComponent(bad)}`), 404);
    }
  });
});

describe("queryParams", () => {
  it("applies defaults and answers 400 naming the parameter", async () => {
    expect(await (await app.request("/search")).json()).toEqual({ limit: 20 });
    for (const limit of ["0", "101", "abc", "1.5"]) {
      const body = await expectProblem(await app.request(`/search?limit=${limit}`), 400);
      expect(body.errors).toHaveProperty("limit");
    }
  });
});
