/**
 * A few DOM helpers instead of a framework: the console is small, and plain
 * elements keep its script a few kilobytes with nothing to load from elsewhere.
 */

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/** An element with attributes (`on…` keys are listeners; false/null/undefined attributes are left out) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (typeof value === "function") element.addEventListener(key.slice(2).toLowerCase(), value);
    else if (value === true) element.setAttribute(key, "");
    else if (value !== false && value !== null && value !== undefined) element.setAttribute(key, String(value));
  }
  element.append(
    ...children
      .filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false)
      .map((c) => (typeof c === "number" ? String(c) : c)),
  );
  return element;
}

let nextId = 0;
/** A document-unique id, for label/aria-describedby pairs. */
export const uid = (prefix: string) => `${prefix}-${++nextId}`;

/** A labelled form control: label, the control, and a slot for its error (linked by aria-describedby). */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement,
  hint?: string,
): { wrapper: HTMLElement; control: HTMLInputElement | HTMLSelectElement; showError: (message?: string) => void } {
  const id = uid("field");
  control.id = id;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  const hintElement = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  control.setAttribute("aria-describedby", [hintElement ? `${id}-hint` : "", `${id}-error`].join(" ").trim());
  const wrapper = h("div", { class: "field" }, h("label", { for: id }, label), control, hintElement, error);
  return {
    wrapper,
    control,
    showError(message) {
      error.hidden = !message;
      error.textContent = message ?? "";
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
    },
  };
}

/** A `<select>` of [value, label] pairs with `selected` chosen. */
export function select(name: string, options: readonly (readonly [string, string])[], selected = ""): HTMLSelectElement {
  return h("select", { name }, ...options.map(([value, label]) => h("option", { value, selected: value === selected }, label)));
}

/** A message slot beside a control: an API error's `detail` appears here, announced to screen readers. */
export function messageSlot(): { element: HTMLElement; error: (text: string) => void; info: (text: string) => void; clear: () => void } {
  const element = h("p", { class: "message", hidden: true });
  const show = (text: string, kind: "error" | "info") => {
    element.className = `message ${kind}`;
    element.setAttribute("role", kind === "error" ? "alert" : "status");
    element.textContent = text;
    element.hidden = false;
  };
  return {
    element,
    error: (text) => show(text, "error"),
    info: (text) => show(text, "info"),
    clear: () => {
      element.hidden = true;
      element.textContent = "";
    },
  };
}

/**
 * Asks before a consequential act, in a modal <dialog> (focus moves into it,
 * Escape cancels). Resolves true only for the confirm button.
 */
export function confirmAction(title: string, text: string, confirmLabel: string): Promise<boolean> {
  const titleId = uid("dialog-title");
  const textId = uid("dialog-text");
  const dialog = h("dialog", { "aria-labelledby": titleId, "aria-describedby": textId, class: "confirm" });
  return new Promise((resolve) => {
    const done = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.append(
      h("h2", { id: titleId }, title),
      h("p", { id: textId }, text),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => done(false) }, "Cancel"),
        h("button", { type: "button", class: "danger", onclick: () => done(true) }, confirmLabel),
      ),
    );
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      done(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A timestamp as `YYYY-MM-DD HH:MM UTC`: the same for every administrator, whatever their time zone. */
export const when = (iso: string | null) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : "never");

/** A table whose cells carry their column's name, so narrow screens can show each row as a card; nothing when there are no rows (the pager says so). */
export function table(caption: string, columns: readonly string[], rows: readonly Child[][]): HTMLElement | string {
  if (rows.length === 0) return "";
  return h(
    "table",
    {},
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, ...rows.map((cells) => h("tr", {}, ...cells.map((cell, i) => h("td", { "data-label": columns[i] }, cell))))),
  );
}
