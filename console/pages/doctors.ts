/**
 * Doctors: the directory (search, specialization filter, paging), and one
 * doctor's form for creating, editing (If-Match) and deleting — a doctor
 * still assigned to patients answers 409, shown beside the delete button.
 */
import type { InferRequestType } from "hono/client";
import { confirmAction, field, h, messageSlot, table } from "../dom";
import { ApiError, api, authorized, changedMeanwhile, problemOf } from "../session";
import { filterForm, heading, link, pageQuery, pager, setFlash, takeFlash, type View } from "../view";

type DoctorsQuery = InferRequestType<typeof api.doctors.$get>["query"];
const FILTERS = ["search", "specialization"] as const satisfies readonly (keyof DoctorsQuery)[];

export async function doctorsPage({ main, params }: View) {
  const reply = await authorized(() => api.doctors.$get({ query: pageQuery(params, FILTERS) }));
  if (reply.status !== 200) throw await problemOf(reply);
  const page = await reply.json();
  main.replaceChildren(
    heading("Doctors"),
    takeFlash() ?? "",
    h("p", {}, h("a", { href: link("/doctors/new"), class: "button" }, "Add a doctor")),
    filterForm(
      "/doctors",
      "Filter doctors",
      field("Name or specialization", h("input", { type: "search", name: "search", value: params.get("search") ?? "" })).wrapper,
      field("Specialization (exact)", h("input", { type: "text", name: "specialization", value: params.get("specialization") ?? "" }))
        .wrapper,
    ),
    table(
      "Doctors",
      ["Name", "Specialization", "License number", "Email", "Phone"],
      page.results.map((d) => [
        h("a", { href: link(`/doctors/${d.id}`) }, d.name),
        d.specialization,
        d.license_number ?? "—",
        d.email ?? "—",
        d.phone ?? "—",
      ]),
    ),
    pager("/doctors", params, page),
  );
}

const FIELDS = [
  ["name", "Name", "text", true],
  ["specialization", "Specialization", "text", true],
  ["license_number", "License number", "text", false],
  ["email", "Email", "email", false],
  ["phone", "Phone", "tel", false],
] as const;
type DoctorFields = Record<(typeof FIELDS)[number][0], string>;

export async function doctorPage(view: View, notice?: string): Promise<void> {
  const { main, id = "" } = view;
  const creating = id === "new";
  let etag = "";
  let doctor: Partial<Record<keyof DoctorFields, string | null>> = {};
  if (!creating) {
    const reply = await authorized(() => api.doctors[":id"].$get({ param: { id } }));
    if (reply.status !== 200) throw await problemOf(reply);
    doctor = await reply.json();
    etag = reply.headers.get("ETag") ?? "";
  }
  const reload = (text: string) => doctorPage(view, text).then(() => main.querySelector("h1")?.focus());

  const inputs = FIELDS.map(([name, label, type, required]) =>
    field(`${label}${required ? "" : " (optional)"}`, h("input", { type, name, required, value: doctor[name] ?? "" })),
  );
  const result = messageSlot();
  const form = h(
    "form",
    // The API's own rules decide (novalidate), so every message is the one the API gives, beside its field.
    { class: "doctor", "aria-label": creating ? "New doctor" : "Doctor", novalidate: true },
    ...inputs.map((i) => i.wrapper),
    result.element,
    h("button", { type: "submit" }, creating ? "Add doctor" : "Save changes"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.clear();
    for (const input of inputs) input.showError();
    const values = Object.fromEntries(inputs.map((i) => [i.control.name, i.control.value])) as DoctorFields;
    try {
      const reply = creating
        ? await authorized(() => api.doctors.$post({ json: values }))
        : await authorized(() => api.doctors[":id"].$put({ param: { id }, json: values }, { headers: { "If-Match": etag } }));
      if (changedMeanwhile(reply))
        return await reload("This doctor was changed by someone else; this is the current version. Your changes were not saved.");
      if (reply.status !== 200 && reply.status !== 201) throw await problemOf(reply);
      const saved = await reply.json();
      if (creating) {
        setFlash("Doctor added.");
        location.hash = link(`/doctors/${saved.id}`);
      } else await reload("Changes saved.");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      // Field errors beside their fields; the problem's detail beside the button.
      for (const input of inputs) input.showError(error.errors[input.control.name]?.join(" "));
      result.error(error.detail);
    }
  });

  const deletion = messageSlot();
  const deleteButton = h("button", { type: "button", class: "danger" }, "Delete doctor");
  deleteButton.addEventListener("click", async () => {
    deletion.clear();
    if (!(await confirmAction("Delete doctor", `${doctor.name} will be removed from the directory.`, "Delete doctor")))
      return deleteButton.focus();
    try {
      const reply = await authorized(() => api.doctors[":id"].$delete({ param: { id } }, { headers: { "If-Match": etag } }));
      if (changedMeanwhile(reply))
        return await reload("This doctor was changed by someone else; this is the current version. Nothing was deleted.");
      if (reply.status !== 204) throw await problemOf(reply);
      setFlash("Doctor deleted.");
      location.hash = link("/doctors");
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      deletion.error(error.detail);
      deleteButton.focus();
    }
  });

  main.replaceChildren(
    h("p", { class: "breadcrumb" }, h("a", { href: link("/doctors") }, "← Doctors")),
    heading(creating ? "New doctor" : (doctor.name ?? "Doctor")),
    notice ? h("p", { class: "message info", role: "status" }, notice) : (takeFlash() ?? ""),
    form,
    creating
      ? ""
      : h(
          "section",
          { class: "acts narrow", "aria-labelledby": "delete-title" },
          h("h2", { id: "delete-title" }, "Delete"),
          h("div", { class: "act" }, deleteButton, deletion.element),
        ),
  );
}
