/**
 * Strong ETags from a resource's version counter, and the If-Match /
 * If-None-Match rules of docs/BEHAVIOUR.md. If-Match is not checked here: it is
 * turned into a condition the write's own WHERE clause tests, so a stale tag
 * loses even against a concurrent writer.
 */
export const etagOf = (version: number) => `"${version}"`;

/** Tags in a list header (`"1", W/"2"`), as written. */
const tagsOf = (header: string) =>
  header
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);

/**
 * The versions an If-Match header accepts: `undefined` for no condition
 * (header absent, or `*`, which matches any existing resource); otherwise a
 * Postgres int[] literal, empty when no tag could match (weak or malformed
 * tags never do: If-Match compares strongly).
 */
export function ifMatchVersions(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const tags = tagsOf(header);
  if (tags.includes("*")) return undefined;
  // Compared as text: `"01"` is not `"1"`. Versions start at 1 and have no leading zeros.
  const versions = tags.flatMap((t) => /^"([1-9]\d{0,8})"$/.exec(t)?.[1] ?? []);
  return `{${versions.join(",")}}`;
}

/** Whether If-None-Match names the current representation (weak comparison, `*` matches). */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return tagsOf(header).some((t) => t === "*" || t.replace(/^W\//, "") === etag);
}
