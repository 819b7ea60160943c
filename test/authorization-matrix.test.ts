/**
 * Every route × {no token, bad token, another user, the owner, an
 * administrator} → the exact status docs/BEHAVIOUR.md gives. Each resource
 * keeps its rows in test/routes/<resource>.matrix.ts; the table is checked
 * against the resource registry: a route without a row fails the test.
 */
import { beforeAll, describe, expect, it } from "vitest";
import app from "../src/index";
import { call, jsonRequest, login, makeAdmin, newUser, PASSWORD, type TestUser } from "./helpers";
import { fillPath as fill, MATRIX, matrixFixture, registryRoutes, routeKey } from "./matrix/load";
import type { Fixture, Persona } from "./matrix/types";

const PERSONAS: Persona[] = ["none", "bad", "other", "owner", "admin"];

describe("authorization matrix", () => {
  it("has a row for every route of the registry, and none for a route it lacks", () => {
    expect(new Set(Object.keys(MATRIX))).toEqual(new Set(registryRoutes.map(routeKey)));
    // The registry is what the app serves.
    expect(new Set(registryRoutes.map(routeKey))).toEqual(new Set(app.routes.filter((r) => r.method !== "ALL").map(routeKey)));
  });

  let owner: TestUser;
  let other: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    [owner, other, admin] = await Promise.all([newUser("Owner"), newUser("Other"), newUser("Admin")]);
    await makeAdmin(admin);
    // The admin flag is read from the database on each request: the token need not change.
    admin.tokens = await login(admin.email, PASSWORD);
  });

  const fixture = (): Promise<Fixture> => matrixFixture(owner);

  const headersFor = (persona: Persona): Record<string, string> => {
    switch (persona) {
      case "none":
        return {};
      case "bad":
        return { Authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad-signature" };
      default:
        return { Authorization: `Bearer ${{ owner, other, admin }[persona].tokens.access}` };
    }
  };

  it.each(Object.entries(MATRIX))("%s", async (route, row) => {
    const method = route.split(" ")[0];
    const f = await fixture();
    const path = fill(row.path, f);
    if (typeof row.expect === "number") {
      const body = row.publicBody ? await row.publicBody() : undefined;
      const res = await call(path, body === undefined ? { method } : jsonRequest(method, body));
      expect(res.status, route).toBe(row.expect);
      return;
    }
    const seen: Record<string, number> = {};
    for (const persona of PERSONAS) {
      // Each persona gets its own fresh resources for writes, so the owner's DELETE does not hide the admin's 404.
      const cell = method === "GET" ? f : await fixture();
      const headers = headersFor(persona);
      const init = row.body ? jsonRequest(method, row.body(cell), headers) : { method, headers };
      seen[persona] = (await call(fill(row.path, cell), init)).status;
    }
    expect(seen, route).toEqual(row.expect);
  });
});
