/**
 * The docs page in a real browser: headless Chromium (Debian's package,
 * driven by playwright-core) opens /api/docs/ from `wrangler dev`, waits for
 * the operations, checks every tag is there, uses "Try it out" with a bearer
 * token against the running service, and saves a screenshot under
 * artifacts/. Skipped, with a message, where no Chromium is installed —
 * except in CI (`CI` set), where a missing browser fails the file.
 */
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { copyDocsAssets } from "../../scripts/docs-assets";
import { chromiumAvailable, launchChromium } from "../../scripts/lib/chromium";
import { startWorker } from "../../scripts/lib/wrangler-dev";
import { registeredRoutes } from "../../src/lib/registry";
import { resources } from "../../src/resources";

const available = chromiumAvailable("docs browser test");
// What the registry documents: every tagged resource's routes.
const TAGS = resources.flatMap((r) => ("tag" in r ? [r.tag.name] : []));
const OPERATIONS = registeredRoutes(resources.filter((r) => "tag" in r)).length;

describe.skipIf(!available)("the docs page in Chromium", () => {
  let worker: { origin: string; stop: () => void } | undefined;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    copyDocsAssets();
    worker = await startWorker({
      NEON_LOCAL_ENDPOINT: inject("neonLocalEndpoint"),
      DATABASE_URL: "postgres://local:local@127.0.0.1/main",
      JWT_SECRET: "browser-test-secret-0123456789abcdef0123",
    });
    origin = worker.origin;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(m.text());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    worker?.stop();
  });

  it("renders every operation group from the service's own assets, without errors", async () => {
    await page.goto(`${origin}/api/docs/`);
    await page.waitForSelector(".opblock", { timeout: 30_000 });
    const tags = await page.locator(".opblock-tag").allTextContents();
    for (const tag of TAGS) expect(tags.some((t) => t.trim().toLowerCase().startsWith(tag))).toBe(true);
    expect(await page.locator(".opblock").count()).toBe(OPERATIONS);
    // No CSP violation, no failed script: everything came from this origin.
    expect(pageErrors).toEqual([]);
    mkdirSync("artifacts", { recursive: true });
    await page.screenshot({ path: "artifacts/docs.png", fullPage: false });
  }, 60_000);

  it('runs "Try it out" against the service with a bearer token', async () => {
    const email = `browser-${crypto.randomUUID()}@example.com`;
    const password = "a browser pass phrase";
    const post = (path: string, body: object) =>
      fetch(`${origin}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    expect((await post("/api/auth/register/", { name: "Browser", email, password })).status).toBe(201);
    const { access } = (await (await post("/api/auth/login/", { email, password })).json()) as { access: string };

    await page.click("button.authorize");
    await page.fill(".modal-ux input[type=text]", access);
    await page.click(".modal-ux button.authorize");
    await page.click(".modal-ux button.btn-done");

    const me = page.locator("#operations-auth-getMe");
    await me.locator(".opblock-summary").click();
    await me.locator("button.try-out__btn").click();
    await me.locator("button.execute").click();
    const status = me.locator(".live-responses-table tbody .response-col_status").first();
    await expect.poll(async () => (await status.textContent())?.trim(), { timeout: 15_000 }).toBe("200");
    expect(await me.locator(".live-responses-table .microlight").first().textContent()).toContain(email);
    // The bearer token lives in the page's memory only: nothing another script or a later visitor could read back.
    expect(await page.evaluate("JSON.stringify({ ...localStorage, ...sessionStorage })")).not.toContain(access);
    await page.screenshot({ path: "artifacts/docs-try-it.png" });
  }, 60_000);
});
