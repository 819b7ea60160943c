import { defineConfig } from "drizzle-kit";

// `npm run db:generate` diffs src/db/schema.ts against drizzle/ offline;
// migrations are applied by scripts/migrate.ts (see the README).
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
  strict: true,
});
