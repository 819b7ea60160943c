CREATE TABLE "idempotency_keys" (
	"user_id" uuid NOT NULL,
	"key_hash" text NOT NULL,
	"fingerprint" text NOT NULL,
	"status" integer NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" uuid NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("user_id","key_hash"),
	CONSTRAINT "idempotency_keys_resource_type_valid" CHECK ("idempotency_keys"."resource_type" IN ('patient', 'doctor', 'mapping')),
	CONSTRAINT "idempotency_keys_status_valid" CHECK ("idempotency_keys"."status" IN (200, 201, 204))
);
--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_outcome_valid";--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_outcome_valid" CHECK ("audit_events"."outcome" IN ('success', 'not_found', 'conflict', 'precondition_failed', 'replayed', 'key_mismatch'));