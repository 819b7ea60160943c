/**
 * Response helpers shared by the resource routers: a versioned body becomes
 * JSON with its ETag, a GET whose tag the client already has becomes 304,
 * a create becomes 201 with Location, a write outcome becomes its status.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import type { WriteOutcome } from "../db/fragments";
import { KEY_IN_FLIGHT } from "../db/idempotency";
import { etagOf, ifNoneMatchHits } from "./etag";
import { problem } from "./problem";

type Versioned = { id: string; version: number };
/**
 * A resource as Postgres wrote it: its JSON text, answered as it is (never
 * parsed and serialised again in the Worker), with the id and version read
 * beside it for Location and the ETag.
 */
export type RawResource<T> = { id: string; version: number; raw: string /** Type only: what `raw` holds. */; shape?: T };

const isRaw = <T>(body: T | RawResource<unknown>): body is RawResource<unknown> => typeof (body as RawResource<unknown>).raw === "string";
/** The body a resource is answered with: a raw resource's shape, or the versioned object without its version. */
type BodyOf<B> = B extends RawResource<infer T> ? T : Omit<B, "version">;

/** The body without its version, and the ETag made from it. */
function split<T extends Versioned>(body: T) {
  const { version, ...rest } = body;
  return { etag: etagOf(version), rest };
}

export function ok<B extends Versioned | RawResource<unknown>>(c: Context, body: B, status: 200 | 201 = 200) {
  c.header("ETag", etagOf(body.version));
  // Typed as c.json's answer, so hono/client still knows the body's shape.
  type Answer = ReturnType<typeof c.json<BodyOf<B>, 200 | 201>>;
  if (isRaw(body)) return c.body(body.raw, status, { "Content-Type": "application/json" }) as unknown as Answer;
  return c.json(split(body as Versioned).rest as BodyOf<B>, status) as Answer;
}

export function created<B extends Versioned | RawResource<unknown>>(c: Context, collectionPath: string, body: B) {
  // The request URL's origin (scheme://host[:port]) by hand: parsing the whole URL again cost more than the rest of this.
  const url = c.req.url;
  c.header("Location", `${url.slice(0, url.indexOf("/", url.indexOf("//") + 2))}${collectionPath}/${body.id}/`);
  return ok(c, body, 201);
}

/** 200 with the resource, or 304 when If-None-Match already names it. */
export function conditionalGet<B extends Versioned | RawResource<unknown>>(c: Context, body: B) {
  const etag = etagOf(body.version);
  if (ifNoneMatchHits(c.req.header("If-None-Match"), etag)) {
    c.header("ETag", etag);
    return c.body(null, 304);
  }
  return ok(c, body);
}

export interface OutcomeMessages {
  notFound: string;
  forbidden?: string;
  conflict?: string;
}

/** The value of a write, or the problem it came to (404, 403, 409, 412). */
export function unwrap<T>(outcome: WriteOutcome<T>, messages: OutcomeMessages): T {
  switch (outcome.status) {
    case "replayed":
      throw new Error("A replay is answered by answerWrite(), not unwrapped.");
    case "key_mismatch":
      throw problem(422, "This Idempotency-Key was used with a different request (method, path or body); use a new key for a new action.");
    case "ok":
      return outcome.value;
    case "not_found":
      throw problem(404, messages.notFound);
    case "forbidden":
      throw problem(403, messages.forbidden ?? "You may not change this resource.");
    case "conflict":
      throw problem(409, messages.conflict ?? "The request conflicts with the resource's current state.");
    case "precondition_failed":
      throw problem(412, "The resource has changed since the ETag given in If-Match.");
    case "in_flight":
      throw problem(409, KEY_IN_FLIGHT);
  }
}

/** Marks a replay; returns the original code for a replayed write, or undefined for a first run. */
function replayed<T>(
  c: Context,
  outcome: WriteOutcome<T>,
  messages: OutcomeMessages,
): { code: 200 | 201 | 204; value: T | null } | undefined {
  if (outcome.status !== "replayed") return undefined;
  c.header(REPLAYED, "true");
  if (outcome.code !== 204 && outcome.value === null) throw problem(404, messages.notFound, { headers: { [REPLAYED]: "true" } });
  return { code: outcome.code, value: outcome.value };
}

/**
 * The answer to a create or update: its success (201 with Location when
 * `collectionPath` is given), its problem, or — for a retry whose
 * Idempotency-Key was recorded — the original status with the resource as it
 * is now (404 if it is gone), marked `Idempotent-Replayed: true`.
 */
export function answerWrite<T extends Versioned>(c: Context, outcome: WriteOutcome<T>, messages: OutcomeMessages, collectionPath?: string) {
  const replay = replayed(c, outcome, messages);
  const [code, value] = replay ? [replay.code, replay.value as T] : [collectionPath ? 201 : 200, unwrap(outcome, messages)];
  return code === 201 && collectionPath ? created(c, collectionPath, value) : ok(c, value);
}

/** The answer to a DELETE: 204 (also when replayed), or its problem. */
export function answerDelete(c: Context, outcome: WriteOutcome<true>, messages: OutcomeMessages) {
  if (!replayed(c, outcome, messages)) unwrap(outcome, messages);
  return c.body(null, 204);
}

const REPLAYED = "Idempotent-Replayed";

// biome-ignore lint/suspicious/noExplicitAny: any route's context
export const actorOf = (c: Context<AppEnv, any, any>) => ({
  userId: c.var.userId,
  issuedAt: c.var.tokenIssuedAt,
  requestId: c.var.requestId,
  clientRequestId: c.var.clientRequestId,
  idempotency: c.var.idempotency,
});
