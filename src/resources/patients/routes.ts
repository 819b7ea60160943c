/**
 * Patients: private to the user who created them. Every statement carries
 * the owner condition and its audit row; one round trip per request
 * (docs/BEHAVIOUR.md).
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../../app-env";
import type { ColumnValues } from "../../db/fragments";
import { ifMatchVersions } from "../../lib/etag";
import { listAnswer, listParams } from "../../lib/list";
import { problem } from "../../lib/problem";
import { actorOf, answerDelete, answerWrite, conditionalGet } from "../../lib/resource";
import { describeRoute } from "../../lib/route-doc";
import { idParam, jsonBody } from "../../lib/validation";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { idempotencyKey } from "../../middleware/idempotency";
import { createPatient, deletePatient, listPatients, readPatient, updatePatient } from "./queries";
import { patientBody, patientExample, patientListQuery, patientOrderings, patientPage, patientPatch, patientSchema } from "./schemas";

const NOT_FOUND = "No patient with this id.";
const notFound = () => problem(404, NOT_FOUND);
const one = (description: string) => ({ status: 200 as const, description, schema: patientSchema, headers: ["ETag" as const] });

/** PUT and PATCH differ only in their body schema. */
async function update(c: Context<AppEnv>, values: ColumnValues) {
  const outcome = await updatePatient(c.var.db, actorOf(c), c.req.param("id") ?? "", values, ifMatchVersions(c.req.header("If-Match")));
  return answerWrite(c, outcome, { notFound: NOT_FOUND });
}

export const patientRoutes = new Hono<AppEnv>()
  .use(requireUser(), database())
  .get(
    "/",
    describeRoute({
      operationId: "listPatients",
      summary: "List the caller's patients",
      description: "`search` matches name, email and phone (literal, case-insensitive). Default order: created_at, then id.",
      success: { status: 200, description: "A page of patients.", schema: patientPage },
    }),
    listParams(patientListQuery, patientOrderings),
    async (c) => {
      const q = c.req.valid("query");
      return listAnswer(c, q, await listPatients(c.var.db, actorOf(c), q));
    },
  )
  .post(
    "/",
    describeRoute({
      operationId: "createPatient",
      summary: "Create a patient",
      bodyExample: patientExample,
      success: { ...one("The patient."), status: 201, headers: ["ETag", "Location"] },
    }),
    jsonBody(patientBody),
    idempotencyKey(),
    async (c) => answerWrite(c, await createPatient(c.var.db, actorOf(c), c.req.valid("json")), { notFound: NOT_FOUND }, "/api/patients"),
  )
  .get(
    "/:id",
    describeRoute({ operationId: "getPatient", summary: "Read a patient", conditionalGet: true, success: one("The patient.") }),
    idParam(NOT_FOUND),
    async (c) => {
      const patient = await readPatient(c.var.db, actorOf(c), c.req.valid("param").id);
      if (!patient) throw notFound();
      return conditionalGet(c, patient);
    },
  )
  .put(
    "/:id",
    describeRoute({
      operationId: "replacePatient",
      summary: "Replace a patient (omitted optional fields become null)",
      bodyExample: patientExample,
      ifMatch: true,
      success: one("The patient as stored."),
    }),
    jsonBody(patientBody),
    idempotencyKey(),
    idParam(NOT_FOUND),
    (c) => update(c, c.req.valid("json")),
  )
  .patch(
    "/:id",
    describeRoute({
      operationId: "updatePatient",
      summary: "Change some fields of a patient",
      bodyExample: { phone: null, address: "1 Dorset Street, London" },
      ifMatch: true,
      success: one("The patient as stored."),
    }),
    jsonBody(patientPatch),
    idempotencyKey(),
    idParam(NOT_FOUND),
    (c) => update(c, c.req.valid("json")),
  )
  .delete(
    "/:id",
    describeRoute({
      operationId: "deletePatient",
      summary: "Delete a patient and its doctor assignments",
      ifMatch: true,
      success: { status: 204, description: "Deleted." },
    }),
    idempotencyKey(),
    idParam(NOT_FOUND),
    async (c) =>
      answerDelete(c, await deletePatient(c.var.db, actorOf(c), c.req.valid("param").id, ifMatchVersions(c.req.header("If-Match"))), {
        notFound: NOT_FOUND,
      }),
  );
