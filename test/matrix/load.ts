/**
 * The rows of test/routes/*.matrix.ts gathered in registry order, and the
 * fixture that runs each resource's part in that order. Shared by the
 * authorization matrix and the account-lifecycle matrix.
 */
import { registeredRoutes } from "../../src/lib/registry";
import { resources } from "../../src/resources";
import type { TestUser } from "../helpers";
import type { Fixture, MatrixRows } from "./types";

export const registryRoutes = registeredRoutes(resources);
export const routeKey = (r: { method: string; path: string }) => `${r.method} ${r.path}`;
/** Where a route's resource sits in the registry: fixtures run in that order. */
const registryIndex = (key: string) => resources.findIndex((res) => registryRoutes.some((r) => routeKey(r) === key && r.resource === res));

const modules = Object.values(import.meta.glob<MatrixRows>("../routes/*.matrix.ts", { eager: true, import: "matrix" })).sort(
  (a, b) => registryIndex(Object.keys(a.rows)[0]) - registryIndex(Object.keys(b.rows)[0]),
);
export const MATRIX = Object.assign({}, ...modules.map((m) => m.rows)) as MatrixRows["rows"];
const fixtures = modules.flatMap((m) => (m.fixture ? [m.fixture] : []));

/** Fresh resources of `owner` for one cell, so that a DELETE in one cell cannot affect another. */
export async function matrixFixture(owner: TestUser): Promise<Fixture> {
  let f: Fixture = {};
  for (const make of fixtures) f = { ...f, ...(await make(owner, f)) };
  return f;
}

/** A row's path with the fixture's ids in place of its `{name}` placeholders. */
export const fillPath = (path: string, f: Fixture) => path.replace(/\{(\w+)\}/g, (_, name: string) => f[name] ?? `{${name}}`);
