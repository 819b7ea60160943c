/**
 * Doctors (API.md §4): a shared directory. Anyone authenticated reads;
 * only the creator or an administrator may change or delete an entry.
 */
import { type Context, Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../../app-env";
import { classifyDbError } from "../../db/errors";
import type { ColumnValues } from "../../db/fragments";
import { ifMatchVersions } from "../../lib/etag";
import { optionalEmail, optionalPhone, optionalText, requiredText } from "../../lib/fields";
import { containsPattern, envelope, orderingParam, pageParams, searchParam, textParam } from "../../lib/list";
import { pageOf, type RouteDoc } from "../../lib/openapi";
import { problem } from "../../lib/problem";
import { conditionalGet, created, type OutcomeMessages, ok, unwrap } from "../../lib/resource";
import { idParam, jsonBody, queryParams } from "../../lib/validation";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { createDoctor, DOCTOR_ORDERING, deleteDoctor, listDoctors, readDoctor, updateDoctor } from "./queries";

const fields = {
  name: requiredText(200),
  specialization: requiredText(100),
  email: optionalEmail(),
  phone: optionalPhone(),
  // Unique among doctors, compared case-insensitively; empty or null means none.
  license_number: optionalText(50),
};
const OPTIONAL = ["email", "phone", "license_number"] as const;

/** POST and PUT: the whole doctor; an omitted optional field is null. */
export const doctorBody = z.strictObject(fields).transform((d) => ({ ...Object.fromEntries(OPTIONAL.map((k) => [k, null])), ...d }));
/** PATCH: any subset; an omitted field is left as it is. */
export const doctorPatch = z.strictObject(fields).partial();
const listQuery = z.object({
  ...pageParams,
  search: searchParam,
  specialization: textParam("specialization", 100),
  ordering: orderingParam(DOCTOR_ORDERING),
});

/** A doctor as the API answers it (built in SQL by src/db/queries/doctors.ts). */
export const doctorSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  specialization: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  license_number: z.string().nullable(),
  created_by: z.uuid(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

const example = { name: "Dr. Mary Somerville", specialization: "Cardiology", license_number: "GMC-1780" };
const one = (status: 200 | 201, description: string) => ({ status, description, schema: doctorSchema, headers: ["ETag"] });
export const doctorDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/api/doctors",
    tag: "doctors",
    summary: "List every doctor",
    description: "`search` matches name and specialization; `specialization` filters exactly, ignoring case.",
    query: listQuery,
    success: { status: 200, description: "A page of doctors.", schema: pageOf(doctorSchema) },
  },
  {
    method: "post",
    path: "/api/doctors",
    tag: "doctors",
    summary: "Add a doctor to the directory",
    body: doctorBody,
    bodyExample: example,
    success: { ...one(201, "The doctor."), headers: ["ETag", "Location"] },
    errors: [409],
  },
  {
    method: "get",
    path: "/api/doctors/:id",
    tag: "doctors",
    summary: "Read a doctor",
    conditionalGet: true,
    success: one(200, "The doctor."),
  },
  {
    method: "put",
    path: "/api/doctors/:id",
    tag: "doctors",
    summary: "Replace a doctor (creator or administrator only)",
    body: doctorBody,
    bodyExample: example,
    ifMatch: true,
    success: one(200, "The doctor as stored."),
    errors: [403, 409],
  },
  {
    method: "patch",
    path: "/api/doctors/:id",
    tag: "doctors",
    summary: "Change some fields of a doctor (creator or administrator only)",
    body: doctorPatch,
    bodyExample: { specialization: "Cardiac Surgery" },
    ifMatch: true,
    success: one(200, "The doctor as stored."),
    errors: [403, 409],
  },
  {
    method: "delete",
    path: "/api/doctors/:id",
    tag: "doctors",
    summary: "Delete a doctor no patient is assigned to (creator or administrator only)",
    ifMatch: true,
    success: { status: 204, description: "Deleted." },
    errors: [403, 409],
  },
];

const MESSAGES: OutcomeMessages = {
  notFound: "No doctor with this id.",
  forbidden: "Only the doctor's creator or an administrator may change this doctor.",
  conflict: "Another doctor already has this license number.",
};
const DELETE_MESSAGES: OutcomeMessages = {
  ...MESSAGES,
  forbidden: "Only the doctor's creator or an administrator may delete this doctor.",
  conflict: "This doctor is still assigned to patients; remove those assignments first.",
};

/** A database-level conflict that a concurrent write caused after the statement's own checks. */
function raceConflict(error: unknown, messages: OutcomeMessages): never {
  const constraint = classifyDbError(error)?.constraint;
  if (constraint === "doctors_license_number_key" || constraint === "mappings_doctor_fk") throw problem(409, messages.conflict ?? "");
  throw error;
}

/** PUT and PATCH differ only in their body schema. */
async function update(c: Context<AppEnv>, values: ColumnValues) {
  const outcome = await updateDoctor(
    c.var.db,
    c.var.userId,
    c.req.param("id") ?? "",
    values,
    ifMatchVersions(c.req.header("If-Match")),
  ).catch((e) => raceConflict(e, MESSAGES));
  return ok(c, unwrap(outcome, MESSAGES));
}

export const doctorRoutes = new Hono<AppEnv>()
  .use(requireUser(), database())
  .get("/", queryParams(listQuery), async (c) => {
    const q = c.req.valid("query");
    const page = await listDoctors(c.var.db, {
      ...q,
      pattern: q.search === undefined ? undefined : containsPattern(q.search),
    });
    return c.json(envelope(c, q, page.count, page.results));
  })
  .post("/", jsonBody(doctorBody), async (c) => {
    const doctor = await createDoctor(c.var.db, c.var.userId, c.req.valid("json")).catch((e) => raceConflict(e, MESSAGES));
    return created(c, "/api/doctors", doctor);
  })
  .get("/:id", idParam(MESSAGES.notFound), async (c) => {
    const doctor = await readDoctor(c.var.db, c.req.valid("param").id);
    if (!doctor) throw problem(404, MESSAGES.notFound);
    return conditionalGet(c, doctor);
  })
  .put("/:id", jsonBody(doctorBody), idParam(MESSAGES.notFound), (c) => update(c, c.req.valid("json")))
  .patch("/:id", jsonBody(doctorPatch), idParam(MESSAGES.notFound), (c) => update(c, c.req.valid("json")))
  .delete("/:id", idParam(MESSAGES.notFound), async (c) => {
    const outcome = await deleteDoctor(c.var.db, c.var.userId, c.req.valid("param").id, ifMatchVersions(c.req.header("If-Match"))).catch(
      (e) => raceConflict(e, DELETE_MESSAGES),
    );
    unwrap(outcome, DELETE_MESSAGES);
    return c.body(null, 204);
  });
