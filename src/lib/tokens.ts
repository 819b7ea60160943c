/**
 * Access tokens: HS256 JWTs (hono/jwt over Web Crypto) with `sub`, `iat`,
 * `exp`, `jti`, `typ: "access"`, `iss` and `aud`; verified with the
 * algorithm, issuer and audience pinned and no database call. Refresh
 * tokens: 256 bits (random at login, then each the HMAC of its predecessor),
 * opaque to clients, stored only as their SHA-256.
 */
import { sign, verify } from "hono/jwt";
import { encodeBase64Url } from "hono/utils/encode";
import type { AuthConfig } from "./config";

const ALG = "HS256";
/** Tolerated clock difference for `iat` between Worker instances. `exp` gets none. */
const IAT_LEEWAY_SECONDS = 60;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * Compact JWS as we issue it: three unpadded base64url segments, and an
 * HS256 signature (32 bytes) in its one canonical 43-character spelling —
 * the last character carries 4 bits, so its low 2 bits must be zero.
 * hono's decoder forgives `=` padding and those bits, which would let one
 * token be spelled several ways; we accept only the spelling we issued.
 */
const ISSUED_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/**
 * JWT_SECRET as an HMAC-SHA-256 key, imported once per secret and isolate:
 * given a string, hono imports the key again on every sign and verify
 * (about 3 % of an authenticated request's CPU in the profile; see
 * docs/BENCHMARKS.md). One key serves the token signatures and the login
 * limit's email keys.
 */
type SecretKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const secretKeys = new Map<string, Promise<SecretKey>>();
function secretKey(secret: string): Promise<SecretKey> {
  let key = secretKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    secretKeys.set(secret, key);
  }
  return key;
}

export interface IssuedTokens {
  access: string;
  refresh: string;
  token_type: "Bearer";
  expires_in: number;
}

/**
 * `notBefore`: the first whole second (epoch) the account's token check
 * accepts, when the account was just signed out everywhere: the token's
 * `iat` is moved up to it (at most a second ahead), so the pair answered
 * by a password change or a login right after a revocation works at once.
 */
export async function signAccessToken(userId: string, config: AuthConfig, notBefore = 0): Promise<{ token: string; expiresIn: number }> {
  const expiresIn = config.JWT_ACCESS_MINUTES * 60;
  const now = Math.floor(Date.now() / 1000);
  const iat = Math.max(now, notBefore);
  const token = await sign(
    { sub: userId, iat, exp: now + expiresIn, jti: crypto.randomUUID(), typ: "access", iss: config.JWT_ISSUER, aud: config.JWT_AUDIENCE },
    await secretKey(config.JWT_SECRET),
    ALG,
  );
  return { token, expiresIn };
}

/** A verified access token: its user, and when it was issued (epoch seconds), which the account's token check compares. */
export interface AccessClaims {
  userId: string;
  issuedAt: number;
}

/**
 * Tokens this isolate has verified, with what they said: a client sends the
 * same access token with every request until it expires, and checking its
 * signature again each time was a tenth of an authenticated read's CPU
 * (docs/BENCHMARKS.md). A token is immutable, so a verified one stays
 * verified; its expiry is still checked on every use, and whether its
 * account may still use it is the statement's business (authorised_actor),
 * as before. Keyed by the whole token and the settings it was checked
 * against; bounded, oldest out first.
 */
const verified = new Map<string, AccessClaims & { expiresAt: number }>();
const VERIFIED_MAX = 2048;

/** The claims of a valid access token, or undefined for anything else. */
export async function verifyAccessToken(
  token: string,
  config: Pick<AuthConfig, "JWT_SECRET" | "JWT_ISSUER" | "JWT_AUDIENCE">,
): Promise<AccessClaims | undefined> {
  const cacheKey = `${config.JWT_SECRET}\u0000${config.JWT_ISSUER}\u0000${config.JWT_AUDIENCE}\u0000${token}`;
  const known = verified.get(cacheKey);
  if (known) {
    if (known.expiresAt > Math.floor(Date.now() / 1000)) return { userId: known.userId, issuedAt: known.issuedAt };
    verified.delete(cacheKey);
    return undefined;
  }
  const claims = await verifySignedToken(token, config);
  if (claims) {
    if (verified.size >= VERIFIED_MAX) verified.delete(verified.keys().next().value as string);
    verified.set(cacheKey, claims);
  }
  return claims && { userId: claims.userId, issuedAt: claims.issuedAt };
}

async function verifySignedToken(
  token: string,
  config: Pick<AuthConfig, "JWT_SECRET" | "JWT_ISSUER" | "JWT_AUDIENCE">,
): Promise<(AccessClaims & { expiresAt: number }) | undefined> {
  if (!ISSUED_SHAPE.test(token)) return undefined;
  try {
    // hono checks exp (strictly), iss, aud and the signature with alg pinned; iat we check with a leeway below.
    // iss and aud keep another environment's tokens out even if it shares the secret.
    const claims = await verify(token, await secretKey(config.JWT_SECRET), {
      alg: ALG,
      iat: false,
      iss: config.JWT_ISSUER,
      aud: config.JWT_AUDIENCE,
    });
    const now = Math.floor(Date.now() / 1000);
    const valid =
      claims.typ === "access" &&
      typeof claims.sub === "string" &&
      UUID.test(claims.sub) &&
      typeof claims.exp === "number" &&
      typeof claims.iat === "number" &&
      claims.iat <= now + IAT_LEEWAY_SECONDS &&
      typeof claims.jti === "string";
    return valid ? { userId: claims.sub as string, issuedAt: claims.iat as number, expiresAt: claims.exp as number } : undefined;
  } catch {
    return undefined;
  }
}

export function newRefreshToken(): string {
  return encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)).buffer).replace(/=+$/, "");
}

/** SHA-256, base64url: what the database keeps of a refresh token. */
export async function sha256(value: string): Promise<string> {
  return encodeBase64Url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)));
}

/**
 * What the login limit keys an email on: HMAC-SHA-256 under JWT_SECRET,
 * base64url, so someone who reads login_attempts cannot test a list of
 * addresses against it. The label keeps it apart from JWT signatures (a JWT
 * signing input never contains a colon).
 */
export async function loginAttemptKey(email: string, secret: string): Promise<string> {
  return hmac(secret, `login_attempts:${email}`);
}

/**
 * The refresh token that replaces `presented`: HMAC-SHA-256 of it under
 * JWT_SECRET, so a retry of a refresh whose answer was lost gets the same
 * successor again without the server keeping any raw token (docs/SECURITY.md).
 * As unguessable as the token itself to anyone without the secret.
 */
export async function successorRefreshToken(presented: string, secret: string): Promise<string> {
  return (await hmac(secret, `refresh_successor:${presented}`)).replace(/=+$/, "");
}

async function hmac(secret: string, message: string): Promise<string> {
  return encodeBase64Url(await crypto.subtle.sign("HMAC", await secretKey(secret), new TextEncoder().encode(message)));
}
