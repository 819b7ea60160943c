/**
 * Doctors: a shared directory. Anyone authenticated reads; only the
 * creator or an administrator may change or delete an entry
 * (docs/BEHAVIOUR.md).
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { classifyDbError } from "../../db/errors";
import type { ColumnValues } from "../../db/fragments";
import { CONSTRAINTS } from "../../db/schema";
import { ifMatchVersions } from "../../lib/etag";
import { listAnswer, listParams } from "../../lib/list";
import { problem } from "../../lib/problem";
import { actorOf, answerDelete, answerWrite, conditionalGet, type OutcomeMessages } from "../../lib/resource";
import { describeRoute } from "../../lib/route-doc";
import { idParam, jsonBody } from "../../lib/validation";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { idempotencyKey } from "../../middleware/idempotency";
import { createDoctor, deleteDoctor, listDoctors, readDoctor, updateDoctor } from "./queries";
import { doctorBody, doctorExample, doctorListQuery, doctorOrderings, doctorPage, doctorPatch, doctorSchema } from "./schemas";

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
  if (constraint === CONSTRAINTS.doctorsLicenseNumber || constraint === CONSTRAINTS.mappingsDoctor)
    throw problem(409, messages.conflict ?? "");
  throw error;
}

/** PUT and PATCH differ only in their body schema. */
async function update(c: Context<AppEnv>, values: ColumnValues) {
  const outcome = await updateDoctor(
    c.var.db,
    actorOf(c),
    c.req.param("id") ?? "",
    values,
    ifMatchVersions(c.req.header("If-Match")),
  ).catch((e) => raceConflict(e, MESSAGES));
  return answerWrite(c, outcome, MESSAGES);
}

const one = (description: string) => ({ status: 200 as const, description, schema: doctorSchema, headers: ["ETag" as const] });

export const doctorRoutes = new Hono<AppEnv>()
  .use(requireUser(), database())
  .get(
    "/",
    describeRoute({
      operationId: "listDoctors",
      summary: "List every doctor",
      description: "`search` matches name and specialization; `specialization` filters exactly, ignoring case.",
      success: { status: 200, description: "A page of doctors.", schema: doctorPage },
    }),
    listParams(doctorListQuery, doctorOrderings),
    async (c) => {
      const q = c.req.valid("query");
      return listAnswer(c, q, await listDoctors(c.var.db, actorOf(c), q));
    },
  )
  .post(
    "/",
    describeRoute({
      operationId: "createDoctor",
      summary: "Add a doctor to the directory",
      bodyExample: doctorExample,
      success: { ...one("The doctor."), status: 201, headers: ["ETag", "Location"] },
      errors: [409],
    }),
    jsonBody(doctorBody),
    idempotencyKey(),
    async (c) => {
      const outcome = await createDoctor(c.var.db, actorOf(c), c.req.valid("json")).catch((e) => raceConflict(e, MESSAGES));
      return answerWrite(c, outcome, MESSAGES, "/api/doctors");
    },
  )
  .get(
    "/:id",
    describeRoute({ operationId: "getDoctor", summary: "Read a doctor", conditionalGet: true, success: one("The doctor.") }),
    idParam(MESSAGES.notFound),
    async (c) => {
      const doctor = await readDoctor(c.var.db, actorOf(c), c.req.valid("param").id);
      if (!doctor) throw problem(404, MESSAGES.notFound);
      return conditionalGet(c, doctor);
    },
  )
  .put(
    "/:id",
    describeRoute({
      operationId: "replaceDoctor",
      summary: "Replace a doctor (creator or administrator only)",
      bodyExample: doctorExample,
      ifMatch: true,
      success: one("The doctor as stored."),
      errors: [403, 409],
    }),
    jsonBody(doctorBody),
    idempotencyKey(),
    idParam(MESSAGES.notFound),
    (c) => update(c, c.req.valid("json")),
  )
  .patch(
    "/:id",
    describeRoute({
      operationId: "updateDoctor",
      summary: "Change some fields of a doctor (creator or administrator only)",
      bodyExample: { specialization: "Cardiac Surgery" },
      ifMatch: true,
      success: one("The doctor as stored."),
      errors: [403, 409],
    }),
    jsonBody(doctorPatch),
    idempotencyKey(),
    idParam(MESSAGES.notFound),
    (c) => update(c, c.req.valid("json")),
  )
  .delete(
    "/:id",
    describeRoute({
      operationId: "deleteDoctor",
      summary: "Delete a doctor no patient is assigned to (creator or administrator only)",
      ifMatch: true,
      success: { status: 204, description: "Deleted." },
      errors: [403, 409],
    }),
    idempotencyKey(),
    idParam(MESSAGES.notFound),
    async (c) => {
      const outcome = await deleteDoctor(c.var.db, actorOf(c), c.req.valid("param").id, ifMatchVersions(c.req.header("If-Match"))).catch(
        (e) => raceConflict(e, DELETE_MESSAGES),
      );
      return answerDelete(c, outcome, DELETE_MESSAGES);
    },
  );
