/**
 * Password hashing with PBKDF2-HMAC-SHA-256 through Web Crypto, stored as
 * `pbkdf2_sha256$<iterations>$<salt>$<hash>` (base64url) so the iteration
 * count can be raised later and old hashes recognised and upgraded.
 * Production Workers refuse more than 100,000 iterations: config enforces it.
 */
import { decodeBase64Url, encodeBase64Url } from "hono/utils/encode";
import { MAX_PBKDF2_ITERATIONS } from "./config";

const ALGORITHM = "pbkdf2_sha256";
const SALT_BYTES = 16;
const HASH_BITS = 256;

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, ["deriveBits"]);
  // A copy backed by a plain ArrayBuffer: the DOM's Web Crypto types (the admin console's type check sees this file) refuse a possibly shared one.
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt: new Uint8Array(salt), iterations }, key, HASH_BITS);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string, iterations: number): Promise<string> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new RangeError(`PBKDF2 iterations must be 1..${MAX_PBKDF2_ITERATIONS}`);
  }
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const hash = await derive(password, salt, iterations);
  return `${ALGORITHM}$${iterations}$${encodeBase64Url(salt.buffer)}$${encodeBase64Url(hash.buffer)}`;
}

function parse(stored: string) {
  const [algorithm, iterations, salt, hash] = stored.split("$");
  const n = Number(iterations);
  if (algorithm !== ALGORITHM || !Number.isInteger(n) || n < 1 || n > MAX_PBKDF2_ITERATIONS || !salt || !hash) return undefined;
  try {
    return { iterations: n, salt: decodeBase64Url(salt), hash: decodeBase64Url(hash) };
  } catch {
    return undefined; // not base64: a corrupt hash matches nothing
  }
}

/** Constant-time comparison of equal-length byte strings. */
function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** A well-formed hash nobody's password matches: unknown accounts cost the same PBKDF2 work. */
const DUMMY_SALT = new Uint8Array(SALT_BYTES);
const DUMMY_HASH = new Uint8Array(HASH_BITS / 8);

export interface PasswordCheck {
  valid: boolean;
  /** The stored hash uses fewer iterations than configured: rehash on this successful login. */
  needsUpgrade: boolean;
}

/**
 * Checks `password` against `stored`, or against a dummy hash when there is
 * no account (`stored` undefined), doing the same work either way.
 */
export async function verifyPassword(password: string, stored: string | undefined, iterations: number): Promise<PasswordCheck> {
  const parsed = stored ? parse(stored) : undefined;
  const target = parsed ?? { iterations, salt: DUMMY_SALT, hash: DUMMY_HASH };
  const derived = await derive(password, target.salt, target.iterations);
  const valid = equal(derived, target.hash) && parsed !== undefined;
  return { valid, needsUpgrade: valid && target.iterations < iterations };
}

/** The iteration count a stored hash was made with (for tests and upgrades). */
export const iterationsOf = (stored: string) => parse(stored)?.iterations;
