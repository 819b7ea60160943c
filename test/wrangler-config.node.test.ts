/**
 * wrangler.toml, read and validated by wrangler itself, holds the deploy
 * settings docs/SECURITY.md relies on: a test, so that CI fails when one is
 * dropped.
 */

import { describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";

const config = unstable_readConfig({ config: "wrangler.toml" });

describe("wrangler.toml", () => {
  it("turns invocation logs off (they record request URLs, ?search= included) and keeps the service's own log lines", () => {
    expect(config.observability).toMatchObject({ enabled: true, logs: { enabled: true, invocation_logs: false } });
  });

  it("builds the docs assets itself, minifies and uploads source maps: `wrangler deploy` runs no npm pre-script", () => {
    expect(config.build.command).toMatch(/scripts\/docs-assets\.ts/);
    expect(config.minify).toBe(true);
    expect(config.upload_source_maps).toBe(true);
  });

  it("serves on no *.workers.dev name and no preview URLs", () => {
    expect(config.workers_dev).toBe(false);
    expect(config.preview_urls).toBe(false);
  });

  it("requires the DATABASE_URL and JWT_SECRET secrets", () => {
    expect(config.secrets?.required).toEqual(expect.arrayContaining(["DATABASE_URL", "JWT_SECRET"]));
  });

  it("declares the per-IP rate limiters and the clean-up's Cron Trigger on the entrypoint that handles it", () => {
    expect(config.ratelimits.map((r: { name: string }) => r.name).sort()).toEqual(["AUTH_PASSWORD_LIMITER", "AUTH_REFRESH_LIMITER"]);
    expect(config.triggers.crons).toHaveLength(1);
    expect(config.main).toMatch(/src\/worker\.ts$/);
  });
});
