/// <reference types="vite/client" />
// Bindings the test pool sets (vitest.config.ts), on top of wrangler.toml's [vars],
// and the Worker module behind `exports` from cloudflare:workers. Declared here:
// worker-configuration.d.ts holds the runtime types only (see `npm run types`).
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("../src/index");
  }
  interface Env {
    NEON_LOCAL_ENDPOINT: string;
    NEON_LOCAL_STATS: string;
    DATABASE_BACKEND: "pglite" | "postgres";
    DATABASE_URL: string;
    JWT_SECRET: string;
    ALLOWED_HOSTS: string;
    CORS_ORIGINS: string;
    FC_SEED: string;
  }
}
