/**
 * Opaque cursors: a small JSON object, base64url-encoded. Opaque to clients
 * (they only hand back what they were given), not secret: every statement
 * still carries its owner condition, so a forged cursor can only move the
 * caller within what the caller may see anyway.
 */
import type * as z from "zod";

/** Longer than any cursor we issue: a bigger value is refused before decoding. */
const MAX_LENGTH = 1024;

export function encodeCursor(value: object): string {
  return btoa(JSON.stringify(value)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The cursor's content when `text` is one we could have issued under `schema`, else undefined. */
export function decodeCursor<T extends z.ZodType>(text: string, schema: T): z.output<T> | undefined {
  if (text.length > MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const json = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const parsed = schema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
