/**
 * The administrator console (/admin/): a single page whose views are chosen
 * by the URL's fragment (#/users?search=…), so every filter is a link and a
 * reload keeps it. Served from static assets with a CSP that allows only this
 * origin's script; built by scripts/console-assets.ts.
 */
import { h } from "./dom";
import { auditPage } from "./pages/audit";
import { dashboardPage } from "./pages/dashboard";
import { doctorPage, doctorsPage } from "./pages/doctors";
import { signInPage } from "./pages/sign-in";
import { userPage, usersPage } from "./pages/users";
import { ApiError, resume, SessionEnded, signedIn, signOut } from "./session";
import type { View } from "./view";

const SECTIONS = [
  { path: "/", label: "Dashboard" },
  { path: "/users", label: "Users" },
  { path: "/doctors", label: "Doctors" },
  { path: "/audit", label: "Audit trail" },
] as const;

const ROUTES: Record<string, { title: string; list?: (view: View) => Promise<void>; one?: (view: View) => Promise<void> }> = {
  "/": { title: "Dashboard", list: dashboardPage },
  "/users": { title: "Users", list: usersPage, one: userPage },
  "/doctors": { title: "Doctors", list: doctorsPage, one: doctorPage },
  "/audit": { title: "Audit trail", list: auditPage },
};

const root = document.getElementById("app") as HTMLElement;

function parseHash() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?", 2);
  const parts = (path || "/").split("/").filter(Boolean);
  return { section: `/${parts[0] ?? ""}`, id: parts[1], params: new URLSearchParams(query) };
}

function shell(section: string): HTMLElement {
  const main = h("main", { id: "main" });
  const me = signedIn();
  root.replaceChildren(
    h("a", { href: "#main", class: "skip-link" }, "Skip to content"),
    h(
      "header",
      { class: "top" },
      h("p", { class: "brand" }, "Edge Health admin"),
      h(
        "nav",
        { "aria-label": "Sections" },
        h(
          "ul",
          {},
          ...SECTIONS.map((s) => h("li", {}, h("a", { href: `#${s.path}`, "aria-current": s.path === section ? "page" : false }, s.label))),
        ),
      ),
      h(
        "div",
        { class: "account" },
        h("span", { class: "who" }, me?.email ?? ""),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            onclick: async () => {
              await signOut();
              showSignIn("You are signed out.");
            },
          },
          "Sign out",
        ),
      ),
    ),
    main,
  );
  return main;
}

function showSignIn(message?: string) {
  document.title = "Sign in — Edge Health admin";
  signInPage(root, message, () => {
    if (location.hash === "" || location.hash === "#/") void render();
    else location.hash = "#/";
  });
}

async function render(): Promise<void> {
  if (!signedIn()) return showSignIn();
  const { section, id, params } = parseHash();
  const route = ROUTES[section] ?? ROUTES["/"];
  const page = id ? route.one : route.list;
  const main = shell(section);
  document.title = `${route.title} — Edge Health admin`;
  main.append(h("p", { class: "loading", role: "status" }, "Loading…"));
  try {
    await page?.({ main, params, id });
    main.querySelector("h1")?.focus();
  } catch (error) {
    if (error instanceof SessionEnded) return showSignIn(error.message);
    main.replaceChildren(
      h("h1", { tabindex: -1 }, "Something went wrong"),
      h(
        "p",
        { class: "message error", role: "alert" },
        error instanceof ApiError ? error.detail : "The service could not be reached. Try again.",
      ),
    );
  }
}

window.addEventListener("hashchange", () => void render());
// A session that ends during an act (a button's request answered 401 even after a refresh) also returns to sign-in.
window.addEventListener("unhandledrejection", (event) => {
  if (!(event.reason instanceof SessionEnded)) return;
  event.preventDefault();
  showSignIn(event.reason.message);
});

// A reload keeps the tab's session (its refresh token is in sessionStorage); anything else starts at sign-in.
resume().then(
  () => render(),
  (error) => showSignIn(error instanceof ApiError || error instanceof SessionEnded ? error.message : undefined),
);
