/**
 * The Idempotency-Key header of a write (docs/BEHAVIOUR.md): validated
 * (1–255 visible ASCII characters, else 400) and turned into what the
 * write's statement records — the key's SHA-256 and the request's
 * fingerprint, SHA-256 of method, path (without its trailing slash) and the
 * JSON body with its keys sorted, so formatting and key order do not matter.
 * Runs after the body's own checks (415, 400), as the check order asks.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { problem } from "../lib/problem";
import { marked } from "../lib/route-doc";
import { sha256 } from "../lib/tokens";

export const IDEMPOTENCY_KEY = "Idempotency-Key";
const VALID_KEY = /^[\x21-\x7e]{1,255}$/;

/** JSON with object keys sorted at every depth: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export const idempotencyKey = () =>
  marked(
    createMiddleware<AppEnv>(async (c, next) => {
      const key = c.req.header(IDEMPOTENCY_KEY);
      if (key !== undefined) {
        if (!VALID_KEY.test(key)) {
          throw problem(400, `${IDEMPOTENCY_KEY} must be 1–255 visible ASCII characters.`, {
            errors: { [IDEMPOTENCY_KEY]: ["Must be 1–255 visible ASCII characters (no spaces)."] },
          });
        }
        // The body was parsed (and cached by Hono) by the route's validator; a DELETE has none.
        const body = c.req.method === "DELETE" ? "" : canonicalJson(await c.req.json());
        const path = c.req.path.replace(/\/+$/, "");
        c.set("idempotency", { keyHash: await sha256(key), fingerprint: await sha256(`${c.req.method}\n${path}\n${body}`) });
      }
      await next();
    }),
    { idempotent: true },
  );
