import { describe, expect, it } from "vitest";
import { hashPassword, iterationsOf, verifyPassword } from "../../src/lib/password";
import { passwordProblems } from "../../src/lib/password-rules";

describe("hashPassword / verifyPassword", () => {
  it("round-trips, with a fresh salt each time", async () => {
    const [a, b] = await Promise.all([hashPassword("secret phrase", 1000), hashPassword("secret phrase", 1000)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword("secret phrase", a, 1000)).toEqual({ valid: true, needsUpgrade: false });
    expect(await verifyPassword("Secret phrase", a, 1000)).toEqual({ valid: false, needsUpgrade: false });
  });

  it("refuses more than 100,000 iterations, which production Workers reject", async () => {
    await expect(hashPassword("x", 100_001)).rejects.toThrow(RangeError);
    expect(iterationsOf(await hashPassword("x", 100_000))).toBe(100_000);
  });

  it("asks for an upgrade only after a successful check of an older hash", async () => {
    const old = await hashPassword("secret phrase", 1000);
    expect(await verifyPassword("secret phrase", old, 2000)).toEqual({ valid: true, needsUpgrade: true });
    expect(await verifyPassword("wrong phrase", old, 2000)).toEqual({ valid: false, needsUpgrade: false });
  });

  it("matches nothing for a missing or corrupt hash", async () => {
    for (const stored of [undefined, "", "md5$1$a$b", "pbkdf2_sha256$1000$!!!$???", "pbkdf2_sha256$999999999$AAAA$AAAA"]) {
      expect((await verifyPassword("", stored, 1000)).valid).toBe(false);
    }
  });
});

describe("passwordProblems", () => {
  it("lists each broken rule, case-insensitively", () => {
    expect(passwordProblems("12345678901", "a@b.c")).toEqual(["Must not be entirely numeric."]);
    expect(passwordProblems("xxJaneDoexx", "janedoe@example.com")).toEqual(["Must not contain your email address."]);
    expect(passwordProblems("SUNSHINE", "x@example.com")).toEqual(["Is too common."]);
    expect(passwordProblems("a quiet lighthouse", "jo@example.com")).toEqual([]);
  });
});
