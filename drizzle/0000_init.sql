CREATE TABLE "audit_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"occurred_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"actor_id" uuid NOT NULL,
	"action" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" uuid,
	"request_id" text NOT NULL,
	"outcome" text NOT NULL,
	CONSTRAINT "audit_events_action_valid" CHECK ("audit_events"."action" IN ('create', 'read', 'update', 'delete', 'list')),
	CONSTRAINT "audit_events_resource_type_valid" CHECK ("audit_events"."resource_type" IN ('patient', 'mapping')),
	CONSTRAINT "audit_events_outcome_valid" CHECK ("audit_events"."outcome" IN ('success', 'not_found', 'conflict', 'precondition_failed')),
	CONSTRAINT "audit_events_request_id_length" CHECK (char_length("audit_events"."request_id") BETWEEN 1 AND 128)
);
--> statement-breakpoint
CREATE TABLE "doctors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"created_by" uuid NOT NULL,
	"name" text NOT NULL,
	"specialization" text NOT NULL,
	"email" text,
	"phone" text,
	"license_number" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "doctors_name_length" CHECK (char_length("doctors"."name") BETWEEN 1 AND 200),
	CONSTRAINT "doctors_specialization_length" CHECK (char_length("doctors"."specialization") BETWEEN 1 AND 100),
	CONSTRAINT "doctors_license_number_length" CHECK (char_length("doctors"."license_number") BETWEEN 1 AND 50)
);
--> statement-breakpoint
CREATE TABLE "login_attempts" (
	"email_hash" text PRIMARY KEY NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"window_started_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "login_attempts_failures_non_negative" CHECK ("login_attempts"."failures" >= 0)
);
--> statement-breakpoint
CREATE TABLE "patient_doctor_mappings" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patient_id" uuid NOT NULL,
	"doctor_id" uuid NOT NULL,
	"owner_id" uuid NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "mappings_patient_doctor_key" UNIQUE("patient_id","doctor_id")
);
--> statement-breakpoint
CREATE TABLE "patients" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"date_of_birth" date NOT NULL,
	"gender" text NOT NULL,
	"phone" text,
	"email" text,
	"address" text,
	"medical_history" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "patients_id_owner_key" UNIQUE("id","owner_id"),
	CONSTRAINT "patients_gender_valid" CHECK ("patients"."gender" IN ('male', 'female', 'other', 'unknown')),
	CONSTRAINT "patients_name_length" CHECK (char_length("patients"."name") BETWEEN 1 AND 200),
	CONSTRAINT "patients_date_of_birth_range" CHECK ("patients"."date_of_birth" >= DATE '1900-01-01'),
	CONSTRAINT "patients_phone_length" CHECK (char_length("patients"."phone") BETWEEN 7 AND 32),
	CONSTRAINT "patients_address_length" CHECK (char_length("patients"."address") <= 500),
	CONSTRAINT "patients_medical_history_length" CHECK (char_length("patients"."medical_history") <= 10000)
);
--> statement-breakpoint
CREATE TABLE "refresh_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"family_id" uuid NOT NULL,
	"token_hash" text NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp (6) with time zone NOT NULL,
	"used_at" timestamp (6) with time zone,
	"revoked_at" timestamp (6) with time zone,
	CONSTRAINT "refresh_tokens_token_hash_key" UNIQUE("token_hash"),
	CONSTRAINT "refresh_tokens_expiry_after_creation" CHECK ("refresh_tokens"."expires_at" > "refresh_tokens"."created_at")
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" text NOT NULL,
	"name" text NOT NULL,
	"password_hash" text NOT NULL,
	"is_admin" boolean DEFAULT false NOT NULL,
	"created_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_normalised" CHECK ("users"."email" = lower(btrim("users"."email"))),
	CONSTRAINT "users_name_length" CHECK (char_length("users"."name") BETWEEN 1 AND 150)
);
--> statement-breakpoint
ALTER TABLE "doctors" ADD CONSTRAINT "doctors_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patient_doctor_mappings" ADD CONSTRAINT "mappings_patient_fk" FOREIGN KEY ("patient_id","owner_id") REFERENCES "public"."patients"("id","owner_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patient_doctor_mappings" ADD CONSTRAINT "mappings_doctor_fk" FOREIGN KEY ("doctor_id") REFERENCES "public"."doctors"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patients" ADD CONSTRAINT "patients_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD CONSTRAINT "refresh_tokens_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "audit_events_occurred_idx" ON "audit_events" USING btree ("occurred_at","id");--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "audit_events" USING btree ("actor_id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_events_resource_idx" ON "audit_events" USING btree ("resource_id","occurred_at");--> statement-breakpoint
CREATE UNIQUE INDEX "doctors_license_number_key" ON "doctors" USING btree (lower("license_number"));--> statement-breakpoint
CREATE INDEX "doctors_created_idx" ON "doctors" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "doctors_specialization_idx" ON "doctors" USING btree (lower("specialization"));--> statement-breakpoint
CREATE INDEX "doctors_created_by_idx" ON "doctors" USING btree ("created_by");--> statement-breakpoint
CREATE INDEX "login_attempts_window_idx" ON "login_attempts" USING btree ("window_started_at");--> statement-breakpoint
CREATE INDEX "mappings_owner_created_idx" ON "patient_doctor_mappings" USING btree ("owner_id","created_at","id");--> statement-breakpoint
CREATE INDEX "mappings_patient_created_idx" ON "patient_doctor_mappings" USING btree ("patient_id","created_at","id");--> statement-breakpoint
CREATE INDEX "mappings_doctor_idx" ON "patient_doctor_mappings" USING btree ("doctor_id");--> statement-breakpoint
CREATE INDEX "patients_owner_created_idx" ON "patients" USING btree ("owner_id","created_at","id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_family_idx" ON "refresh_tokens" USING btree ("family_id");--> statement-breakpoint
CREATE INDEX "refresh_tokens_user_idx" ON "refresh_tokens" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree (lower("email"));