/**
 * Request id (docs/BEHAVIOUR.md): echo a sane incoming X-Request-Id, else generate
 * one. Hono's own requestId middleware accepts `=` and refuses `.` and `:`,
 * which the contract says the other way round.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export const requestId = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    const incoming = c.req.header("X-Request-Id");
    const id = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", id);
    await next();
    c.res.headers.set("X-Request-Id", id);
  });
