/** What the mapping routes accept and answer. */
import * as z from "zod";
import { fromAlias, responseOf } from "../../db/response";
import { mappings } from "../../db/schema";
import { orderingParam, orderings, pageOf, pageParams } from "../../lib/list";
import { uuidString } from "../../lib/validation";
import { doctorResponse } from "../doctors/schemas";

const uuidField = (name: string) =>
  z
    .string({ error: `${name} is required and must be a UUID.` })
    .trim()
    .pipe(uuidString);
export const mappingBody = z
  .strictObject({ patient_id: uuidField("patient_id"), doctor_id: uuidField("doctor_id") })
  .meta({ id: "MappingInput" });
export const mappingListQuery = z.object({
  ...pageParams,
  patient_id: uuidString.optional(),
  doctor_id: uuidString.optional(),
  ordering: orderingParam(["created_at"]),
});
export const pageQuery = z.object(pageParams);
/** Both lists: by creation (mappings_owner_created_idx, mappings_patient_created_idx); a patient's doctors in assignment order. */
export const mappingOrderings = orderings({ created_at: mappings.createdAt }, "created_at");

/** A mapping as the API answers it, field by column. */
export const mappingResponse = responseOf({
  id: mappings.id,
  patient_id: mappings.patientId,
  doctor_id: mappings.doctorId,
  created_at: mappings.createdAt,
});
export const mappingSchema = mappingResponse.schema.meta({ id: "Mapping" });
export type Mapping = z.infer<typeof mappingSchema>;
export const mappingPage = pageOf(mappingSchema, "MappingPage");
/** A doctor assigned to a patient: the doctor plus the assignment's id and time. */
export const assignedDoctorResponse = responseOf({
  ...doctorResponse.fields,
  mapping_id: fromAlias("m", mappings.id),
  assigned_at: fromAlias("m", mappings.createdAt),
});
export const assignedDoctorSchema = assignedDoctorResponse.schema.meta({ id: "AssignedDoctor" });
export type AssignedDoctor = z.infer<typeof assignedDoctorSchema>;
export const assignedDoctorPage = pageOf(assignedDoctorSchema, "AssignedDoctorPage");
