/** The Hono environment every router and middleware shares. */
import type { Db } from "./db/client";
import type { Bindings } from "./lib/config";

export interface AppEnv {
  Bindings: Bindings;
  Variables: {
    requestId: string;
    /** Set by the database middleware on data routes. */
    db: Db;
    /** Set by the auth middleware: the verified access token's subject. */
    userId: string;
  };
}
