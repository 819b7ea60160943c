/**
 * zod building blocks for the string rules of API.md §1/§10, shared by every
 * body schema: strings are trimmed, empty-after-trim counts as missing,
 * lengths count Unicode code points, U+0000 is refused, emails are trimmed
 * and lower-cased.
 */
import * as z from "zod";

export const codePoints = (s: string) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

const REQUIRED = "This field is required.";

/** A string, minus NUL, trimmed (unless `verbatim`), and within [min, max] code points. */
function text(min: number, max: number, options: { verbatim?: boolean } = {}) {
  const base = z
    .string({ error: (issue) => (issue.input === undefined || issue.input === null ? REQUIRED : "Must be a string.") })
    .refine((s) => !s.includes("\u0000"), { message: "Must not contain the NUL character (U+0000).", abort: true });
  const trimmed = options.verbatim ? base : base.trim();
  return trimmed
    .refine((s) => s.length > 0, { message: REQUIRED, abort: true })
    .refine((s) => codePoints(s) >= min, `Must be at least ${min} characters.`)
    .refine((s) => codePoints(s) <= max, `Must be at most ${max} characters.`);
}

/** A required string of `min`..`max` characters after trimming. */
export const requiredText = (max: number, min = 1) => text(min, max);

/** Passwords are taken verbatim: never trimmed. */
export const verbatimText = (min: number, max: number) => text(min, max, { verbatim: true });

/** A valid email address, trimmed and lower-cased, at most 254 characters. */
export const requiredEmail = () =>
  z
    .string({ error: (issue) => (issue.input === undefined || issue.input === null ? REQUIRED : "Must be a string.") })
    .trim()
    .toLowerCase()
    .refine((s) => s.length > 0, { message: REQUIRED, abort: true })
    .pipe(z.email("Must be a valid email address.").max(254, "Must be at most 254 characters."));
