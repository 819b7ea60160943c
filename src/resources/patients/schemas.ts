/** What the patient routes accept and answer. */
import * as z from "zod";
import { responseOf } from "../../db/response";
import { GENDERS, patients } from "../../db/schema";
import { optionalEmail, optionalPhone, optionalText, requiredChoice, requiredPastDate, requiredText } from "../../lib/fields";
import { orderingParam, orderings, pageOf, pageParams, searchParam } from "../../lib/list";

/** A patient as the API answers it, field by column: Postgres builds it (./queries.ts), zod describes it. */
export const patientResponse = responseOf({
  id: patients.id,
  name: patients.name,
  date_of_birth: patients.dateOfBirth,
  gender: patients.gender,
  phone: patients.phone,
  email: patients.email,
  address: patients.address,
  medical_history: patients.medicalHistory,
  created_at: patients.createdAt,
  updated_at: patients.updatedAt,
});
export const patientSchema = patientResponse.schema.meta({ id: "Patient" });
export type Patient = z.infer<typeof patientSchema>;

/** The fields a list may be ordered by. */
export const PATIENT_ORDERING = ["name", "date_of_birth", "created_at", "updated_at"] as const;

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
export const patientBody = z
  .strictObject(fields)
  .transform((p) => ({ ...Object.fromEntries(OPTIONAL.map((k) => [k, null])), ...p }))
  .meta({ id: "PatientInput" });
/** PATCH: any subset; an omitted field is left as it is. */
export const patientPatch = z.strictObject(fields).partial().meta({ id: "PatientPatch" });
export const patientListQuery = z.object({ ...pageParams, search: searchParam, ordering: orderingParam(PATIENT_ORDERING) });
/** The column behind each ordering (each served by a patients_owner_…_idx), created_at by default. */
export const patientOrderings = orderings(
  { name: patients.name, date_of_birth: patients.dateOfBirth, created_at: patients.createdAt, updated_at: patients.updatedAt },
  "created_at",
);

export const patientPage = pageOf(patientSchema, "PatientPage");

export const patientExample = {
  name: "Charles Babbage",
  date_of_birth: "1971-12-26",
  gender: "male",
  phone: "+44 20 7946 0000",
  email: "charles@example.com",
};
