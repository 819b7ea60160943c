/**
 * `npm run admin:create`, run as the operator would (a child process), in
 * Node against the local endpoint's real database.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { neon, neonConfig } from "@neondatabase/serverless";
import { describe, expect, inject, it } from "vitest";
import { verifyPassword } from "../../src/lib/password";

const run = promisify(execFile);
const DATABASE_URL = "postgres://local:local@127.0.0.1/main";
neonConfig.fetchEndpoint = inject("neonLocalEndpoint");
const sql = neon(DATABASE_URL);

async function adminCreate(args: string[], env: Record<string, string | undefined> = {}) {
  try {
    const { stdout, stderr } = await run("npx", ["tsx", "scripts/admin-create.ts", ...args], {
      env: { ...process.env, DATABASE_URL, NEON_LOCAL_ENDPOINT: inject("neonLocalEndpoint"), PASSWORD_ITERATIONS: "10000", ...env },
    });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

const userByEmail = async (email: string) => (await sql.query("SELECT * FROM users WHERE email = $1", [email]))[0];
const PASSWORD = "an admin pass phrase";

// Each case spawns the CLI through tsx (about a second a run, more on a busy machine).
describe("admin:create", { timeout: 60_000 }, () => {
  it("creates an administrator whose password verifies, and says so", async () => {
    const email = `admin-${randomUUID()}@example.com`;
    const { code, out } = await adminCreate(["--email", ` ${email.toUpperCase()} `, "--name", "Root"], { ADMIN_PASSWORD: PASSWORD });
    expect(code).toBe(0);
    expect(out).toMatch(/created the administrator/);
    const row = await userByEmail(email);
    expect(row).toMatchObject({ is_admin: true, name: "Root" });
    expect((await verifyPassword(PASSWORD, row.password_hash, 10000)).valid).toBe(true);
    expect(out).not.toContain(PASSWORD);
  });

  // Registration is open: whoever registers the intended admin email first must not be promoted by accident.
  it("refuses to promote an existing user without --promote, and refuses ADMIN_PASSWORD for one", async () => {
    const email = `squatter-${randomUUID()}@example.com`;
    await sql.query("INSERT INTO users (email, name, password_hash) VALUES ($1, 'U', 'keep-me')", [email]);
    const silent = await adminCreate(["--email", email, "--name", "Root"]);
    expect(silent.code).toBe(1);
    expect(silent.out).toMatch(/already has an account.*--promote/);
    const withPassword = await adminCreate(["--email", email, "--name", "Root", "--promote"], { ADMIN_PASSWORD: PASSWORD });
    expect(withPassword.code).toBe(1);
    expect(withPassword.out).toMatch(/ADMIN_PASSWORD/);
    expect(await userByEmail(email)).toMatchObject({ is_admin: false, password_hash: "keep-me" });
  });

  it("promotes an existing user with --promote without touching the password, and is idempotent", async () => {
    const email = `user-${randomUUID()}@example.com`;
    await sql.query("INSERT INTO users (email, name, password_hash) VALUES ($1, 'U', 'keep-me')", [email]);
    const first = await adminCreate(["--email", email, "--promote"]);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/promoted the existing user/);
    expect(await userByEmail(email)).toMatchObject({ is_admin: true, password_hash: "keep-me" });
    const again = await adminCreate(["--email", email, "--promote"]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/already an administrator; nothing changed/);
  });

  it("applies the registration rules and changes nothing when they fail", async () => {
    const email = `weak-${randomUUID()}@example.com`;
    for (const [password, message] of [
      ["password1", /too common/],
      ["1234567890", /numeric/],
      ["short", /at least 8/],
    ] as const) {
      const { code, out } = await adminCreate(["--email", email, "--name", "W"], { ADMIN_PASSWORD: password });
      expect(code).toBe(1);
      expect(out).toMatch(message);
    }
    expect(await userByEmail(email)).toBeUndefined();
    expect((await adminCreate(["--email", "not-an-email", "--name", "W"], { ADMIN_PASSWORD: PASSWORD })).code).toBe(1);
    expect(await adminCreate(["--email", `x-${randomUUID()}@example.com`], { ADMIN_PASSWORD: PASSWORD })).toMatchObject({
      code: 1,
      out: expect.stringMatching(/needs --name/),
    });
    expect(await adminCreate(["--email", email, "--name", "W"], { DATABASE_URL: "" })).toMatchObject({
      code: 1,
      out: expect.stringMatching(/DATABASE_URL/),
    });
  });
});
