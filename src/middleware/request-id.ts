/**
 * Request ids (docs/BEHAVIOUR.md): the service always makes its own (`requestId`: audit rows,
 * log lines, the id a 500 asks to quote), so a client can never choose what
 * the trail says. A sane incoming X-Request-Id is kept as `clientRequestId`
 * and echoed in the response; otherwise the response carries the service's.
 * Hono's own requestId middleware accepts `=` and refuses `.` and `:`, which
 * the contract says the other way round.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestId = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header("X-Request-Id");
    const clientId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : undefined;
    const id = crypto.randomUUID();
    c.set("requestId", id);
    c.set("clientRequestId", clientId);
    await next();
    c.res.headers.set("X-Request-Id", clientId ?? id);
  });
