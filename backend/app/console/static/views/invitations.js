// Invitations: the team's (invite, pending list, withdraw) and my own (accept, decline).

import * as client from "../api.js";
import { busy, button, errorSlot, field, h, nextId, when } from "../dom.js";

export function inviteForm(ctx, base, may) {
  const email = field("Email to invite", { name: "invite_email", type: "email", required: true });
  const roleId = nextId("role");
  const role = h("select", { id: roleId, name: "role" },
    h("option", { value: "member" }, "member"),
    may("invitations:create_admin") ? h("option", { value: "admin" }, "admin") : null);
  const submit = h("button", { type: "submit" }, "Send invitation");
  const error = errorSlot(email.input);
  const form = h("form", { class: "card inline-form", "aria-labelledby": "invite-title" },
    h("h2", { id: "invite-title" }, "Invite by email"),
    h("p", { class: "muted" }, "They get a link, and join when they accept — with an account they have or create."),
    email.wrap, h("div", { class: "field" }, h("label", { for: roleId }, "Role"), role), submit, error);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, error, async () => {
      await client.api("POST", `${base}/invitations`, { email: email.input.value, role: role.value });
      ctx.say(`An invitation was sent to ${email.input.value}.`);
      ctx.go("team");
    });
  });
  return form;
}

export async function pendingList(ctx, base, may) {
  const pending = await client.all(`${base}/invitations?status=pending`);
  if (!pending.length) return null;
  const list = h("ul", { class: "list", "aria-label": "Pending invitations" });
  for (const invitation of pending) {
    const row = h("li", { class: "row" },
      h("div", { class: "grow" }, h("strong", {}, invitation.email), " ", h("span", { class: "badge" }, invitation.role),
        h("p", { class: "muted small" }, "invited ", when(invitation.created_at), " · expires ", when(invitation.expires_at))));
    if (may("invitations:revoke")) {
      const withdraw = button("Withdraw", null, { "aria-label": `Withdraw the invitation of ${invitation.email}` });
      const error = errorSlot(withdraw);
      withdraw.addEventListener("click", () => busy(withdraw, error, async () => {
        await client.api("DELETE", `${base}/invitations/${invitation.id}`);
        ctx.say(`The invitation of ${invitation.email} was withdrawn.`);
        ctx.go("team");
      }));
      row.append(withdraw, error);
    }
    list.append(row);
  }
  return h("section", { "aria-labelledby": "pending-title" }, h("h2", { id: "pending-title" }, "Pending invitations"), list);
}

// Invitations addressed to me (listed only once my email is verified).
export async function mine(ctx) {
  const invitations = await client.all("/invitations");
  if (!invitations.length) return null;
  const list = h("ul", { class: "list", "aria-label": "Invitations for you" });
  for (const invitation of invitations) {
    const name = invitation.organization_name || "an organization";
    const accept = button("Accept", null, { "aria-label": `Accept the invitation to ${name}` });
    const decline = button("Decline", null, { "aria-label": `Decline the invitation to ${name}` });
    const error = errorSlot(accept);
    accept.addEventListener("click", () => busy(accept, error, async () => {
      const joined = await client.api("POST", `/invitations/${invitation.id}/accept`);
      ctx.say(`You joined ${name} as ${joined.role}.`);
      await ctx.enter(joined.organization_id);
    }));
    decline.addEventListener("click", () => busy(decline, error, async () => {
      await client.api("POST", `/invitations/${invitation.id}/decline`);
      ctx.go("orgs");
    }));
    list.append(h("li", { class: "row" },
      h("div", { class: "grow" }, h("strong", {}, name), " as ", h("span", { class: "badge" }, invitation.role)),
      h("div", { class: "actions" }, accept, decline), error));
  }
  return h("section", { "aria-labelledby": "mine-title" }, h("h2", { id: "mine-title" }, "Invitations for you"), list);
}
