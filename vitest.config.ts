import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Two projects: the Worker and its tests inside workerd, and the Node-side
// scripts (*.node.test.ts) in Node. Each gets its own local Neon endpoint on
// a fresh database from test/global-setup.ts; Worker bindings override .dev.vars.
export default defineConfig({
  test: {
    // The JSON report lets .ci/run check that a pass ran every test (none skipped, none failed).
    reporters: ["default", ["json", { outputFile: "artifacts/test-results.json" }]],
    projects: [
      {
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
                // Every cached statement shape is checked against a fresh build (src/db/statement.ts).
                STATEMENT_CHECK: "1",
                // Reproduces a property-based run (test/hostile-input.test.ts).
                FC_SEED: process.env.FC_SEED ?? "",
                // READ_AUDIT_COMMIT=async npx vitest run … runs the suite with asynchronous read-audit commits.
                ...(process.env.READ_AUDIT_COMMIT ? { READ_AUDIT_COMMIT: process.env.READ_AUDIT_COMMIT } : {}),
              },
            },
          })),
        ],
        test: {
          name: "workers",
          // Generous: the suite shares two cores with a database; a hang still fails.
          testTimeout: 20_000,
          globalSetup: ["./test/global-setup.ts"],
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.node.test.ts"],
        },
      },
      {
        test: {
          name: "node",
          testTimeout: 20_000,
          environment: "node",
          globalSetup: ["./test/global-setup.ts"],
          include: ["test/**/*.node.test.ts"],
        },
      },
    ],
  },
});
