/**
 * Users: the list (search, filters, ordering, paging) and one account's
 * page with its lifecycle acts, each behind a confirmation and sent with
 * If-Match so an act never lands on a version the administrator did not see.
 */
import type { InferRequestType } from "hono/client";
import { confirmAction, field, h, messageSlot, select, table, when } from "../dom";
import { ApiError, api, authorized, changedMeanwhile, problemOf } from "../session";
import { filterForm, heading, link, pageQuery, pager, takeFlash, type View } from "../view";

type UsersQuery = InferRequestType<typeof api.admin.users.$get>["query"];
// Values come from the URL as typed; the API judges them.
const FILTERS = ["search", "is_active", "is_admin", "ordering"] as const satisfies readonly (keyof UsersQuery)[];
const yesNo = (value: boolean) => (value ? "Yes" : "No");

export async function usersPage({ main, params }: View) {
  const reply = await authorized(() => api.admin.users.$get({ query: pageQuery(params, FILTERS) as UsersQuery }));
  if (reply.status !== 200) throw await problemOf(reply);
  const page = await reply.json();
  const search = h("input", { type: "search", name: "search", value: params.get("search") ?? "" });
  main.replaceChildren(
    heading("Users"),
    takeFlash() ?? "",
    filterForm(
      "/users",
      "Filter users",
      field("Name or email", search).wrapper,
      field(
        "Status",
        select(
          "is_active",
          [
            ["", "Any"],
            ["true", "Active"],
            ["false", "Deactivated"],
          ],
          params.get("is_active") ?? "",
        ),
      ).wrapper,
      field(
        "Role",
        select(
          "is_admin",
          [
            ["", "Any"],
            ["true", "Administrators"],
            ["false", "Not administrators"],
          ],
          params.get("is_admin") ?? "",
        ),
      ).wrapper,
      field(
        "Order by",
        select(
          "ordering",
          [
            ["", "Oldest first"],
            ["-created_at", "Newest first"],
            ["email", "Email"],
            ["name", "Name"],
            ["-last_login_at", "Last sign-in, recent first"],
          ],
          params.get("ordering") ?? "",
        ),
      ).wrapper,
    ),
    table(
      "Users",
      ["Email", "Name", "Status", "Administrator", "Last sign-in", "Patients"],
      page.results.map((u) => [
        h("a", { href: link(`/users/${u.id}`) }, u.email),
        u.name,
        u.is_active ? "Active" : "Deactivated",
        yesNo(u.is_admin),
        when(u.last_login_at),
        u.patient_count,
      ]),
    ),
    pager("/users", params, page),
  );
}

export async function userPage(view: View, notice?: string): Promise<void> {
  const { main, id = "" } = view;
  const reply = await authorized(() => api.admin.users[":id"].$get({ param: { id } }));
  if (reply.status !== 200) throw await problemOf(reply);
  const user = await reply.json();
  const etag = reply.headers.get("ETag") ?? "";
  const reload = (text: string) => userPage(view, text).then(() => main.querySelector("h1")?.focus());

  /** One act: its button, a confirmation, the request, and the outcome beside the button. */
  const act = (label: string, question: string, send: () => Promise<{ status: number; json(): Promise<unknown> }>, doneText: string) => {
    const result = messageSlot();
    const button = h("button", { type: "button" }, label);
    button.addEventListener("click", async () => {
      result.clear();
      if (!(await confirmAction(label, question, label))) return button.focus();
      try {
        const answer = await authorized(send);
        if (changedMeanwhile(answer))
          return await reload("This user was changed by someone else; this is the current version. Nothing was changed.");
        if (answer.status >= 400) throw await problemOf(answer);
        await reload(doneText);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        result.error(error.detail);
        button.focus();
      }
    });
    return h("div", { class: "act" }, button, result.element);
  };
  const patch = (json: { is_active?: boolean; is_admin?: boolean }) => () =>
    api.admin.users[":id"].$patch({ param: { id }, json }, { headers: { "If-Match": etag } });

  main.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: link("/users") }, "← Users")),
    heading(user.email),
    notice ? h("p", { class: "message info", role: "status" }, notice) : "",
    h(
      "dl",
      { class: "details" },
      ...[
        ["Name", user.name],
        ["Email", user.email],
        ["Status", user.is_active ? "Active" : "Deactivated"],
        ["Administrator", yesNo(user.is_admin)],
        ["Registered", when(user.created_at)],
        ["Last sign-in", when(user.last_login_at)],
        ["Id", user.id],
      ].flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]),
    ),
    h(
      "p",
      { class: "links" },
      h("a", { href: link("/audit", { actor_id: user.id }) }, "What this user did"),
      h("a", { href: link("/audit", { resource_id: user.id }) }, "Administrative acts on this user"),
    ),
    h(
      "section",
      { class: "acts", "aria-labelledby": "acts-title" },
      h("h2", { id: "acts-title" }, "Actions"),
      user.is_active
        ? act(
            "Deactivate account",
            `${user.email} will be signed out everywhere and can no longer sign in.`,
            patch({ is_active: false }),
            "Account deactivated.",
          )
        : act(
            "Reactivate account",
            `${user.email} will be able to sign in again (earlier sessions stay ended).`,
            patch({ is_active: true }),
            "Account reactivated.",
          ),
      user.is_admin
        ? act(
            "Revoke administrator",
            `${user.email} will no longer be an administrator.`,
            patch({ is_admin: false }),
            "Administrator rights revoked.",
          )
        : act(
            "Grant administrator",
            `${user.email} will become an administrator, with access to this console and the audit trail.`,
            patch({ is_admin: true }),
            "Administrator rights granted.",
          ),
      act(
        "Sign out everywhere",
        `Every session of ${user.email} ends now, on every device.`,
        () => api.admin.users[":id"].sessions.$delete({ param: { id } }),
        "Signed out everywhere.",
      ),
    ),
  );
}
