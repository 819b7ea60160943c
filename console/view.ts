/** What every page gets, and the pieces pages share: links that carry filters in the URL's fragment, and paging. */
import { h } from "./dom";

export interface View {
  /** Where the page draws itself. */
  main: HTMLElement;
  /** The query part of the fragment (`#/users?search=ann` → search=ann): filters survive reloads and are links. */
  params: URLSearchParams;
  /** The id in `#/users/<id>`, if any. */
  id?: string;
}

/** `#/path?query`, leaving out empty parameters. */
export function link(path: string, params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => !!e[1]));
  return `#${path}${query.size ? `?${query}` : ""}`;
}

/** The page's heading; it takes focus on navigation, so a screen reader announces the new page. */
export const heading = (text: string) => h("h1", { tabindex: -1 }, text);

/** A message the next page shows once (e.g. "Doctor deleted." after leaving the deleted doctor's page). */
let flash: string | undefined;
export const setFlash = (text: string) => {
  flash = text;
};
export function takeFlash(): HTMLElement | null {
  const text = flash;
  flash = undefined;
  return text ? h("p", { class: "message info", role: "status" }, text) : null;
}

export const PAGE_SIZE = 20;

/**
 * The filters of a list page as the query an API list route takes, plus its
 * paging. Pages pass names checked against the route's query type, so a
 * renamed filter fails the type check.
 */
export function pageQuery<const N extends string>(params: URLSearchParams, names: readonly N[]) {
  const query: Record<string, string> = { limit: String(PAGE_SIZE), offset: params.get("offset") ?? "0" };
  for (const name of names) {
    const value = params.get(name);
    if (value) query[name] = value;
  }
  return query as { limit: string; offset: string } & Partial<Record<N, string>>;
}

/** "21–40 of 137" with Previous/Next links that keep the filters. */
export function pager(path: string, params: URLSearchParams, page: { count: number; next: string | null; previous: string | null }) {
  const offset = Number(params.get("offset") ?? "0");
  const at = (to: number) => {
    const next = new URLSearchParams(params);
    next.set("offset", String(Math.max(0, to)));
    return `#${path}?${next}`;
  };
  const shown = page.count === 0 ? "No results" : `${offset + 1}–${Math.min(offset + PAGE_SIZE, page.count)} of ${page.count}`;
  return h(
    "nav",
    { class: "pager", "aria-label": "Pages" },
    page.previous ? h("a", { href: at(offset - PAGE_SIZE), rel: "prev" }, "← Previous") : null,
    h("span", { "aria-live": "polite" }, shown),
    page.next ? h("a", { href: at(offset + PAGE_SIZE), rel: "next" }, "Next →") : null,
  );
}

/** A filter form that, on submit, moves to `path` with its non-empty fields as the fragment's query (from the first page). */
export function filterForm(path: string, label: string, ...fields: HTMLElement[]): HTMLFormElement {
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": label },
    ...fields,
    h(
      "div",
      { class: "filter-actions" },
      h("button", { type: "submit" }, "Apply"),
      h("a", { href: `#${path}`, class: "button secondary" }, "Clear"),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values: Record<string, string> = {};
    for (const [name, value] of new FormData(form)) if (typeof value === "string" && value.trim()) values[name] = value.trim();
    location.hash = link(path, values);
  });
  return form;
}
