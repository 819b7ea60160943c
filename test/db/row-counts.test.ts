/**
 * row_counts (drizzle/0002) must equal the real counts after every kind of
 * write, cascades included: lists report it as their `count`.
 */
import { describe, expect, it } from "vitest";
import { call, createDoctor, createMapping, createPatient, directSql, newUser, type TestUser } from "../helpers";

const listCount = async (user: TestUser, path: string) =>
  ((await (await call(path, { headers: user.auth })).json()) as { count: number }).count;

/** Every counter against a real count, in one snapshot (other test files write concurrently). */
async function mismatches() {
  return directSql()`
    WITH actual AS (
      SELECT 'patients' AS table_name, owner_id, count(*) AS total FROM patients GROUP BY owner_id
      UNION ALL SELECT 'patient_doctor_mappings', owner_id, count(*) FROM patient_doctor_mappings GROUP BY owner_id
      UNION ALL SELECT 'doctors', '00000000-0000-0000-0000-000000000000', count(*) FROM doctors
    )
    SELECT coalesce(a.table_name, c.table_name) AS table_name, coalesce(a.owner_id, c.owner_id) AS owner_id, a.total AS actual, c.total AS counted
    FROM actual a FULL JOIN row_counts c ON c.table_name = a.table_name AND c.owner_id = a.owner_id
    WHERE coalesce(a.total, 0) <> coalesce(c.total, 0)`;
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

  it("match the real counts for every owner", async () => {
    expect(await mismatches()).toEqual([]);
  });
});
