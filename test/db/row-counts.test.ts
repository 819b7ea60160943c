/**
 * row_counts (drizzle/0002, 0003) must equal the real counts after every
 * kind of write, cascades included: lists report it as their `count`. Every
 * table the schema marks rowCounted() is checked, and the generic
 * row_counts_track that gives a table its triggers is tested on a new table.
 */
import { getTableName } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ROW_COUNTED_TABLES } from "../../src/db/schema";
import { call, createDoctor, createMapping, createPatient, directSql, newUser, type TestUser } from "../helpers";

const NIL = "00000000-0000-0000-0000-000000000000";
const listCount = async (user: TestUser, path: string) =>
  ((await (await call(path, { headers: user.auth })).json()) as { count: number }).count;

/** The real counts of the given tables, per owner or under the nil UUID, as SQL. */
const actualCounts = (tables: { name: string; scope: "owner" | "all" }[]) =>
  tables
    .map(({ name, scope }) =>
      scope === "all"
        ? `SELECT '${name}' AS table_name, '${NIL}'::uuid AS owner_id, count(*) AS total FROM "${name}"`
        : `SELECT '${name}' AS table_name, owner_id, count(*) AS total FROM "${name}" GROUP BY owner_id`,
    )
    .join(" UNION ALL ");

/** Every counter of `tables` against a real count, in one snapshot (other test files write concurrently). */
async function mismatches(tables = ROW_COUNTED_TABLES.map(({ table, scope }) => ({ name: getTableName(table), scope }))) {
  const names = tables.map((t) => `'${t.name}'`).join(", ");
  return directSql().query(`
    WITH actual AS (${actualCounts(tables)}),
    counted AS (SELECT * FROM row_counts WHERE table_name IN (${names}))
    SELECT coalesce(a.table_name, c.table_name) AS table_name, coalesce(a.owner_id, c.owner_id) AS owner_id, a.total AS actual, c.total AS counted
    FROM actual a FULL JOIN counted c ON c.table_name = a.table_name AND c.owner_id = a.owner_id
    WHERE coalesce(a.total, 0) <> coalesce(c.total, 0)`);
}

describe("row_counts", () => {
  it("follows creates, deletes and cascades, and lists report it", async () => {
    const user = await newUser();
    const doctor = await createDoctor(user);
    const patients = [await createPatient(user), await createPatient(user), await createPatient(user)];
    for (const p of patients.slice(0, 2)) await createMapping(user, p.body.id, doctor.body.id);
    expect(await listCount(user, "/api/patients/")).toBe(3);
    expect(await listCount(user, "/api/mappings/")).toBe(2);

    expect((await call(`/api/patients/${patients[0].body.id}/`, { method: "DELETE", headers: user.auth })).status).toBe(204);
    expect(await listCount(user, "/api/patients/")).toBe(2);
    // The patient's mapping went with it (ON DELETE CASCADE), and so did its count.
    expect(await listCount(user, "/api/mappings/")).toBe(1);
    expect(await mismatches()).toEqual([]);
  });

  it("match the real counts for every owner of every counted table", async () => {
    expect(ROW_COUNTED_TABLES.map(({ table }) => getTableName(table))).toEqual(
      expect.arrayContaining(["doctors", "patient_doctor_mappings", "patients"]),
    );
    expect(await mismatches()).toEqual([]);
  });

  it("row_counts_track gives a new table its triggers once, counting the rows it already has", async () => {
    const db = directSql();
    const name = `row_counts_probe_${crypto.randomUUID().replaceAll("-", "")}`;
    const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
    await db.query(`CREATE TABLE "${name}" (id serial PRIMARY KEY, owner_id uuid NOT NULL)`);
    try {
      await db.query(`INSERT INTO "${name}" (owner_id) VALUES ($1), ($1), ($2)`, [a, b]);
      // Twice: the second call must neither add triggers nor count again.
      for (let i = 0; i < 2; i++) await db.query("SELECT row_counts_track($1::regclass, 'owner')", [name]);
      const probe = [{ name, scope: "owner" as const }];
      expect(await mismatches(probe)).toEqual([]);
      await db.query(`INSERT INTO "${name}" (owner_id) VALUES ($1), ($2)`, [a, b]);
      await db.query(`DELETE FROM "${name}" WHERE id = 1`);
      expect(await mismatches(probe)).toEqual([]);
      // Two rows each now: a had two (one deleted, one added), b one (one added).
      const totals = await db.query("SELECT owner_id, total::int FROM row_counts WHERE table_name = $1", [name]);
      expect(new Set(totals.map((r) => `${r.owner_id}:${r.total}`))).toEqual(new Set([`${a}:2`, `${b}:2`]));
    } finally {
      await db.query(`DROP TABLE "${name}"`);
      await db.query("DELETE FROM row_counts WHERE table_name = $1", [name]);
    }
  });
});
