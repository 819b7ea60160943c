/** The dashboard: the service's counts from /api/admin/stats/ (counts only, no patient data). */
import { h } from "../dom";
import { api, authorized, problemOf } from "../session";
import { heading, link, takeFlash, type View } from "../view";

export async function dashboardPage({ main }: View) {
  const reply = await authorized(() => api.admin.stats.$get());
  if (reply.status !== 200) throw await problemOf(reply);
  const stats = await reply.json();
  const card = (label: string, value: number, href?: string) =>
    h("div", { class: "stat" }, h("dt", {}, href ? h("a", { href }, label) : label), h("dd", {}, value.toLocaleString("en")));
  main.replaceChildren(
    heading("Dashboard"),
    takeFlash() ?? "",
    h(
      "dl",
      { class: "stats" },
      card("Users", stats.users.total, link("/users")),
      card("Active users", stats.users.active, link("/users", { is_active: "true" })),
      card("Administrators", stats.users.admins, link("/users", { is_admin: "true" })),
      card("Patients", stats.patients),
      card("Doctors", stats.doctors, link("/doctors")),
      card("Assignments", stats.mappings),
      card("Audit events, last 24 h", stats.audit_events_24h, link("/audit")),
      card("Failed sign-ins, last 24 h", stats.failed_logins_24h),
    ),
  );
}
