/**
 * The Worker's entrypoint (wrangler.toml `main`): HTTP requests go to the
 * app, the Cron Trigger to the scheduled clean-up.
 */
import app from "./index";
import type { Bindings } from "./lib/config";
import { deleteExpiredRows } from "./scheduled/cleanup";

export default {
  fetch: app.fetch,
  async scheduled(_controller, env, _ctx) {
    await deleteExpiredRows(env);
  },
} satisfies ExportedHandler<Bindings>;
