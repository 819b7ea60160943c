/** What the audit route accepts and answers. */
import * as z from "zod";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, AUDIT_RESOURCE_TYPES } from "../../db/schema";
import { pageOf, pageParams } from "../../lib/list";
import { uuidString } from "../../lib/validation";

const choice = <const T extends readonly [string, ...string[]]>(name: string, values: T) =>
  z.enum(values, { error: `${name} must be one of: ${values.join(", ")}.` }).optional();
/** An ISO 8601 timestamp with an offset, within what Postgres stores (no year 0), passed on in UTC. */
const timestamp = (name: string) =>
  z.iso
    .datetime({ offset: true, error: `${name} must be an ISO 8601 timestamp.` })
    .refine((v) => new Date(v).getUTCFullYear() >= 1, `${name} must be an ISO 8601 timestamp from year 1 on.`)
    .transform((v) => new Date(v).toISOString())
    .optional();

export const auditQuery = z.object({
  ...pageParams,
  actor_id: uuidString.optional(),
  resource_type: choice("resource_type", AUDIT_RESOURCE_TYPES),
  resource_id: uuidString.optional(),
  action: choice("action", AUDIT_ACTIONS),
  outcome: choice("outcome", AUDIT_OUTCOMES),
  since: timestamp("since"),
  until: timestamp("until"),
  // The trail is always newest first.
  ordering: z.undefined({ error: "ordering is not supported: the audit trail is always newest first." }).optional(),
});

export const auditEventSchema = z
  .object({
    id: z.uuid(),
    occurred_at: z.iso.datetime(),
    actor_id: z.uuid(),
    action: z.enum(AUDIT_ACTIONS),
    resource_type: z.enum(AUDIT_RESOURCE_TYPES),
    resource_id: z.uuid().nullable(),
    request_id: z.string(),
    outcome: z.enum(AUDIT_OUTCOMES),
  })
  .meta({ id: "AuditEvent" });
export const auditEventPage = pageOf(auditEventSchema, "AuditEventPage");
