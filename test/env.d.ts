// Bindings the test pool sets (vitest.config.ts), on top of wrangler.toml's [vars].
declare namespace Cloudflare {
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
