// Links from email: verify an address, reset a password, answer an invitation.

import * as client from "../api.js";
import { busy, button, errorSlot, field, h } from "../dom.js";

const TOKEN_WORDS = "This link is invalid, already used or expired. Ask for a new one.";

function tokenError(error) {
  return error.code === "invalid_token" ? TOKEN_WORDS : error;
}

export async function renderVerify(root, ctx, params) {
  const token = params.get("token");
  root.append(h("h1", {}, "Verify your email"));
  const out = h("p", { role: "status" });
  const error = errorSlot(null);
  root.append(out, error);
  if (!token) {
    out.textContent = "Open the link from your email to verify your address.";
    return;
  }
  try {
    const result = await client.publicCall("POST", "/auth/verify-email", { token });
    out.textContent = `${result.email} is verified.`;
    if (client.loggedIn()) await ctx.reload();
    root.append(h("p", {}, h("a", { href: client.loggedIn() ? "#/orgs" : "#/login" }, "Continue to the console")));
  } catch (e) {
    error.textContent = e.code === "invalid_token" ? TOKEN_WORDS : e.detail;
    error.hidden = false;
  }
}

export async function renderReset(root, ctx, params) {
  const token = params.get("token");
  const card = h("form", { class: "card narrow", "aria-labelledby": "reset-title" });
  root.append(card);
  if (!token) {
    const email = field("Email", { name: "email", type: "email", autocomplete: "username", required: true, autofocus: true });
    const submit = h("button", { type: "submit" }, "Send me a link");
    const error = errorSlot(submit);
    const sent = h("p", { role: "status" });
    card.append(h("h1", { id: "reset-title" }, "Reset your password"), email.wrap, submit, error, sent,
      h("p", {}, h("a", { href: "#/login" }, "Back to log in")));
    card.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(submit, error, async () => {
        await client.publicCall("POST", "/auth/password-reset", { email: email.input.value });
        sent.textContent = "If an account uses this address, a link to reset its password is on its way.";
      });
    });
    return;
  }
  const password = field("New password (at least 12 characters)", {
    name: "new_password", type: "password", autocomplete: "new-password", required: true, minlength: 12, autofocus: true,
  });
  const submit = h("button", { type: "submit" }, "Set the new password");
  const error = errorSlot(submit);
  card.append(h("h1", { id: "reset-title" }, "Choose a new password"),
    h("p", { class: "muted" }, "Every session of your account ends; log in again afterwards."), password.wrap, submit, error);
  card.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, error, async () => {
      try {
        await client.publicCall("POST", "/auth/password-reset/confirm", { token, new_password: password.input.value });
      } catch (e) {
        throw tokenError(e);
      }
      ctx.say("Your password was changed. Log in with the new one.");
      ctx.go("login");
    });
  });
}

// An invitation link: accept or decline once logged in (the token waits in memory meanwhile).
export async function renderInvitation(root, ctx, params) {
  const token = params.get("token") || ctx.pendingInvitation;
  root.append(h("h1", {}, "An invitation"));
  if (!token) {
    root.append(h("p", {}, "Open the link from your invitation email."));
    return;
  }
  if (!client.loggedIn()) {
    ctx.pendingInvitation = token;
    root.append(
      h("p", {}, "Log in with the invited email address, or create an account with it, to answer the invitation."),
      h("p", {}, h("a", { href: "#/login" }, "Log in"), " · ", h("a", { href: "#/register" }, "Create an account")),
    );
    return;
  }
  const accept = button("Accept the invitation", null);
  const decline = button("Decline", null, { class: "secondary" });
  const error = errorSlot(accept);
  accept.addEventListener("click", () => busy(accept, error, async () => {
    let joined;
    try {
      joined = await client.api("POST", "/invitations/accept", { token });
    } catch (e) {
      throw tokenError(e);
    }
    ctx.pendingInvitation = null;
    ctx.say(`You joined as ${joined.role}.`);
    await ctx.enter(joined.organization_id);
  }));
  decline.addEventListener("click", () => busy(decline, error, async () => {
    try {
      await client.api("POST", "/invitations/decline", { token });
    } catch (e) {
      throw tokenError(e);
    }
    ctx.pendingInvitation = null;
    ctx.say("You declined the invitation.");
    ctx.go("orgs");
  }));
  root.append(h("p", {}, "You were invited to join an organization."), h("div", { class: "actions" }, accept, decline), error);
}
