/**
 * Per-client-IP limits on the auth routes (docs/SECURITY.md), through the
 * rate-limiting bindings wrangler.toml declares (Miniflare runs them in
 * memory, in fixed windows). Each test uses addresses of its own. Limits are
 * wrangler.toml's: 20 a minute for register and login (PBKDF2 work), 300 a
 * minute for refresh. A window may end mid-test, so each sends more than
 * twice the limit and expects some 429s rather than an exact count.
 */
import { describe, expect, it } from "vitest";
import { clientKey } from "../../src/middleware/rate-limit";
import { call, expectProblem, jsonRequest, uniqueEmail } from "../helpers";

const randomByte = () => Math.floor(Math.random() * 256);
const randomIpv4 = () => `10.${randomByte()}.${randomByte()}.${randomByte()}`;

/** Sends `count` requests to `path` from `ip(i)`, one after another; returns the statuses. */
async function burst(path: string, count: number, ip: (i: number) => string, body: () => unknown = () => ({})) {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const res = await call(path, jsonRequest("POST", body(), { "CF-Connecting-IP": ip(i) }));
    if (res.status === 429) {
      await expectProblem(res, 429);
      expect(res.headers.get("Retry-After")).toMatch(/^[1-9]\d*$/);
    } else await res.body?.cancel();
    statuses.push(res.status);
  }
  return statuses;
}

const refused = (statuses: number[]) => statuses.filter((s) => s === 429).length;

describe("per-IP limits", () => {
  it("refuse register and login beyond the limit from one address, whatever the email, with 429 and Retry-After", async () => {
    const ip = randomIpv4();
    const statuses = await burst("/api/auth/register/", 25, () => ip);
    // One password sprayed over many emails: the per-email limit never trips.
    const login = await burst(
      "/api/auth/login/",
      20,
      () => ip,
      () => ({ email: uniqueEmail("spray"), password: "Summer2026!" }),
    );
    // Register and login share one budget: 45 requests cannot all fit in two windows of 20.
    expect(refused([...statuses, ...login])).toBeGreaterThanOrEqual(5);
    // Another address is not affected.
    expect(await burst("/api/auth/register/", 1, () => randomIpv4())).toEqual([400]);
  });

  it("treat an IPv6 /64 as one client", async () => {
    const prefix = `2001:db8:${randomByte().toString(16)}:${randomByte().toString(16)}`;
    const statuses = await burst("/api/auth/login/", 45, (i) => `${prefix}::${(i + 1).toString(16)}`);
    expect(refused(statuses)).toBeGreaterThanOrEqual(5);
  });

  it("key IPv6 addresses by their /64 however they are spelled, IPv4 by the address", () => {
    const key = clientKey("2001:db8:a:b::1");
    expect(clientKey("2001:0DB8:000a:000b:ffff::2")).toBe(key);
    expect(clientKey("2001:db8:a:b:1:2:3:4")).toBe(key);
    expect(clientKey("2001:db8:a:c::1")).not.toBe(key);
    expect(clientKey("::ffff:192.0.2.1")).not.toBe(clientKey("::ffff:192.0.2.2"));
    expect(clientKey("192.0.2.1")).toBe("192.0.2.1");
  });

  it("refuse refresh beyond its own, higher limit", async () => {
    const ip = randomIpv4();
    const statuses = await burst("/api/auth/refresh/", 605, () => ip);
    expect(refused(statuses)).toBeGreaterThanOrEqual(5);
    expect(statuses.slice(0, 300)).not.toContain(429);
  });
});
