import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// The suite runs inside workerd (the Workers runtime) against the local Neon
// endpoint that test/global-setup.ts starts. Bindings here override .dev.vars.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          NEON_LOCAL_ENDPOINT: inject("neonLocalEndpoint"),
          NEON_LOCAL_STATS: inject("neonLocalStats"),
          DATABASE_BACKEND: inject("databaseBackend"),
          DATABASE_URL: "postgres://app:app@127.0.0.1:5432/app",
          JWT_SECRET: "test-only-secret-0123456789abcdef0123456789",
          ALLOWED_HOSTS: "*",
          CORS_ORIGINS: "https://app.example.com",
          DB_TIMEOUT_MS: "3000",
        },
      },
    })),
  ],
  test: {
    globalSetup: ["./test/global-setup.ts"],
    include: ["test/**/*.test.ts"],
  },
});
