/**
 * app.onError: every error becomes problem+json. Problems thrown on purpose
 * pass through; a database that is down or slow becomes 503 with
 * Retry-After; anything else is a 500 that names the request id and nothing
 * else. The log line carries the error's class and SQLSTATE, never its
 * message (Drizzle's messages include query parameters, i.e. personal data).
 */
import type { ErrorHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "../app-env";
import { classifyDbError, USER_FOREIGN_KEYS } from "../db/errors";
import { ACTOR_SQLSTATE } from "../db/fragments";
import { KEY_IN_FLIGHT } from "../db/idempotency";
import { CONSTRAINTS } from "../db/schema";
import { logError } from "../lib/log";
import { problem, problemResponse, serviceUnavailable } from "../lib/problem";
import { notAdministrator, unauthorized } from "./auth";

export const errorHandler: ErrorHandler<AppEnv> = (err, c) => {
  const requestId = c.get("requestId");
  if (err instanceof HTTPException) {
    // Hono's own exceptions (malformed JSON, say) carry a plain-text body: re-render as a problem.
    return err.res ? err.getResponse() : problemResponse(err.status, err.message || "The request was refused.");
  }
  const db = classifyDbError(err);
  // The statement's token check (actorCheck): the account is inactive or signed out since the token, or no administrator.
  if (db?.code === ACTOR_SQLSTATE.refused) return unauthorized().getResponse();
  if (db?.code === ACTOR_SQLSTATE.notAdmin) return notAdministrator().getResponse();
  // A valid token whose user no longer exists: the write's foreign key to users refuses it.
  if (db?.constraint && USER_FOREIGN_KEYS.has(db.constraint)) return unauthorized().getResponse();
  // A racing duplicate of an idempotent write: its statement (write included) rolled back when it met the winner's key.
  if (db?.constraint === CONSTRAINTS.idempotencyKeys) {
    return problem(409, KEY_IN_FLIGHT).getResponse();
  }
  if (db?.unavailable) {
    logError("db.unavailable", { requestId, code: db.code, path: c.req.routePath });
    return serviceUnavailable("The database is unavailable; try again shortly.").getResponse();
  }
  logError("unhandled_error", {
    requestId,
    clientRequestId: c.get("clientRequestId"),
    error: err instanceof Error ? err.name : typeof err,
    code: db?.code,
    constraint: db?.constraint,
    path: c.req.routePath,
  });
  return problemResponse(500, `An unexpected error occurred. Quote request id ${requestId} when reporting it.`);
};
