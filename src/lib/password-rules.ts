/**
 * The password rules of docs/BEHAVIOUR.md: 8–128 characters, not entirely digits,
 * not containing the email's local part (when it has 3+ characters), not a
 * common password. Comparisons ignore case; the password itself is never
 * trimmed or altered.
 */
import { COMMON_PASSWORDS } from "./common-passwords";
import { codePoints } from "./fields";

let common: Set<string> | undefined;
const isCommon = (password: string) => {
  common ??= new Set(COMMON_PASSWORDS.split("\n"));
  return common.has(password.toLowerCase());
};

/** Problems with `password` for the account `email`, as messages; empty when it is acceptable. */
export function passwordProblems(password: string, email: string): string[] {
  const problems: string[] = [];
  if (/^\d+$/.test(password)) problems.push("Must not be entirely numeric.");
  const localPart = email.split("@")[0]?.toLowerCase() ?? "";
  if (codePoints(localPart) >= 3 && password.toLowerCase().includes(localPart)) problems.push("Must not contain your email address.");
  if (isCommon(password)) problems.push("Is too common.");
  return problems;
}
