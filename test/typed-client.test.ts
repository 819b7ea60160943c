/**
 * Response bodies are typed from the resources' response declarations
 * (z.infer of src/resources/<name>/schemas.ts): `hc<AppType>` callers read
 * fields without `.parse()`, and the ETag's `version` is not among them.
 */
import { hc } from "hono/client";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { AppType } from "../src/index";
import type { Patient } from "../src/resources/patients/schemas";
import { call, newUser, ORIGIN } from "./helpers";

describe("typed response bodies", () => {
  it("gives a patient's fields their types, as the API sends them", async () => {
    const user = await newUser();
    const api = hc<AppType>(ORIGIN, {
      fetch: (input: RequestInfo | URL, init?: RequestInit) => call(String(input), init),
      headers: user.auth,
    }).api;
    const created = await api.patients.$post({ json: { name: "Typed Body", date_of_birth: "1990-01-02", gender: "other" } });
    if (created.status !== 201) throw new Error(`expected 201, got ${created.status}`);
    const patient = await created.json();
    expectTypeOf(patient).toEqualTypeOf<Patient>();
    expectTypeOf(patient.phone).toEqualTypeOf<string | null>();
    expectTypeOf(patient.gender).toEqualTypeOf<"male" | "female" | "other" | "unknown">();
    expect(patient).not.toHaveProperty("version");

    const page = await (await api.patients.$get({ query: {} })).json();
    expectTypeOf(page.results).toEqualTypeOf<Patient[]>();
    expect(page.results.map((p) => p.id)).toEqual([patient.id]);
  });
});
