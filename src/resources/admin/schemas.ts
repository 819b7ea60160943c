/** What the administrator routes accept and answer: accounts and counts, never a patient's data. */
import * as z from "zod";
import { responseOf } from "../../db/response";
import { users } from "../../db/schema";
import { requiredText } from "../../lib/fields";
import { orderingParam, orderings, pageOf, pageParams, searchParam } from "../../lib/list";

/** An account as an administrator sees it, field by column (never its password hash or token state). */
export const adminUserResponse = responseOf({
  id: users.id,
  name: users.name,
  email: users.email,
  is_active: users.isActive,
  is_admin: users.isAdmin,
  created_at: users.createdAt,
  last_login_at: users.lastLoginAt,
});
export const adminUserSchema = adminUserResponse.schema.meta({ id: "AdminUser" });
export type AdminUser = z.infer<typeof adminUserSchema>;

/** A list row adds how many patients the account has (a count, never the patients). */
export const adminUserRowSchema = adminUserResponse.schema
  .extend({ patient_count: z.number().int().meta({ description: "How many patients the account has." }) })
  .meta({ id: "AdminUserRow" });
export type AdminUserRow = z.infer<typeof adminUserRowSchema>;
export const adminUserPage = pageOf(adminUserRowSchema, "AdminUserPage");

export const ADMIN_USER_ORDERING = ["email", "name", "created_at", "last_login_at"] as const;

const flag = (name: string) =>
  z
    .enum(["true", "false"], { error: `${name} must be true or false.` })
    .transform((v) => v === "true")
    .optional();

export const adminUserListQuery = z.object({
  ...pageParams,
  search: searchParam,
  is_active: flag("is_active"),
  is_admin: flag("is_admin"),
  ordering: orderingParam(ADMIN_USER_ORDERING),
});
/** The column behind each ordering, created_at by default (no index serves these: the accounts are few). last_login_at is nullable. */
export const adminUserOrderings = orderings(
  { email: users.email, name: users.name, created_at: users.createdAt, last_login_at: users.lastLoginAt },
  "created_at",
);

/** PATCH: any subset; an omitted field is left as it is. */
export const adminUserPatch = z
  .strictObject({
    name: requiredText(150),
    is_active: z.boolean({ error: "is_active must be true or false." }),
    is_admin: z.boolean({ error: "is_admin must be true or false." }),
  })
  .partial()
  .meta({ id: "AdminUserPatch" });
export type AdminUserChanges = z.infer<typeof adminUserPatch>;

const count = z.number().int();
export const adminStatsSchema = z
  .object({
    users: z.object({
      total: count,
      active: count,
      admins: count.meta({ description: "Accounts with is_admin, active or not." }),
    }),
    patients: count,
    doctors: count,
    mappings: count,
    audit_events_24h: count,
    failed_logins_24h: count.meta({
      description:
        "Failed logins (and wrong current passwords) counted in login-limit windows that began in the last 24 hours and were not cleared by a later success.",
    }),
  })
  .meta({ id: "AdminStats" });
export type AdminStats = z.infer<typeof adminStatsSchema>;
