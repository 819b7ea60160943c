/**
 * zod building blocks for the string rules of docs/BEHAVIOUR.md, shared by every
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

/** A UTF-16 surrogate without its partner: not Unicode text, and Postgres could not store it as it came. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Text Postgres stores exactly as sent: no U+0000, no lone surrogate. */
export const storable = (s: string) => !s.includes("\u0000") && !LONE_SURROGATE.test(s);
const NOT_STORABLE = "Must not contain U+0000 or unpaired surrogates.";

/** A string, minus NUL, trimmed (unless `verbatim`), and within [min, max] code points. */
function text(min: number, max: number, options: { verbatim?: boolean } = {}) {
  const base = z
    .string({ error: (issue) => (issue.input === undefined || issue.input === null ? REQUIRED : "Must be a string.") })
    .refine(storable, { message: NOT_STORABLE, abort: true });
  const trimmed = options.verbatim ? base : base.trim();
  return trimmed
    .refine((s) => s.length > 0, { message: REQUIRED, abort: true })
    .refine((s) => codePoints(s) >= min, `Must be at least ${min} characters.`)
    .refine((s) => codePoints(s) <= max, `Must be at most ${max} characters.`)
    .meta({ minLength: min, maxLength: max });
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
    .pipe(z.email("Must be a valid email address.").max(254, "Must be at most 254 characters."))
    .meta({ format: "email", maxLength: 254 });

/** Turns undefined/empty-after-trim into null; absent stays undefined (PATCH leaves it alone). */
const orNull = <T extends z.ZodType<string | null, string>>(schema: T) =>
  z
    .union([z.null(), schema])
    .optional()
    .transform((v) => (v === "" ? null : v));

/** An optional string of at most `max` characters; empty or null → null. */
export const optionalText = (max: number) =>
  orNull(
    z
      .string({ error: "Must be a string or null." })
      .refine(storable, { message: NOT_STORABLE, abort: true })
      .trim()
      .refine((s) => codePoints(s) <= max, `Must be at most ${max} characters.`)
      .meta({ maxLength: max }),
  );

/** An optional email, trimmed and lower-cased; empty or null → null. */
export const optionalEmail = () =>
  orNull(
    z
      .string({ error: "Must be a string or null." })
      .trim()
      .toLowerCase()
      .pipe(z.union([z.literal(""), z.email("Must be a valid email address.").max(254, "Must be at most 254 characters.")]))
      .meta({ format: "email", maxLength: 254 }),
  );

/** An optional phone number: 7–32 of digits, spaces, `+`, `-`, `(`, `)`; empty or null → null. */
export const optionalPhone = () =>
  orNull(
    z
      .string({ error: "Must be a string or null." })
      .trim()
      .refine((s) => s === "" || /^[0-9 +()-]{7,32}$/.test(s), "Must be 7–32 characters of digits, spaces, +, -, ( and ).")
      .meta({ pattern: "^\\s*[0-9 +()-]{7,32}\\s*$", examples: ["+44 20 7946 0000"] }),
  );

/** A required value from a fixed list. */
export const requiredChoice = <const T extends readonly [string, ...string[]]>(values: T) =>
  z
    .string({ error: (issue) => (issue.input === undefined || issue.input === null ? REQUIRED : "Must be a string.") })
    .trim()
    .pipe(z.enum(values, { error: `Must be one of: ${values.join(", ")}.` }))
    .meta({ enum: [...values] });

const isCalendarDate = (s: string) => {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(s);
};

/** A calendar date `YYYY-MM-DD` that exists, within [from, today in UTC]. */
export const requiredPastDate = (from: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined || issue.input === null ? REQUIRED : "Must be a date (YYYY-MM-DD).") })
    .trim()
    .refine((s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && isCalendarDate(s), {
      message: "Must be a date (YYYY-MM-DD).",
      abort: true,
    })
    .refine((s) => s >= from, `Must not be before ${from}.`)
    .refine((s) => s <= new Date().toISOString().slice(0, 10), "Must not be in the future.")
    .meta({ format: "date", description: `From ${from} to today (UTC).` });
