/** The Hono environment every router and middleware shares. */
import type { Db } from "./db/client";
import type { IdempotencyKey } from "./db/idempotency";
import type { Bindings } from "./lib/config";

export interface AppEnv {
  Bindings: Bindings & {
    /** The static assets of public/ (wrangler.toml [assets]): Swagger UI and the built OpenAPI document. */
    ASSETS?: { fetch(input: URL | Request | string): Promise<Response> };
  };
  Variables: {
    /** The service's own id for this request. */
    requestId: string;
    /** The client's X-Request-Id, when it sent a sane one. */
    clientRequestId: string | undefined;
    /** Set by the database middleware on data routes. */
    db: Db;
    /** Set by the auth middleware: the verified access token's subject. */
    userId: string;
    /** Set by the idempotency middleware on writes that sent an Idempotency-Key. */
    idempotency: IdempotencyKey | undefined;
    /** Set by the auth middleware: the token's `iat` (epoch seconds), for the account's token check in each statement. */
    tokenIssuedAt: number;
  };
}
