CREATE TABLE "row_counts" (
	"table_name" text NOT NULL,
	"owner_id" uuid NOT NULL,
	"total" bigint NOT NULL,
	CONSTRAINT "row_counts_pkey" PRIMARY KEY("table_name","owner_id"),
	CONSTRAINT "row_counts_total_non_negative" CHECK ("row_counts"."total" >= 0)
);
--> statement-breakpoint
CREATE INDEX "patients_owner_name_idx" ON "patients" USING btree ("owner_id","name","id");--> statement-breakpoint
CREATE INDEX "patients_owner_date_of_birth_idx" ON "patients" USING btree ("owner_id","date_of_birth","id");--> statement-breakpoint
CREATE INDEX "patients_owner_updated_idx" ON "patients" USING btree ("owner_id","updated_at","id");