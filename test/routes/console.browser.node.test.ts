/**
 * The administrator console (/admin/) in a real browser: headless Chromium
 * (Debian's package, driven by playwright-core) against `wrangler dev` and the
 * local database. An administrator signs in, finds a user by email,
 * deactivates them (their next API call answers 401), reactivates them,
 * grants and revokes administrator rights, signs them out everywhere; creates,
 * edits and deletes a doctor, including the 409 while a patient is still
 * assigned; filters the audit trail by the actor just used. A non-administrator
 * is refused and nothing is kept. Every page is checked with axe-core (no
 * serious or critical violation) and photographed at 1280 and 390 pixels wide
 * into artifacts/. Skipped where no Chromium is installed, except in CI.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { neon, neonConfig } from "@neondatabase/serverless";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { buildConsole, CONSOLE_SCRIPT } from "../../scripts/console-assets";
import { buildBundle } from "../../scripts/lib/bundle";
import { chromiumAvailable, launchChromium } from "../../scripts/lib/chromium";
import { startWorker } from "../../scripts/lib/wrangler-dev";

const available = chromiumAvailable("console browser test");
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const DATABASE_URL = "postgres://local:local@127.0.0.1/main";
const PASSWORD = "a console pass phrase";
const WIDTHS = [1280, 390] as const;

interface Violation {
  id: string;
  impact: string | null;
  nodes: string[];
}

describe.skipIf(!available)("the administrator console in Chromium", () => {
  let worker: { origin: string; stop: () => void } | undefined;
  let browser: Browser;
  let page: Page;
  let origin: string;
  const pageErrors: string[] = [];
  const axeFindings: Record<string, Violation[]> = {};
  const sql = () => neon(DATABASE_URL);
  const run = crypto.randomUUID().slice(0, 8);
  const people = {
    admin: { name: "Console Admin", email: `console-admin-${run}@example.com` },
    target: { name: "Terry Target", email: `console-target-${run}@example.com` },
    plain: { name: "Nora Plain", email: `console-plain-${run}@example.com` },
  };
  const ids: Record<keyof typeof people, string> = { admin: "", target: "", plain: "" };

  const send = async (method: string, path: string, body?: object, token?: string) =>
    fetch(`${origin}${path}`, {
      method,
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const login = async (email: string) => {
    const reply = await send("POST", "/api/auth/login/", { email, password: PASSWORD });
    expect(reply.status).toBe(200);
    return ((await reply.json()) as { access: string }).access;
  };

  /** axe-core on the page as it is (no serious or critical violation), and a screenshot at each width. */
  async function inspect(name: string) {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      // Injected through the debugging protocol: the page's own CSP (rightly) refuses any script not from its origin.
      await page.evaluate(AXE_SOURCE);
      const violations = (await page.evaluate(
        "axe.run(document).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })))",
      )) as Violation[];
      axeFindings[`${name}@${width}`] = violations;
      expect(violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
      await page.screenshot({ path: `artifacts/console-${name}-${width}.png`, fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  async function signIn(email: string) {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
  }
  const heading = (name: string | RegExp) => page.getByRole("heading", { level: 1, name });
  const section = (name: string) => page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name, exact: true });
  const info = () => page.locator("main .message.info");
  async function confirmIn(button: string) {
    await page.getByRole("button", { name: button, exact: true }).first().click();
    const dialog = page.getByRole("dialog");
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await dialog.getByRole("button", { name: button, exact: true }).click();
  }

  beforeAll(async () => {
    buildConsole();
    mkdirSync("artifacts", { recursive: true });
    neonConfig.fetchEndpoint = inject("neonLocalEndpoint");
    worker = await startWorker({
      NEON_LOCAL_ENDPOINT: inject("neonLocalEndpoint"),
      DATABASE_URL,
      JWT_SECRET: "console-test-secret-0123456789abcdef01234",
    });
    origin = worker.origin;
    for (const [key, person] of Object.entries(people) as [keyof typeof people, { name: string; email: string }][]) {
      const reply = await send("POST", "/api/auth/register/", { ...person, password: PASSWORD });
      expect(reply.status).toBe(201);
      ids[key] = ((await reply.json()) as { id: string }).id;
    }
    // What `npm run admin:create -- --promote` does, straight in the test database.
    await sql().query("UPDATE users SET is_admin = true WHERE id = $1", [ids.admin]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => {
      // The API's 4xx answers the console expects (409, 412, the refused sign-in) are logged by Chromium; a CSP refusal or a script error is not one of them.
      if (m.type() === "error" && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()))
        pageErrors.push(m.text());
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    worker?.stop();
    console.info(
      "[console browser test] axe violations by page (all impacts):",
      JSON.stringify(Object.fromEntries(Object.entries(axeFindings).map(([k, v]) => [k, v.map((x) => `${x.id}:${x.impact}`)]))),
    );
  });

  it("is served from static assets with a CSP that allows only this origin and no inline script", async () => {
    const reply = await fetch(`${origin}/admin/`);
    expect(reply.status).toBe(200);
    const csp = reply.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    const html = await reply.text();
    // Every script is a file from this origin.
    expect(html.match(/<script[^>]*>/g)).toEqual(['<script type="module" src="/admin/console.js">']);
    expect((await fetch(`${origin}/admin/console.js`)).headers.get("Content-Type")).toMatch(/javascript/);
  });

  it("adds nothing to the Worker bundle: the console ships only as static assets", () => {
    const marker = "admin-console.refresh"; // the console's sessionStorage key (console/session.ts)
    expect(readFileSync(CONSOLE_SCRIPT, "utf8")).toContain(marker);
    expect(readFileSync(buildBundle().path, "utf8")).not.toContain(marker);
  }, 120_000);

  it("refuses a non-administrator and keeps nothing", async () => {
    await page.goto(`${origin}/admin/`);
    await expect.poll(() => heading("Edge Health admin").isVisible(), { timeout: 30_000 }).toBe(true);
    await inspect("sign-in");
    await signIn(people.plain.email);
    const alert = page.getByRole("alert");
    await expect.poll(() => alert.textContent()).toMatch(/not an administrator/);
    expect(await page.evaluate("sessionStorage.length + localStorage.length")).toBe(0);
    await inspect("sign-in-refused");
  }, 60_000);

  it("signs an administrator in; the access token stays in memory", async () => {
    await signIn(people.admin.email);
    await expect.poll(() => heading("Dashboard").isVisible(), { timeout: 15_000 }).toBe(true);
    await expect.poll(() => page.locator(".stat").count()).toBe(8);
    expect(await page.evaluate("localStorage.length")).toBe(0);
    // Only the refresh token, in this tab's sessionStorage: an opaque string, not a JWT.
    const stored = JSON.stringify(await page.evaluate("({ ...sessionStorage })"));
    expect(stored).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
    await inspect("dashboard");
  }, 60_000);

  it("finds a user by email, deactivates them (their next call answers 401), reactivates, grants and revokes administrator", async () => {
    const targetToken = await login(people.target.email);
    expect((await send("GET", "/api/patients/", undefined, targetToken)).status).toBe(200);

    await section("Users").click();
    await expect.poll(() => heading("Users").isVisible()).toBe(true);
    await page.getByLabel("Name or email").fill(people.target.email);
    await page.getByRole("button", { name: "Apply" }).click();
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    await inspect("users");
    await rows.getByRole("link", { name: people.target.email }).click();
    await expect.poll(() => heading(people.target.email).isVisible()).toBe(true);
    await inspect("user");

    // By keyboard alone: the act's button opens its confirmation with focus inside; Escape cancels and gives focus back.
    await page.getByRole("button", { name: "Deactivate account" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("dialog").isVisible()).toBe(true);
    expect(await page.evaluate("document.activeElement.closest('dialog') !== null")).toBe(true);
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    expect(await page.evaluate("document.activeElement.textContent")).toBe("Deactivate account");

    // The confirmation, photographed once; Cancel changes nothing.
    await page.getByRole("button", { name: "Deactivate account" }).click();
    await expect.poll(() => page.getByRole("dialog").isVisible()).toBe(true);
    await inspect("user-confirm");
    await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();
    expect((await send("GET", "/api/patients/", undefined, targetToken)).status).toBe(200);

    await confirmIn("Deactivate account");
    await expect.poll(() => info().textContent()).toBe("Account deactivated.");
    expect((await send("GET", "/api/patients/", undefined, targetToken)).status).toBe(401);

    await confirmIn("Reactivate account");
    await expect.poll(() => info().textContent()).toBe("Account reactivated.");
    const isAdmin = async () => (await sql().query("SELECT is_admin FROM users WHERE id = $1", [ids.target]))[0].is_admin;
    await confirmIn("Grant administrator");
    await expect.poll(() => info().textContent()).toBe("Administrator rights granted.");
    expect(await isAdmin()).toBe(true);
    await confirmIn("Revoke administrator");
    await expect.poll(() => info().textContent()).toBe("Administrator rights revoked.");
    expect(await isAdmin()).toBe(false);

    const again = await login(people.target.email);
    await confirmIn("Sign out everywhere");
    await expect.poll(() => info().textContent()).toBe("Signed out everywhere.");
    expect((await send("GET", "/api/patients/", undefined, again)).status).toBe(401);
  }, 120_000);

  it("says when a user was changed by someone else (412) and reloads them; refuses an administrator's own deactivation (409) beside the button", async () => {
    const adminToken = await login(people.admin.email);
    expect((await send("PATCH", `/api/admin/users/${ids.target}/`, { name: "Terry Renamed" }, adminToken)).status).toBe(200);
    await confirmIn("Grant administrator");
    await expect.poll(() => info().textContent()).toMatch(/changed by someone else/);
    expect(await page.locator(".details").textContent()).toContain("Terry Renamed");

    await page.goto(`${origin}/admin/#/users/${ids.admin}`);
    await expect.poll(() => heading(people.admin.email).isVisible(), { timeout: 15_000 }).toBe(true);
    await confirmIn("Deactivate account");
    const beside = page.locator(".act").filter({ hasText: "Deactivate account" }).getByRole("alert");
    await expect.poll(() => beside.isVisible()).toBe(true);
    expect((await beside.textContent())?.length).toBeGreaterThan(0);
  }, 60_000);

  it("creates, edits and deletes a doctor, showing the 409 while a patient is still assigned", async () => {
    await section("Doctors").click();
    await expect.poll(() => heading("Doctors").isVisible()).toBe(true);
    await page.getByRole("link", { name: "Add a doctor" }).click();
    await expect.poll(() => heading("New doctor").isVisible()).toBe(true);
    await page.getByLabel("Name", { exact: true }).fill(`Dr. Console ${run}`);
    await page.getByLabel("Specialization", { exact: true }).fill("Cardiology");
    await page.getByLabel("License number (optional)").fill(`LIC-${run}`);
    await page.getByLabel("Email (optional)").fill("not an email");
    await page.getByRole("button", { name: "Add doctor" }).click();
    // The validation message beside the field that caused it.
    await expect.poll(() => page.locator(".field-error:visible").count()).toBe(1);
    await inspect("doctor-new-invalid");
    await page.getByLabel("Email (optional)").fill("");
    await page.getByRole("button", { name: "Add doctor" }).click();
    await expect.poll(() => heading(`Dr. Console ${run}`).isVisible()).toBe(true);
    expect(await info().textContent()).toBe("Doctor added.");
    const doctorId = new URL(page.url()).hash.split("/")[2];

    await page.getByLabel("Specialization", { exact: true }).fill("Cardiac Surgery");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => info().textContent()).toBe("Changes saved.");
    await inspect("doctor");

    // Another administrator changes it meanwhile: saving says so, reloads, and keeps their version.
    const otherAdmin = await login(people.admin.email);
    expect((await send("PATCH", `/api/doctors/${doctorId}/`, { phone: "+44 20 7946 0000" }, otherAdmin)).status).toBe(200);
    await page.getByLabel("Specialization", { exact: true }).fill("Neurology");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => info().textContent()).toMatch(/changed by someone else/);
    expect(await page.getByLabel("Phone (optional)").inputValue()).toBe("+44 20 7946 0000");
    expect(await page.getByLabel("Specialization", { exact: true }).inputValue()).toBe("Cardiac Surgery");

    // The directory: search finds it.
    await section("Doctors").click();
    await page.getByLabel("Name or specialization").fill(`Console ${run}`);
    await page.getByRole("button", { name: "Apply" }).click();
    const found = page.locator("tbody tr");
    await expect.poll(() => found.count()).toBe(1);
    await inspect("doctors");
    await found.getByRole("link", { name: `Dr. Console ${run}` }).click();
    await expect.poll(() => heading(`Dr. Console ${run}`).isVisible()).toBe(true);

    // Someone assigns the doctor to a patient: deleting now answers 409, shown beside the delete button.
    const plain = await login(people.plain.email);
    const patient = await send("POST", "/api/patients/", { name: "Pat Console", date_of_birth: "1980-02-03", gender: "female" }, plain);
    const patientId = ((await patient.json()) as { id: string }).id;
    const mapping = await send("POST", "/api/mappings/", { patient_id: patientId, doctor_id: doctorId }, plain);
    expect(mapping.status).toBe(201);
    await confirmIn("Delete doctor");
    const beside = page.locator(".act").getByRole("alert");
    await expect.poll(() => beside.textContent()).toMatch(/still assigned/);
    await inspect("doctor-delete-409");

    expect((await send("DELETE", `/api/mappings/${((await mapping.json()) as { id: string }).id}/`, undefined, plain)).status).toBe(204);
    await confirmIn("Delete doctor");
    await expect.poll(() => heading("Doctors").isVisible()).toBe(true);
    expect(await info().textContent()).toBe("Doctor deleted.");
    expect((await send("GET", `/api/doctors/${doctorId}/`, undefined, plain)).status).toBe(404);
  }, 120_000);

  it("filters the audit trail by the actor just used, and an id is a link that filters", async () => {
    await section("Audit trail").click();
    await expect.poll(() => heading("Audit trail").isVisible()).toBe(true);
    await page.getByLabel("Actor id").fill(ids.admin);
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.url()).toContain(`actor_id=${ids.admin}`);
    const actors = page.locator('tbody td[data-label="Actor"]');
    // Polled as a whole: the URL changes before the filtered table replaces the unfiltered one, so a count taken
    // in between can see the old table and the read after it none (a flake seen once in CI).
    await expect.poll(async () => [...new Set(await actors.allTextContents())]).toEqual([ids.admin]);
    // The deactivation above, with the field it changed (never its value).
    const deactivation = page.locator("tbody tr").filter({ hasText: ids.target }).filter({ hasText: "is_active" });
    await expect.poll(() => deactivation.count()).toBeGreaterThan(0);
    await inspect("audit");

    await deactivation.first().getByRole("link", { name: ids.target }).click();
    await expect.poll(() => page.url()).toContain(`resource_id=${ids.target}`);
    await expect.poll(() => page.getByLabel("Resource id").inputValue()).toBe(ids.target);
    const resources = page.locator('tbody td[data-label="Resource id"]');
    await expect.poll(async () => new Set(await resources.allTextContents())).toEqual(new Set([ids.target]));

    // Paging: the whole trail (this file's requests alone make more than a page of 20), newest first.
    await page.getByRole("link", { name: "Clear" }).click();
    const pages = page.getByRole("navigation", { name: "Pages" });
    await expect.poll(() => pages.textContent()).toMatch(/^1–20 of \d+Next →$/);
    const firstPageTimes = await page.locator('tbody td[data-label="Time"]').allTextContents();
    await pages.getByRole("link", { name: "Next →" }).click();
    await expect.poll(() => pages.textContent()).toMatch(/^← Previous21–\d+ of \d+/);
    expect(page.url()).toContain("offset=20");
    const secondPageTimes = await page.locator('tbody td[data-label="Time"]').allTextContents();
    expect(secondPageTimes[0] <= firstPageTimes[firstPageTimes.length - 1]).toBe(true);
  }, 60_000);

  it("returns to sign-in when the session is ended elsewhere (401)", async () => {
    const other = await login(people.admin.email);
    expect((await send("DELETE", `/api/admin/users/${ids.admin}/sessions/`, undefined, other)).status).toBe(204);
    await section("Dashboard").click();
    await expect.poll(() => heading("Edge Health admin").isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.getByRole("status").first().textContent()).toMatch(/session has ended/);
    expect(await page.evaluate("sessionStorage.length + localStorage.length")).toBe(0);
  }, 30_000);

  it("signs out through /api/auth/logout/ and keeps nothing; no CSP refusal or script error on the way", async () => {
    await signIn(people.admin.email);
    await expect.poll(() => heading("Dashboard").isVisible(), { timeout: 15_000 }).toBe(true);
    const refresh = (await page.evaluate("Object.values(sessionStorage)[0]")) as string;
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => heading("Edge Health admin").isVisible()).toBe(true);
    expect(await page.evaluate("sessionStorage.length + localStorage.length")).toBe(0);
    // The server ended the session too: its refresh token no longer works.
    expect((await send("POST", "/api/auth/refresh/", { refresh })).status).toBe(401);
    expect(pageErrors).toEqual([]);
  }, 30_000);
});
