/** What the doctor routes accept and answer. */
import * as z from "zod";
import { responseOf } from "../../db/response";
import { doctors } from "../../db/schema";
import { optionalEmail, optionalPhone, optionalText, requiredText } from "../../lib/fields";
import { orderingParam, orderings, pageOf, pageParams, searchParam, textParam } from "../../lib/list";

/** A doctor as the API answers it, field by column: Postgres builds it (./queries.ts), zod describes it. */
export const doctorResponse = responseOf({
  id: doctors.id,
  name: doctors.name,
  specialization: doctors.specialization,
  email: doctors.email,
  phone: doctors.phone,
  license_number: doctors.licenseNumber,
  created_by: doctors.createdBy,
  created_at: doctors.createdAt,
  updated_at: doctors.updatedAt,
});
export const doctorSchema = doctorResponse.schema.meta({ id: "Doctor" });
export type Doctor = z.infer<typeof doctorSchema>;

/** The fields a list may be ordered by. */
export const DOCTOR_ORDERING = ["name", "specialization", "created_at"] as const;

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
/** The column behind each ordering, created_at by default (doctors_created_idx; name and specialization have no index of their own). */
export const doctorOrderings = orderings(
  { name: doctors.name, specialization: doctors.specialization, created_at: doctors.createdAt },
  "created_at",
);

export const doctorPage = pageOf(doctorSchema, "DoctorPage");

export const doctorExample = { name: "Dr. Mary Somerville", specialization: "Cardiology", license_number: "GMC-1780" };
