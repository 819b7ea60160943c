/**
 * The shape of an authorization-matrix row. Each resource lists its rows in
 * test/routes/<resource>.matrix.ts; test/authorization-matrix.test.ts finds
 * them all and fails for any route of the registry without one.
 */
import type { TestUser } from "../helpers";

export type Persona = "none" | "bad" | "other" | "owner" | "admin";

/** Ids of the owner's resources, by placeholder name (`{patient}` in a path). */
export type Fixture = Record<string, string>;

export interface MatrixRow {
  /** Path with `{name}` placeholders standing for the fixture's ids. */
  path: string;
  body?: (f: Fixture) => unknown;
  /** Expected status per persona; a public route has one status for everyone. */
  expect: Record<Persona, number> | number;
  /** For public routes: a body that needs a fresh account or token. */
  publicBody?: () => Promise<unknown>;
}

export interface MatrixRows {
  /** Keyed as the registry lists routes: `METHOD /hono/path`. */
  rows: Record<string, MatrixRow>;
  /**
   * Fresh resources of the owner for one cell, adding placeholders for this
   * resource's paths; runs in registry order and sees the earlier resources' ids.
   */
  fixture?: (owner: TestUser, soFar: Fixture) => Promise<Fixture>;
}

/** No token and a bad token are 401; then another user, the owner and an administrator. */
export const authed = (other: number, owner: number, admin: number) => ({ none: 401, bad: 401, other, owner, admin });
