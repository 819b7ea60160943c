/** What the doctor routes accept and answer. */
import * as z from "zod";
import { optionalEmail, optionalPhone, optionalText, requiredText } from "../../lib/fields";
import { orderingParam, pageOf, pageParams, searchParam, textParam } from "../../lib/list";
import { DOCTOR_ORDERING } from "./queries";

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
export const doctorBody = z
  .strictObject(fields)
  .transform((d) => ({ ...Object.fromEntries(OPTIONAL.map((k) => [k, null])), ...d }))
  .meta({ id: "DoctorInput" });
/** PATCH: any subset; an omitted field is left as it is. */
export const doctorPatch = z.strictObject(fields).partial().meta({ id: "DoctorPatch" });
export const doctorListQuery = z.object({
  ...pageParams,
  search: searchParam,
  specialization: textParam("specialization", 100),
  ordering: orderingParam(DOCTOR_ORDERING),
});

export const doctorShape = {
  id: z.uuid(),
  name: z.string(),
  specialization: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  license_number: z.string().nullable(),
  created_by: z.uuid(),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
};
/** A doctor as the API answers it (built in SQL by ./queries.ts). */
export const doctorSchema = z.object(doctorShape).meta({ id: "Doctor" });
export const doctorPage = pageOf(doctorSchema, "DoctorPage");

export const doctorExample = { name: "Dr. Mary Somerville", specialization: "Cardiology", license_number: "GMC-1780" };
