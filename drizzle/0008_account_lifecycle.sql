ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_action_valid";--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_resource_type_valid";--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "fields" text[];--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "is_active" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "tokens_valid_after" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "last_login_at" timestamp (6) with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "version" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_fields_only_for_updates" CHECK ("audit_events"."fields" IS NULL OR "audit_events"."action" = 'update');--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_action_valid" CHECK ("audit_events"."action" IN ('create', 'read', 'update', 'delete', 'list', 'revoke'));--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_resource_type_valid" CHECK ("audit_events"."resource_type" IN ('patient', 'mapping', 'user'));--> statement-breakpoint
-- The access-token check every authenticated statement makes (src/db/fragments.ts
-- actorCheck): the token's user exists, is active, and the token was issued
-- after the user's last sign-out-everywhere, password change or deactivation;
-- with need_admin, the user is also an administrator. It raises rather than
-- returns false, so the whole statement (its writes and its audit row) is
-- undone, and the error handler answers 401 (SQLSTATE UA401) or 403 (UA403).
-- issued_at is the token's iat in whole seconds: a token issued within the
-- same second as the event is refused too.
CREATE FUNCTION authorised_actor(actor uuid, issued_at double precision, need_admin boolean) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
  u record;
BEGIN
  SELECT is_active, is_admin, tokens_valid_after INTO u FROM users WHERE id = actor;
  IF NOT FOUND OR NOT u.is_active OR (u.tokens_valid_after IS NOT NULL AND to_timestamp(issued_at) <= u.tokens_valid_after) THEN
    RAISE EXCEPTION 'access token no longer valid' USING ERRCODE = 'UA401';
  END IF;
  IF need_admin AND NOT u.is_admin THEN
    RAISE EXCEPTION 'administrators only' USING ERRCODE = 'UA403';
  END IF;
  RETURN true;
END $$;
