/** What the mapping routes accept and answer. */
import * as z from "zod";
import { orderingParam, pageOf, pageParams } from "../../lib/list";
import { uuidString } from "../../lib/validation";
import { doctorShape } from "../doctors/schemas";

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

export const mappingSchema = z
  .object({ id: z.uuid(), patient_id: z.uuid(), doctor_id: z.uuid(), created_at: z.iso.datetime() })
  .meta({ id: "Mapping" });
export const mappingPage = pageOf(mappingSchema, "MappingPage");
/** A doctor assigned to a patient: the doctor plus the assignment's id and time. */
export const assignedDoctorSchema = z
  .object({ ...doctorShape, mapping_id: z.uuid(), assigned_at: z.iso.datetime() })
  .meta({ id: "AssignedDoctor" });
export const assignedDoctorPage = pageOf(assignedDoctorSchema, "AssignedDoctorPage");
