// Sign-in: one field where a person pastes a token (`runbook token create NAME --role ROLE`).
// The server answers with an HttpOnly, SameSite=Strict session cookie; the token itself is
// never kept by the page.
import { signIn } from "../api.js";
import { fill, h } from "../dom.js";

export function signInPage(view, { signedIn }) {
  const token = h("input", { id: "token", name: "token", type: "password", autocomplete: "off", required: true, size: 50, placeholder: "rbk_…" });
  const error = h("p", { class: "error", role: "alert" });
  const form = h(
    "form",
    {
      class: "card narrow",
      onsubmit: async (e) => {
        e.preventDefault();
        fill(error);
        try {
          signedIn(await signIn(token.value.trim()));
        } catch (err) {
          fill(error, err.message);
          token.select();
        }
      },
    },
    h("h1", {}, "Sign in"),
    h("label", { for: "token" }, "API token"),
    token,
    h("p", { class: "muted" }, "Paste a token made with ", h("code", {}, "runbook token create NAME --role viewer|operator|admin"), "."),
    h("button", { type: "submit" }, "Sign in"),
    error,
  );
  fill(view, form);
  token.focus();
}
