// Log in and register.

import * as client from "../api.js";
import { busy, errorSlot, field, h } from "../dom.js";

export async function renderLogin(root, ctx) {
  const email = field("Email", { name: "email", type: "email", autocomplete: "username", required: true, autofocus: true });
  const password = field("Password", {
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const submit = h("button", { type: "submit" }, "Log in");
  const error = errorSlot(submit);
  const form = h("form", { class: "card narrow", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Log in"),
    email.wrap, password.wrap, submit, error,
    h("p", {}, h("a", { href: "#/reset-password" }, "Forgot your password?")),
    h("p", {}, "New here? ", h("a", { href: "#/register" }, "Create an account")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await busy(submit, error, async () => {
      await client.logIn(email.input.value, password.input.value);
      return true;
    });
    if (done) await ctx.loggedIn();
  });
  root.append(form);
}

export async function renderRegister(root, ctx) {
  const email = field("Email", { name: "email", type: "email", autocomplete: "email", required: true, autofocus: true });
  const name = field("Your name", { name: "display_name", autocomplete: "name", required: true, maxlength: 100 });
  const password = field("Password (at least 12 characters)", {
    name: "password",
    type: "password",
    autocomplete: "new-password",
    required: true,
    minlength: 12,
  });
  const org = field("Organization name (optional)", { name: "organization_name", maxlength: 100 });
  const submit = h("button", { type: "submit" }, "Create account");
  const error = errorSlot(submit);
  const form = h("form", { class: "card narrow", "aria-labelledby": "register-title" },
    h("h1", { id: "register-title" }, "Create an account"),
    email.wrap, name.wrap, password.wrap, org.wrap, submit, error,
    h("p", {}, "Already have an account? ", h("a", { href: "#/login" }, "Log in")),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await busy(submit, error, async () => {
      const body = {
        email: email.input.value,
        password: password.input.value,
        display_name: name.input.value,
      };
      if (org.input.value.trim()) body.organization_name = org.input.value.trim();
      // Invited: the account joins at once (the email must be the invited one).
      if (ctx.pendingInvitation) body.invitation_token = ctx.pendingInvitation;
      const created = await client.publicCall("POST", "/auth/register", body);
      ctx.pendingInvitation = null;
      await client.logIn(body.email, body.password, created.organization ? created.organization.id : null);
      return true;
    });
    if (done) await ctx.loggedIn();
  });
  root.append(form);
}
