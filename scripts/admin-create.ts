/**
 * `npm run admin:create -- --email … [--name …] [--promote]` (docs/BEHAVIOUR.md):
 * creates an administrator in the database DATABASE_URL names (with NEON_LOCAL_ENDPOINT
 * for the `npm run dev` database). A new account's password is read from
 * ADMIN_PASSWORD or asked for on the terminal, and must pass the same rules
 * as registration. An existing account is promoted only with --promote, and
 * never with ADMIN_PASSWORD: registration is open, so the account may belong
 * to whoever registered that email first, with a password of their choosing.
 */
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import * as z from "zod";
import { MAX_PBKDF2_ITERATIONS } from "../src/lib/config.ts";
import { requiredEmail, requiredText, verbatimText } from "../src/lib/fields.ts";
import { hashPassword } from "../src/lib/password.ts";
import { passwordProblems } from "../src/lib/password-rules.ts";
import { openSql } from "./lib/sql.ts";

function fail(message: string): never {
  console.error(`admin:create: ${message}`);
  process.exit(1);
}

function firstError(result: z.ZodSafeParseResult<unknown>): string {
  return result.success ? "" : (result.error.issues[0]?.message ?? "invalid");
}

/** Reads a line without echoing it. */
function askHidden(prompt: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    rl.question(prompt, (answer) => {
      rl.close();
      process.stdout.write("\n");
      resolve(answer);
    });
    output._writeToOutput = () => {};
    process.stdout.write(prompt);
  });
}

async function readPassword(email: string): Promise<string> {
  let password = process.env.ADMIN_PASSWORD;
  if (password === undefined) {
    if (!process.stdin.isTTY) fail("no terminal to ask for the password on: set ADMIN_PASSWORD");
    password = await askHidden("Password for the new administrator: ");
    if ((await askHidden("Repeat it: ")) !== password) fail("the two passwords differ; nothing was changed");
  }
  const length = verbatimText(8, 128).safeParse(password);
  if (!length.success) fail(`password: ${firstError(length)}`);
  const problems = passwordProblems(password, email);
  if (problems.length > 0) fail(`password: ${problems.join(" ")}`);
  return password;
}

const { values } = parseArgs({ options: { email: { type: "string" }, name: { type: "string" }, promote: { type: "boolean" } } });
const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl || !/^postgres(ql)?:\/\//.test(databaseUrl)) fail("set DATABASE_URL to the database's postgres:// URL");
const email = requiredEmail().safeParse(values.email);
if (!email.success) fail(`--email: ${firstError(email)}`);

const db = await openSql(databaseUrl, process.env.NEON_LOCAL_ENDPOINT);
try {
  const [existing] = await db.query<{ id: string; is_admin: boolean }>("SELECT id, is_admin FROM users WHERE lower(email) = $1", [
    email.data,
  ]);
  if (existing && process.env.ADMIN_PASSWORD !== undefined) {
    fail(
      `${email.data} already has an account (user ${existing.id}), whose password this command never sets: unset ADMIN_PASSWORD; nothing was changed`,
    );
  }
  if (existing?.is_admin) {
    console.log(`admin:create: ${email.data} (user ${existing.id}) is already an administrator; nothing changed`);
  } else if (existing) {
    if (!values.promote) {
      fail(
        `${email.data} already has an account (user ${existing.id}) that is not an administrator. Anyone can register, so make sure it is the intended person's, then run again with --promote (its password stays as it is); nothing was changed`,
      );
    }
    await db.query("UPDATE users SET is_admin = true, updated_at = now() WHERE id = $1", [existing.id]);
    console.log(`admin:create: promoted the existing user ${email.data} (user ${existing.id}) to administrator; password unchanged`);
  } else {
    const name = requiredText(150).safeParse(values.name);
    if (!name.success) fail(`no user has this email, so a new one needs --name: ${firstError(name)}`);
    const password = await readPassword(email.data);
    const iterations = z.coerce
      .number()
      .int()
      .min(10_000)
      .max(MAX_PBKDF2_ITERATIONS)
      .default(MAX_PBKDF2_ITERATIONS)
      .parse(process.env.PASSWORD_ITERATIONS);
    const passwordHash = await hashPassword(password, iterations);
    const [created] = await db.query<{ id: string }>(
      "INSERT INTO users (email, name, password_hash, is_admin) VALUES ($1, $2, $3, true) ON CONFLICT DO NOTHING RETURNING id",
      [email.data, name.data, passwordHash],
    );
    if (!created) fail("a user with this email was created meanwhile; nothing was changed");
    console.log(`admin:create: created the administrator ${email.data} (user ${created.id})`);
  }
} finally {
  await db.close();
}
