/** What the audit route accepts and answers. */
import * as z from "zod";
import { responseOf } from "../../db/response";
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, AUDIT_RESOURCE_TYPES, auditEvents } from "../../db/schema";
import { orderings, pageOf, pageParams } from "../../lib/list";
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
/** Newest first, always (audit_events_occurred_idx; the actor and resource filters have their own (…, occurred_at) indexes). */
export const auditOrderings = orderings({ occurred_at: auditEvents.occurredAt }, "-occurred_at");

/** An audit event as the API answers it, field by column. */
export const auditEventResponse = responseOf({
  id: auditEvents.id,
  occurred_at: auditEvents.occurredAt,
  actor_id: auditEvents.actorId,
  action: auditEvents.action,
  resource_type: auditEvents.resourceType,
  resource_id: auditEvents.resourceId,
  // The service's own id for the request, and beside it the X-Request-Id the client sent, if any.
  request_id: auditEvents.requestId,
  client_request_id: auditEvents.clientRequestId,
  outcome: auditEvents.outcome,
  // For a successful update: the names of the fields whose value it changed; null for everything else.
  fields: auditEvents.fields,
});
export const auditEventSchema = auditEventResponse.schema.meta({ id: "AuditEvent" });
export type AuditEvent = z.infer<typeof auditEventSchema>;
export const auditEventPage = pageOf(auditEventSchema, "AuditEventPage");
