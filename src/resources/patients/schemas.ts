/** What the patient routes accept and answer. */
import * as z from "zod";
import { GENDERS } from "../../db/schema";
import { optionalEmail, optionalPhone, optionalText, requiredChoice, requiredPastDate, requiredText } from "../../lib/fields";
import { orderingParam, pageOf, pageParams, searchParam } from "../../lib/list";
import { PATIENT_ORDERING } from "./queries";

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

/** A patient as the API answers it (built in SQL by ./queries.ts). */
export const patientSchema = z
  .object({
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
  })
  .meta({ id: "Patient" });
export const patientPage = pageOf(patientSchema, "PatientPage");

export const patientExample = {
  name: "Charles Babbage",
  date_of_birth: "1971-12-26",
  gender: "male",
  phone: "+44 20 7946 0000",
  email: "charles@example.com",
};
