/** Sign-in: an administrator's email and password through /api/auth/login/; anyone else is told so and nothing is kept. */
import { field, h, messageSlot } from "../dom";
import { ApiError, signIn } from "../session";

export function signInPage(root: HTMLElement, message: string | undefined, done: () => void) {
  const email = field("Email", h("input", { type: "email", name: "email", autocomplete: "username", required: true }));
  const password = field("Password", h("input", { type: "password", name: "password", autocomplete: "current-password", required: true }));
  const result = messageSlot();
  const submit = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "sign-in", "aria-labelledby": "sign-in-title" }, email.wrapper, password.wrapper, result.element, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.clear();
    submit.disabled = true;
    try {
      await signIn(email.control.value, password.control.value);
      done();
    } catch (error) {
      password.control.value = "";
      result.error(error instanceof ApiError ? error.detail : "The service could not be reached. Try again.");
      submit.disabled = false;
    }
  });
  root.replaceChildren(
    h(
      "main",
      { id: "main", class: "sign-in-page" },
      h("h1", { id: "sign-in-title", tabindex: -1 }, "Edge Health admin"),
      h("p", {}, "Sign in with an administrator's account."),
      message ? h("p", { class: "message info", role: "status" }, message) : null,
      form,
    ),
  );
  email.control.focus();
}
