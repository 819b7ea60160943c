/**
 * Opaque cursors (the lists' `cursor`, the sync feed's `since`): a small JSON
 * value, base64url-encoded. Opaque to clients (they only hand back what they
 * were given), not secret: every statement still carries its owner
 * condition, so a forged cursor can only move the caller within what the
 * caller may see anyway. Each user of it checks the decoded value's shape.
 */

/** Longer than any cursor we issue: a bigger value is refused before decoding. */
const MAX_LENGTH = 8192;

export function encodeOpaque(value: unknown): string {
  const json = JSON.stringify(value);
  // btoa takes bytes as characters: UTF-8 first, unless the text is ASCII already (the usual case).
  const binary = /^[\x20-\x7e]*$/.test(json) ? json : Array.from(new TextEncoder().encode(json), (b) => String.fromCharCode(b)).join("");
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The JSON value `text` holds, or undefined when it is not base64url of UTF-8 JSON. */
export function decodeOpaque(text: string): unknown {
  if (text.length > MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const json = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}
