/**
 * Every route × {no token, bad token, another user, the owner, an
 * administrator} → the exact status docs/BEHAVIOUR.md gives. Each resource
 * keeps its rows in test/routes/<resource>.matrix.ts; the table is checked
 * against the resource registry: a route without a row fails the test.
 */
import { beforeAll, describe, expect, it } from "vitest";
import app from "../src/index";
import { registeredRoutes } from "../src/lib/registry";
import { resources } from "../src/resources";
import { call, jsonRequest, login, makeAdmin, newUser, PASSWORD, type TestUser } from "./helpers";
import type { Fixture, MatrixRows, Persona } from "./matrix/types";

const PERSONAS: Persona[] = ["none", "bad", "other", "owner", "admin"];

const registryRoutes = registeredRoutes(resources);
const routeKey = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
/** Where a route's resource sits in the registry: fixtures run in that order. */
const registryIndex = (key: string) => resources.findIndex((res) => registryRoutes.some((r) => routeKey(r) === key && r.resource === res));

const modules = Object.values(import.meta.glob<MatrixRows>("./routes/*.matrix.ts", { eager: true, import: "matrix" })).sort(
  (a, b) => registryIndex(Object.keys(a.rows)[0]) - registryIndex(Object.keys(b.rows)[0]),
);
const MATRIX = Object.assign({}, ...modules.map((m) => m.rows)) as MatrixRows["rows"];
const fixtures = modules.flatMap((m) => (m.fixture ? [m.fixture] : []));

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

  /** Fresh resources of the owner for one cell, so that a DELETE in one cell cannot affect another. */
  async function fixture(): Promise<Fixture> {
    let f: Fixture = {};
    for (const make of fixtures) f = { ...f, ...(await make(owner, f)) };
    return f;
  }

  const fill = (path: string, f: Fixture) => path.replace(/\{(\w+)\}/g, (_, name: string) => f[name] ?? `{${name}}`);

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
