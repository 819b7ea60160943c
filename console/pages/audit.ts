/**
 * The audit trail: every filter of /api/audit/, newest first, paging. An
 * actor or resource id is a link that filters the trail by it.
 */
import type { InferRequestType } from "hono/client";
import { field, h, select, table, when } from "../dom";
import { api, authorized, problemOf } from "../session";
import { filterForm, heading, link, pageQuery, pager, type View } from "../view";

type AuditQuery = InferRequestType<typeof api.audit.$get>["query"];
/** Every value of a filter, checked against the route's own query type: a value missing here, or one the API does not take, fails the type check. */
const every =
  <T extends string>() =>
  <const V extends readonly T[]>(values: V & ([Exclude<T, V[number]>] extends [never] ? unknown : { missing: Exclude<T, V[number]> })) =>
    values;
const RESOURCE_TYPES = every<NonNullable<AuditQuery["resource_type"]>>()(["patient", "mapping", "user"]);
const ACTIONS = every<NonNullable<AuditQuery["action"]>>()(["create", "read", "update", "delete", "list", "revoke", "sync"]);
const OUTCOMES = every<NonNullable<AuditQuery["outcome"]>>()([
  "success",
  "not_found",
  "conflict",
  "precondition_failed",
  "replayed",
  "key_mismatch",
]);
const FILTERS = [
  "actor_id",
  "resource_type",
  "resource_id",
  "action",
  "outcome",
  "since",
  "until",
] as const satisfies readonly (keyof AuditQuery)[];

const choices = (values: readonly string[]) => [["", "Any"] as const, ...values.map((v) => [v, v.replace("_", " ")] as const)];
/** A datetime-local value (no zone) read as UTC, as its label says; anything else is passed on for the API to judge. */
const utc = (value: string) => (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$/.test(value) ? `${value}${value.length === 16 ? ":00" : ""}Z` : value);

export async function auditPage({ main, params }: View) {
  const query = pageQuery(params, FILTERS);
  for (const name of ["since", "until"] as const) if (query[name]) query[name] = utc(query[name]);
  const controls = {
    actor_id: field("Actor id", h("input", { type: "text", name: "actor_id", value: params.get("actor_id") ?? "", spellcheck: "false" })),
    resource_type: field("Resource type", select("resource_type", choices(RESOURCE_TYPES), params.get("resource_type") ?? "")),
    resource_id: field(
      "Resource id",
      h("input", { type: "text", name: "resource_id", value: params.get("resource_id") ?? "", spellcheck: "false" }),
    ),
    action: field("Action", select("action", choices(ACTIONS), params.get("action") ?? "")),
    outcome: field("Outcome", select("outcome", choices(OUTCOMES), params.get("outcome") ?? "")),
    since: field("Since (UTC)", h("input", { type: "datetime-local", name: "since", value: params.get("since") ?? "" })),
    until: field("Until (UTC)", h("input", { type: "datetime-local", name: "until", value: params.get("until") ?? "" })),
  };
  const form = filterForm("/audit", "Filter the audit trail", ...Object.values(controls).map((c) => c.wrapper));
  main.replaceChildren(heading("Audit trail"), form);

  // Choice values come from the URL as typed; the API judges them (400 beside the filter).
  const reply = await authorized(() => api.audit.$get({ query: query as AuditQuery }));
  if (reply.status === 400) {
    // A bad filter: its message beside the filter that caused it.
    const problem = await problemOf(reply);
    for (const [name, control] of Object.entries(controls)) control.showError(problem.errors[name]?.join(" "));
    main.append(h("p", { class: "message error", role: "alert" }, problem.detail));
    return;
  }
  if (reply.status !== 200) throw await problemOf(reply);
  const page = await reply.json();
  const filterLink = (name: "actor_id" | "resource_id", id: string | null) =>
    id ? h("a", { href: link("/audit", { [name]: id }), class: "id", title: `Only events with this ${name.replace("_", " ")}` }, id) : "—";
  main.append(
    table(
      "Audit events, newest first",
      ["Time", "Actor", "Action", "Resource", "Resource id", "Outcome", "Fields changed"],
      page.results.map((e) => [
        when(e.occurred_at),
        filterLink("actor_id", e.actor_id),
        e.action,
        e.resource_type,
        filterLink("resource_id", e.resource_id),
        e.outcome.replace("_", " "),
        e.fields?.join(", ") ?? "—",
      ]),
    ),
    pager("/audit", params, page),
  );
}
