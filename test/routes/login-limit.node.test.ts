/**
 * The login limit under real concurrency (docs/SECURITY.md): the deployable
 * bundle in four workerd instances (Miniflare) on one database, and wrong
 * passwords for one email sent to all of them at once. However the requests
 * interleave, at most LOGIN_MAX_FAILURES (10) passwords may be checked; the
 * rest must be refused with 429 before any hashing. The same counter bounds
 * guesses of the current password at POST /api/auth/password/.
 */
import type { Miniflare } from "miniflare";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startBundleInstances } from "../../scripts/lib/bundle";

const INSTANCES = 4;
const ATTEMPTS = 60;
const LIMIT = 10;

describe("login limit across Worker instances", () => {
  let instances: Miniflare[] = [];
  let origins: string[] = [];

  beforeAll(async () => {
    // No rate-limiting bindings here: the per-IP limit must not be what stops these requests.
    ({ instances, origins } = await startBundleInstances(INSTANCES, {
      NEON_LOCAL_ENDPOINT: inject("neonLocalEndpoint"),
      DATABASE_URL: "postgres://local:local@127.0.0.1/main",
      JWT_SECRET: "login-limit-secret-0123456789abcdef0123456789",
      ALLOWED_HOSTS: "*",
    }));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(instances.map((mf) => mf.dispose()));
  });

  const post = (origin: string, path: string, body: unknown) =>
    fetch(`${origin}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

  it(`checks at most ${LIMIT} of ${ATTEMPTS} wrong passwords sent at once over ${INSTANCES} instances`, { timeout: 60_000 }, async () => {
    const email = `limit-${crypto.randomUUID()}@example.com`;
    const password = "the right pass phrase";
    expect((await post(origins[0], "/api/auth/register/", { name: "Limit", email, password })).status).toBe(201);

    const statuses = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) =>
        post(origins[i % INSTANCES], "/api/auth/login/", { email, password: `wrong guess ${i}` }).then(async (res) => {
          await res.body?.cancel();
          return res.status;
        }),
      ),
    );
    const checked = statuses.filter((s) => s === 401).length;
    const refused = statuses.filter((s) => s === 429).length;
    expect(checked + refused, "every answer is a 401 or a 429").toBe(ATTEMPTS);
    expect(checked, "passwords checked").toBeLessThanOrEqual(LIMIT);
    expect(checked, "some passwords are checked at all").toBeGreaterThan(0);
    // And the right password is refused too, until the window passes.
    expect((await post(origins[1], "/api/auth/login/", { email, password })).status).toBe(429);
  });

  it(`tells at most ${LIMIT} of ${ATTEMPTS} wrong current passwords apart at the password change, sent at once`, {
    timeout: 60_000,
  }, async () => {
    const email = `limit-${crypto.randomUUID()}@example.com`;
    const password = "the right pass phrase";
    expect((await post(origins[0], "/api/auth/register/", { name: "Limit", email, password })).status).toBe(201);
    const { access } = (await (await post(origins[0], "/api/auth/login/", { email, password })).json()) as { access: string };
    const change = (origin: string, current_password: string) =>
      fetch(`${origin}/api/auth/password/`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${access}` },
        body: JSON.stringify({ current_password, new_password: "a brand new passphrase" }),
      });

    const statuses = await Promise.all(
      Array.from({ length: ATTEMPTS }, (_, i) =>
        change(origins[i % INSTANCES], `wrong guess ${i}`).then(async (res) => {
          await res.body?.cancel();
          return res.status;
        }),
      ),
    );
    const told = statuses.filter((s) => s === 400).length;
    expect(told + statuses.filter((s) => s === 429).length, "every answer is a 400 or a 429").toBe(ATTEMPTS);
    expect(told, "wrong guesses told apart").toBeLessThanOrEqual(LIMIT);
    expect(told, "some guesses are answered at all").toBeGreaterThan(0);
    // The right password learns nothing past the limit, and login is limited by the same count.
    expect((await change(origins[2], password)).status).toBe(429);
    expect((await post(origins[3], "/api/auth/login/", { email, password })).status).toBe(429);
  });
});
