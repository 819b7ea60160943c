/**
 * Patients (API.md §3): private to the user who created them. Every
 * statement carries the owner condition and its audit row; one round trip
 * per request.
 */
import { type Context, Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../app-env";
import type { ColumnValues } from "../../db/fragments";
import { GENDERS } from "../../db/schema";
import { ifMatchVersions } from "../../lib/etag";
import { optionalEmail, optionalPhone, optionalText, requiredChoice, requiredPastDate, requiredText } from "../../lib/fields";
import { containsPattern, envelope, orderingParam, pageParams, searchParam } from "../../lib/list";
import { pageOf, type RouteDoc } from "../../lib/openapi";
import { problem } from "../../lib/problem";
import { actorOf, conditionalGet, created, ok, unwrap } from "../../lib/resource";
import { idParam, jsonBody, queryParams } from "../../lib/validation";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { createPatient, deletePatient, listPatients, PATIENT_ORDERING, readPatient, updatePatient } from "./queries";

const fields = {
  name: requiredText(200),
  date_of_birth: requiredPastDate("1900-01-01"),
  gender: requiredChoice(GENDERS),
  phone: optionalPhone(),
  email: optionalEmail(),
  address: optionalText(500),
  medical_history: optionalText(10_000),
};
const OPTIONAL = ["phone", "email", "address", "medical_history"] as const;

/** POST and PUT: the whole patient; an omitted optional field is null. */
export const patientBody = z.strictObject(fields).transform((p) => ({ ...Object.fromEntries(OPTIONAL.map((k) => [k, null])), ...p }));
/** PATCH: any subset; an omitted field is left as it is. */
export const patientPatch = z.strictObject(fields).partial();
const listQuery = z.object({ ...pageParams, search: searchParam, ordering: orderingParam(PATIENT_ORDERING) });

/** A patient as the API answers it (built in SQL by src/db/queries/patients.ts). */
export const patientSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  date_of_birth: z.iso.date(),
  gender: z.enum(GENDERS),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  address: z.string().nullable(),
  medical_history: z.string().nullable(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

const example = {
  name: "Charles Babbage",
  date_of_birth: "1971-12-26",
  gender: "male",
  phone: "+44 20 7946 0000",
  email: "charles@example.com",
};
const one = (status: 200 | 201, description: string) => ({ status, description, schema: patientSchema, headers: ["ETag"] });
export const patientDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/api/patients",
    tag: "patients",
    summary: "List the caller's patients",
    description: "`search` matches name, email and phone (literal, case-insensitive). Default order: created_at, then id.",
    query: listQuery,
    success: { status: 200, description: "A page of patients.", schema: pageOf(patientSchema) },
  },
  {
    method: "post",
    path: "/api/patients",
    tag: "patients",
    summary: "Create a patient",
    body: patientBody,
    bodyExample: example,
    success: { ...one(201, "The patient."), headers: ["ETag", "Location"] },
  },
  {
    method: "get",
    path: "/api/patients/:id",
    tag: "patients",
    summary: "Read a patient",
    conditionalGet: true,
    success: one(200, "The patient."),
  },
  {
    method: "put",
    path: "/api/patients/:id",
    tag: "patients",
    summary: "Replace a patient (omitted optional fields become null)",
    body: patientBody,
    bodyExample: example,
    ifMatch: true,
    success: one(200, "The patient as stored."),
  },
  {
    method: "patch",
    path: "/api/patients/:id",
    tag: "patients",
    summary: "Change some fields of a patient",
    body: patientPatch,
    bodyExample: { phone: null, address: "1 Dorset Street, London" },
    ifMatch: true,
    success: one(200, "The patient as stored."),
  },
  {
    method: "delete",
    path: "/api/patients/:id",
    tag: "patients",
    summary: "Delete a patient and its doctor assignments",
    ifMatch: true,
    success: { status: 204, description: "Deleted." },
  },
];

const NOT_FOUND = "No patient with this id.";
const notFound = () => problem(404, NOT_FOUND);

/** PUT and PATCH differ only in their body schema. */
async function update(c: Context<AppEnv>, values: ColumnValues) {
  const outcome = await updatePatient(c.var.db, actorOf(c), c.req.param("id") ?? "", values, ifMatchVersions(c.req.header("If-Match")));
  return ok(c, unwrap(outcome, { notFound: NOT_FOUND }));
}

export const patientRoutes = new Hono<AppEnv>()
  .use(requireUser(), database())
  .get("/", queryParams(listQuery), async (c) => {
    const q = c.req.valid("query");
    const page = await listPatients(c.var.db, actorOf(c), {
      ...q,
      pattern: q.search === undefined ? undefined : containsPattern(q.search),
    });
    return c.json(envelope(c, q, page.count, page.results));
  })
  .post("/", jsonBody(patientBody), async (c) => {
    return created(c, "/api/patients", await createPatient(c.var.db, actorOf(c), c.req.valid("json")));
  })
  .get("/:id", idParam(NOT_FOUND), async (c) => {
    const patient = await readPatient(c.var.db, actorOf(c), c.req.valid("param").id);
    if (!patient) throw notFound();
    return conditionalGet(c, patient);
  })
  .put("/:id", jsonBody(patientBody), idParam(NOT_FOUND), (c) => update(c, c.req.valid("json")))
  .patch("/:id", jsonBody(patientPatch), idParam(NOT_FOUND), (c) => update(c, c.req.valid("json")))
  .delete("/:id", idParam(NOT_FOUND), async (c) => {
    unwrap(await deletePatient(c.var.db, actorOf(c), c.req.valid("param").id, ifMatchVersions(c.req.header("If-Match"))), {
      notFound: NOT_FOUND,
    });
    return c.body(null, 204);
  });
