/**
 * The typed client: `hc<AppType>` from hono/client drives a whole session
 * against the Worker, and every answer matches the response schema the
 * OpenAPI document publishes, with no field it does not publish.
 */
import { exports } from "cloudflare:workers";
import { hc } from "hono/client";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import type { AppType } from "../src/index";
import * as list from "../src/lib/list";
import * as auth from "../src/resources/auth/routes";
import * as doctors from "../src/resources/doctors/schemas";
import * as mappings from "../src/resources/mappings/schemas";
import * as patients from "../src/resources/patients/schemas";
import { ORIGIN, PASSWORD, uniqueEmail } from "./helpers";

// Strict copies of the published schemas: a field the document does not list (say a leaked owner_id) fails the parse.
const strict = <S extends z.ZodRawShape>(schema: z.ZodObject<S>) => z.strictObject(schema.shape);
const userSchema = strict(auth.userSchema);
const meSchema = strict(auth.meSchema);
const tokensSchema = strict(auth.tokensSchema);
const patientSchema = strict(patients.patientSchema);
const doctorSchema = strict(doctors.doctorSchema);
const mappingSchema = strict(mappings.mappingSchema);
const assignedDoctorSchema = strict(mappings.assignedDoctorSchema);
const pageOf = <T extends z.ZodType>(item: T) => strict(list.pageOf(item));

const client = (token?: string) =>
  hc<AppType>(ORIGIN, {
    fetch: (input: RequestInfo | URL, init?: RequestInit) => exports.default.fetch(new Request(input, init)),
    headers: token ? { Authorization: `Bearer ${token}` } : {},
  });

describe("hono/client", () => {
  it("drives register → login → patient → doctor → mapping → list, with typed calls", async () => {
    const email = uniqueEmail("hc");
    const registered = await client().api.auth.register.$post({ json: { name: "Typed Client", email, password: PASSWORD } });
    expect(registered.status).toBe(201);
    const user = userSchema.parse(await registered.json());

    const login = await client().api.auth.login.$post({ json: { email, password: PASSWORD } });
    const tokens = tokensSchema.parse(await login.json());
    const api = client(tokens.access).api;

    const me = meSchema.parse(await (await api.auth.me.$get()).json());
    expect(me.is_admin).toBe(false);
    expect(me.id).toBe(user.id);

    const created = await api.patients.$post({ json: { name: "Typed Patient", date_of_birth: "1990-01-02", gender: "other" } });
    expect(created.status).toBe(201);
    const patient = patientSchema.parse(await created.json());

    const doctor = doctorSchema.parse(await (await api.doctors.$post({ json: { name: "Dr Typed", specialization: "Typing" } })).json());
    const mapping = mappingSchema.parse(
      await (await api.mappings.$post({ json: { patient_id: patient.id, doctor_id: doctor.id } })).json(),
    );

    const read = await api.patients[":id"].$get({ param: { id: patient.id } });
    expect(patientSchema.parse(await read.json())).toEqual(patient);

    const patients = pageOf(patientSchema).parse(await (await api.patients.$get({ query: { search: "typed" } })).json());
    expect(patients.results.map((p) => p.id)).toEqual([patient.id]);

    const assigned = pageOf(assignedDoctorSchema).parse(
      await (await api.mappings.patient[":id"].$get({ param: { id: patient.id }, query: {} })).json(),
    );
    expect(assigned.results).toEqual([{ ...doctor, mapping_id: mapping.id, assigned_at: mapping.created_at }]);
  });
});
