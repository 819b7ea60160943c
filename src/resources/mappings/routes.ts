/**
 * Patient–doctor mappings: private to the owner of the patient (docs/BEHAVIOUR.md).
 * Mappings are never edited: PUT and PATCH answer 405 (no route, so the
 * route guard says so with `Allow`).
 */
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { classifyDbError } from "../../db/errors";
import { CONSTRAINTS } from "../../db/schema";
import { ifMatchVersions } from "../../lib/etag";
import { listAnswer, listParams } from "../../lib/list";
import { problem } from "../../lib/problem";
import { actorOf, answerDelete, answerWrite, conditionalGet } from "../../lib/resource";
import { describeRoute } from "../../lib/route-doc";
import { idParam, jsonBody } from "../../lib/validation";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { idempotencyKey } from "../../middleware/idempotency";
import { createMapping, deleteMapping, listMappings, listPatientDoctors, readMapping } from "./queries";
import { assignedDoctorPage, mappingBody, mappingListQuery, mappingOrderings, mappingPage, mappingSchema, pageQuery } from "./schemas";

const NOT_FOUND = "No mapping with this id.";
const NO_SUCH_PATIENT = "No patient with this id.";
// The same words whether the patient does not exist or is someone else's.
const NOT_YOUR_PATIENT = "Must be the id of one of your patients.";
const NO_SUCH_DOCTOR = "Must be the id of a doctor.";

function invalidReferences(patient: boolean, doctor: boolean): never {
  const errors: Record<string, string[]> = {};
  if (!patient) errors.patient_id = [NOT_YOUR_PATIENT];
  if (!doctor) errors.doctor_id = [NO_SUCH_DOCTOR];
  throw problem(400, "The request body is invalid.", { errors });
}

export const mappingRoutes = new Hono<AppEnv>()
  .use(requireUser(), database())
  .get(
    "/",
    describeRoute({
      operationId: "listMappings",
      summary: "List the assignments of the caller's patients",
      success: { status: 200, description: "A page of mappings.", schema: mappingPage },
    }),
    listParams(mappingListQuery, mappingOrderings),
    async (c) => {
      const q = c.req.valid("query");
      return listAnswer(c, q, await listMappings(c.var.db, actorOf(c), q));
    },
  )
  .post(
    "/",
    describeRoute({
      operationId: "createMapping",
      summary: "Assign a doctor to one of the caller's patients",
      description: "400 when patient_id is not one of the caller's patients (the same whether it exists or not) or doctor_id is no doctor.",
      bodyExample: { patient_id: "3b5b0a6c-b70c-4394-8c52-2cdf2092de9c", doctor_id: "18c0b09b-f7bd-4128-a837-248973cbf9bf" },
      success: { status: 201, description: "The mapping.", schema: mappingSchema, headers: ["ETag", "Location"] },
      errors: [409],
    }),
    jsonBody(mappingBody),
    idempotencyKey(),
    async (c) => {
      const { patient_id, doctor_id } = c.req.valid("json");
      const outcome = await createMapping(c.var.db, actorOf(c), patient_id, doctor_id).catch((error: unknown) => {
        // The patient or doctor was deleted between the statement's checks and its insert.
        const constraint = classifyDbError(error)?.constraint;
        if (constraint === CONSTRAINTS.mappingsPatient) invalidReferences(false, true);
        if (constraint === CONSTRAINTS.mappingsDoctor) invalidReferences(true, false);
        throw error;
      });
      if (outcome.status === "invalid") invalidReferences(outcome.patient, outcome.doctor);
      if (outcome.status === "conflict") throw problem(409, "This doctor is already assigned to this patient.");
      return answerWrite(c, outcome, { notFound: NOT_FOUND }, "/api/mappings");
    },
  )
  .get(
    "/patient/:id",
    describeRoute({
      operationId: "listPatientDoctors",
      summary: "The doctors assigned to one of the caller's patients, in assignment order",
      success: { status: 200, description: "A page of doctors, each with mapping_id and assigned_at.", schema: assignedDoctorPage },
    }),
    listParams(pageQuery, mappingOrderings),
    idParam(NO_SUCH_PATIENT),
    async (c) => {
      const q = c.req.valid("query");
      const page = await listPatientDoctors(c.var.db, actorOf(c), c.req.valid("param").id, q);
      if (!page) throw problem(404, NO_SUCH_PATIENT);
      return listAnswer(c, q, page);
    },
  )
  .get(
    "/:id",
    describeRoute({
      operationId: "getMapping",
      summary: "Read a mapping",
      conditionalGet: true,
      success: { status: 200, description: "The mapping.", schema: mappingSchema, headers: ["ETag"] },
    }),
    idParam(NOT_FOUND),
    async (c) => {
      const mapping = await readMapping(c.var.db, actorOf(c), c.req.valid("param").id);
      if (!mapping) throw problem(404, NOT_FOUND);
      return conditionalGet(c, mapping);
    },
  )
  .delete(
    "/:id",
    describeRoute({
      operationId: "deleteMapping",
      summary: "Remove an assignment",
      ifMatch: true,
      success: { status: 204, description: "Deleted." },
    }),
    idempotencyKey(),
    idParam(NOT_FOUND),
    async (c) =>
      answerDelete(c, await deleteMapping(c.var.db, actorOf(c), c.req.valid("param").id, ifMatchVersions(c.req.header("If-Match"))), {
        notFound: NOT_FOUND,
      }),
  );
