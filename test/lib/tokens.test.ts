/**
 * The access-token check's per-isolate memory of verified tokens
 * (src/lib/tokens.ts): a remembered token still expires on time, a changed
 * setting is not served from it, and a forged token never gets in through it.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { signAccessToken, verifyAccessToken } from "../../src/lib/tokens";

const config = {
  JWT_SECRET: "tokens-test-secret-0123456789abcdef0123456789",
  JWT_ISSUER: "edge-health-api",
  JWT_AUDIENCE: "edge-health-api",
  JWT_ACCESS_MINUTES: 15,
} as Parameters<typeof signAccessToken>[1];
const userId = "3b5b0a6c-b70c-4394-8c52-2cdf2092de9c";

describe("verified access tokens, remembered per isolate", () => {
  afterEach(() => vi.useRealTimers());

  it("stops accepting a remembered token the second it expires", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date("2026-12-02T10:00:00Z"));
    const { token } = await signAccessToken(userId, config);
    expect(await verifyAccessToken(token, config)).toMatchObject({ userId });
    // Remembered now; still good a second before its expiry…
    vi.setSystemTime(new Date("2026-12-02T10:14:59Z"));
    expect(await verifyAccessToken(token, config)).toMatchObject({ userId });
    // …and refused at it, as a fresh check would.
    vi.setSystemTime(new Date("2026-12-02T10:15:00Z"));
    expect(await verifyAccessToken(token, config)).toBeUndefined();
    expect(await verifyAccessToken(token, config)).toBeUndefined();
  });

  it("does not serve a token remembered under one secret, issuer or audience to another", async () => {
    const { token } = await signAccessToken(userId, config);
    expect(await verifyAccessToken(token, config)).toMatchObject({ userId });
    expect(await verifyAccessToken(token, { ...config, JWT_SECRET: `${config.JWT_SECRET}-rotated` })).toBeUndefined();
    expect(await verifyAccessToken(token, { ...config, JWT_ISSUER: "another-environment" })).toBeUndefined();
    expect(await verifyAccessToken(token, { ...config, JWT_AUDIENCE: "another-environment" })).toBeUndefined();
  });

  it("never remembers a token that failed, nor accepts one altered after another was remembered", async () => {
    const { token } = await signAccessToken(userId, config);
    expect(await verifyAccessToken(token, config)).toBeDefined();
    const [header, payload, signature] = token.split(".");
    const forged = `${header}.${payload}.${signature.slice(0, -2)}${signature.at(-2) === "A" ? "B" : "A"}${signature.at(-1)}`;
    expect(await verifyAccessToken(forged, config)).toBeUndefined();
    expect(await verifyAccessToken(forged, config)).toBeUndefined();
  });
});
