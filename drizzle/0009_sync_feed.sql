CREATE TABLE "sync_tombstones" (
	"resource_type" text NOT NULL,
	"id" uuid NOT NULL,
	"owner_id" uuid NOT NULL,
	"sync_xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"deleted_at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_tombstones_pkey" PRIMARY KEY("resource_type","id"),
	CONSTRAINT "sync_tombstones_resource_type_valid" CHECK ("sync_tombstones"."resource_type" IN ('doctor', 'patient', 'mapping'))
);
--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_action_valid";--> statement-breakpoint
ALTER TABLE "doctors" ADD COLUMN "sync_xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
ALTER TABLE "patient_doctor_mappings" ADD COLUMN "sync_xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
ALTER TABLE "patients" ADD COLUMN "sync_xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL;--> statement-breakpoint
CREATE INDEX "sync_tombstones_feed_idx" ON "sync_tombstones" USING btree ("owner_id","resource_type","sync_xid","id");--> statement-breakpoint
CREATE INDEX "sync_tombstones_deleted_idx" ON "sync_tombstones" USING btree ("deleted_at");--> statement-breakpoint
CREATE INDEX "doctors_sync_idx" ON "doctors" USING btree ("sync_xid","id");--> statement-breakpoint
CREATE INDEX "mappings_owner_sync_idx" ON "patient_doctor_mappings" USING btree ("owner_id","sync_xid","id");--> statement-breakpoint
CREATE INDEX "patients_owner_sync_idx" ON "patients" USING btree ("owner_id","sync_xid","id");--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_action_valid" CHECK ("audit_events"."action" IN ('create', 'read', 'update', 'delete', 'list', 'revoke', 'sync'));--> statement-breakpoint
-- The sync feed's two triggers for one table (docs/SYNC.md), given by
-- sync_track to every table src/db/schema.ts marks with synced()
-- (scripts/lib/migrate.ts calls it after the migrations; a table that
-- already has them is left alone):
-- * before every insert and update, the row is stamped with the id of the
--   transaction writing it, whatever statement wrote it;
-- * after every delete (cascaded ones included) one tombstone per row, with
--   the owner the row had ('all': the nil UUID, every user sees it).
CREATE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.sync_xid := pg_current_xact_id();
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE FUNCTION sync_tombstone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_ARGV[1] = 'all' THEN
    INSERT INTO sync_tombstones (resource_type, id, owner_id)
      SELECT TG_ARGV[0], id, '00000000-0000-0000-0000-000000000000'::uuid FROM changed_rows
      ON CONFLICT (resource_type, id) DO UPDATE SET owner_id = EXCLUDED.owner_id, sync_xid = EXCLUDED.sync_xid, deleted_at = EXCLUDED.deleted_at;
  ELSE
    INSERT INTO sync_tombstones (resource_type, id, owner_id)
      SELECT TG_ARGV[0], id, owner_id FROM changed_rows
      ON CONFLICT (resource_type, id) DO UPDATE SET owner_id = EXCLUDED.owner_id, sync_xid = EXCLUDED.sync_xid, deleted_at = EXCLUDED.deleted_at;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION sync_track(tbl regclass, resource_type text, scope text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  name text := (SELECT relname FROM pg_class WHERE oid = tbl);
BEGIN
  IF scope NOT IN ('owner', 'all') THEN
    RAISE EXCEPTION 'sync_track: scope must be owner or all, not %', scope;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = tbl AND tgfoid = 'sync_stamp'::regproc) THEN
    RETURN;
  END IF;
  EXECUTE format(
    'CREATE TRIGGER %I BEFORE INSERT OR UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION sync_stamp()',
    name || '_sync_stamp', tbl);
  EXECUTE format(
    'CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION sync_tombstone(%L, %L)',
    name || '_sync_tombstone', tbl, resource_type, scope);
END $$;
