/**
 * Statements compiled once per shape (src/db/statement.ts), against the real
 * database: the cached text serves every request of its shape with that
 * request's own values, a value transformed in JS is refused, and the check
 * mode the suite runs with catches a builder whose shape is keyed wrong.
 */
import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { compiledShapes, runStatement } from "../../src/db/statement";
import { databaseConfig } from "../../src/lib/config";

const db = createDb(databaseConfig(env));
const unique = () => `statement-test-${crypto.randomUUID()}`;

describe("statements compiled once per shape", () => {
  it("compiles a shape once and answers each request with its own values", async () => {
    const name = unique();
    const before = compiledShapes();
    const run = (a: number, b: string) =>
      runStatement<{ n: number; s: string }, { a: number; b: string }>(
        db,
        name,
        { a, b },
        (v) => sql`SELECT ${v.a}::int + 1 AS n, upper(${v.b}) AS s`,
      );
    expect((await run(1, "x")).rows).toEqual([{ n: 2, s: "X" }]);
    expect((await run(41, "ünï")).rows).toEqual([{ n: 42, s: "ÜNÏ" }]);
    expect(compiledShapes()).toBe(before + 1);
  });

  it("keys the shape on fixed inputs and on which values are null or undefined", async () => {
    const name = unique();
    const before = compiledShapes();
    const build = (v: { a: string | null | undefined }, descending: boolean) =>
      v.a === undefined ? sql`SELECT 'none' AS r` : sql`SELECT coalesce(${v.a}::text, 'null') || ${descending ? " desc" : " asc"} AS r`;
    const run = (a: string | null | undefined, descending: boolean) =>
      runStatement<{ r: string }, { a: string | null | undefined }, boolean>(db, name, { a }, build, descending);
    expect((await run("x", false)).rows[0].r).toBe("x asc");
    expect((await run("y", true)).rows[0].r).toBe("y desc");
    expect((await run(null, true)).rows[0].r).toBe("null desc");
    expect((await run(undefined, true)).rows[0].r).toBe("none");
    expect((await run("z", true)).rows[0].r).toBe("z desc");
    expect(compiledShapes()).toBe(before + 4);
  });

  it("refuses a value the builder transforms in JS: it cannot be a parameter of a cached text", async () => {
    await expect(runStatement(db, unique(), { search: "abc" }, (v) => sql`SELECT ${`%${v.search}%`}::text AS p`)).rejects.toThrow(
      /transformed in JS/,
    );
  });

  it("in check mode, fails a request whose statement is not the cached shape's (a branch on a value, not keyed)", async () => {
    expect(db.checkStatements).toBe(true);
    const name = unique();
    // Wrong on purpose: the builder branches on a value instead of taking it as `fixed`.
    const build = (v: { order: string }) => sql`SELECT 1 AS n ORDER BY 1 ${sql.raw(v.order === "desc" ? "DESC" : "ASC")}`;
    await runStatement(db, name, { order: "asc" }, build);
    await expect(runStatement(db, name, { order: "desc" }, build)).rejects.toThrow(/does not match/);
  });
});
