/**
 * The administrator API (docs/BEHAVIOUR.md, "Administration"): accounts and
 * counts, never patients' data. Every statement checks in itself that the
 * caller is an active administrator (403 otherwise, 401 for a token that no
 * longer counts) and audits the act; one round trip per request. A request
 * refused by its own validation (400, or 404 for an id that is not a UUID)
 * first asks the database whether the caller is an administrator, so that a
 * non-administrator learns nothing from it: 403 before any 400 or 404.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../../app-env";
import { ifMatchVersions } from "../../lib/etag";
import { listAnswer, listParams } from "../../lib/list";
import { problem } from "../../lib/problem";
import { actorOf, conditionalGet, ok, unwrap } from "../../lib/resource";
import { describeRoute } from "../../lib/route-doc";
import { idParam, jsonBody } from "../../lib/validation";
import { requireUser } from "../../middleware/auth";
import { database } from "../../middleware/database";
import { assertAdministrator, listUsers, readStats, readUser, revokeSessions, updateUser } from "./queries";
import { adminStatsSchema, adminUserListQuery, adminUserOrderings, adminUserPage, adminUserPatch, adminUserSchema } from "./schemas";

const NOT_FOUND = "No user with this id.";
const MESSAGES = {
  notFound: NOT_FOUND,
  conflict: "Administrators cannot change their own is_active or is_admin (another administrator can).",
};

/**
 * A validator whose 400 or 404 waits for the admin check: a non-administrator
 * gets the check's 403 (or 401) instead. The validator's marks (body, query)
 * stay on it for the OpenAPI document.
 */
function adminFirst<M extends MiddlewareHandler>(validator: M): M {
  const wrapped: MiddlewareHandler = async (c, next) => {
    let validated = false;
    try {
      return await validator(c, () => {
        validated = true;
        return next();
      });
    } catch (error) {
      if (!validated && error instanceof HTTPException && (error.status === 400 || error.status === 404)) {
        await assertAdministrator(c.var.db, actorOf(c as Context<AppEnv>));
      }
      throw error;
    }
  };
  return Object.assign(wrapped, validator) as unknown as M;
}

const one = (description: string) => ({ status: 200 as const, description, schema: adminUserSchema, headers: ["ETag" as const] });

export const adminRoutes = new Hono<AppEnv>()
  .use(requireUser(), database())
  .get(
    "/stats",
    describeRoute({
      operationId: "getAdminStats",
      summary: "Counts for the administrators' dashboard (administrators only)",
      description: "Counts only. Audited as a `list` of `user`.",
      success: { status: 200, description: "The counts.", schema: adminStatsSchema },
      errors: [403],
    }),
    async (c) => c.json(await readStats(c.var.db, actorOf(c))),
  )
  .get(
    "/users",
    describeRoute({
      operationId: "listAdminUsers",
      summary: "List accounts (administrators only)",
      description:
        "`search` matches name and email (literal, case-insensitive); filters `is_active`, `is_admin` (`true`/`false`); `ordering` over email, name, created_at, last_login_at (never-logged-in accounts sort last ascending, first descending). Default order: created_at, then id.",
      success: { status: 200, description: "A page of accounts.", schema: adminUserPage },
      errors: [403],
    }),
    adminFirst(listParams(adminUserListQuery, adminUserOrderings)),
    async (c) => {
      const q = c.req.valid("query");
      return listAnswer(c, q, await listUsers(c.var.db, actorOf(c), q));
    },
  )
  .get(
    "/users/:id",
    describeRoute({
      operationId: "getAdminUser",
      summary: "Read an account (administrators only)",
      conditionalGet: true,
      success: one("The account."),
      errors: [403],
    }),
    adminFirst(idParam(NOT_FOUND)),
    async (c) => {
      const user = await readUser(c.var.db, actorOf(c), c.req.valid("param").id);
      if (!user) throw problem(404, NOT_FOUND);
      return conditionalGet(c, user);
    },
  )
  .patch(
    "/users/:id",
    describeRoute({
      operationId: "updateAdminUser",
      summary: "Rename, deactivate or reactivate an account, grant or revoke administrator (administrators only)",
      description:
        "Deactivating also signs the account out everywhere, in the same statement: its refresh tokens are revoked and its access tokens refused from the next request; reactivating does not revive them. Changing one's own `is_active` or `is_admin` is 409. The audit row names the fields whose value changed.",
      bodyExample: { is_active: false },
      ifMatch: true,
      success: one("The account as stored."),
      errors: [403, 409],
    }),
    adminFirst(jsonBody(adminUserPatch)),
    adminFirst(idParam(NOT_FOUND)),
    async (c) => {
      const outcome = await updateUser(
        c.var.db,
        actorOf(c),
        c.req.valid("param").id,
        c.req.valid("json"),
        ifMatchVersions(c.req.header("If-Match")),
      );
      return ok(c, unwrap(outcome, MESSAGES));
    },
  )
  .delete(
    "/users/:id/sessions",
    describeRoute({
      operationId: "revokeAdminUserSessions",
      summary: "Sign an account out everywhere (administrators only)",
      description: "Every refresh token of the account is revoked and every access token issued until now refused. Audited as `revoke`.",
      success: { status: 204, description: "Signed out everywhere." },
      errors: [403],
    }),
    adminFirst(idParam(NOT_FOUND)),
    async (c) => {
      if (!(await revokeSessions(c.var.db, actorOf(c), c.req.valid("param").id))) throw problem(404, NOT_FOUND);
      return c.body(null, 204);
    },
  );
